"""Which webhook events a finished audit raises, and their payloads (README.md, "Webhooks").

Events come from the summary stored at completion (hardening.engine.summaries: its drift since the
previous audit, which compares each check with the last audit that decided it, and its `health`):
- new_failures: checks failing now that were not failing when last decided, and failures that stay
  but gained evidence (`changed_failures`: e.g. a second mail forward under NET-NAT-002); waived
  results are not surprises and raise nothing;
- new_errors: checks that could be decided before and now cannot (a device or channel failed: a
  router whose password stopped working), each naming the device and the reason;
- resolved: failures that now pass, and errors that cleared (the device answers again);
- audit_error: the audit itself did not complete.
Every payload names the site and links the audit, its results and its report with absolute URLs
built from PUBLIC_BASE_URL; without one, the links are null and `links_note` says why.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

EVENTS = ("new_failures", "new_errors", "resolved", "audit_error")
BASE_URL_SETTING = "PUBLIC_BASE_URL (env AWXH_PUBLIC_BASE_URL)"


def public_base(base_url: str | None) -> tuple[str | None, str | None]:
    """(the base URL without a trailing slash, None) or (None, why there are no absolute links)."""
    value = (base_url or "").strip()
    if not value:
        return None, f"{BASE_URL_SETTING} is not set: no absolute links (set it to this appliance's URL)"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment or any(c.isspace() or ord(c) < 0x20 for c in value):
        return None, f"{BASE_URL_SETTING} is not an absolute http(s) URL without credentials, query or fragment"
    return value.rstrip("/"), None


def audit_links(base_url: str | None, site_id: int, audit_id: int) -> dict[str, Any]:
    """The payload's link fields: audit_url and links (absolute), or nulls and links_note."""
    base, note = public_base(base_url)
    if base is None:
        return {"audit_url": None, "links": None, "links_note": note}
    audit = f"{base}/api/v1/audits/{audit_id}"
    return {"audit_url": audit, "links_note": None, "links": {
        "audit": audit, "results": f"{audit}/results", "report": f"{audit}/report",
        "site_status": f"{base}/api/v1/sites/{site_id}/status"}}


_KINDS = {"allworx_server": "server", "allworx_phone": "phone", "px_expander": "Px Expander"}


def _device(entry: dict[str, Any], newly: dict[str, Any]) -> dict[str, Any]:
    failed = {name: ch.get("reason") for name, ch in (entry.get("channels") or {}).items()
              if isinstance(ch, dict) and ch.get("state") == "failed"}
    return {"device_id": entry.get("device_id"), "name": entry.get("name"), "kind": entry.get("kind"),
            "address": entry.get("address"), "reached": entry.get("reached"), "reason": entry.get("reason"),
            "failed_channels": failed, "newly_failed_channels": newly}


def _label(device: dict[str, Any]) -> str:
    kind = _KINDS.get(device.get("kind") or "", device.get("kind") or "device")
    return f"{kind} {device.get('name') or device.get('address') or device.get('device_id')}"


def _account(channels: dict[str, Any]) -> str:
    return "; ".join(f"{why} ({channel})" for channel, why in channels.items())


def _reason(item: dict[str, Any], device: dict[str, Any] | None) -> str:
    """Why this check is undecidable now: the device channels that failed since the previous audit and
    that the result names (by channel or by reason: "web: auth failure ...", "...: authentication
    failed"), else the result's own message (e.g. a spent credential-test budget), else the device's."""
    message = item.get("message") or ""
    newly = device["newly_failed_channels"] if device is not None else {}
    low = message.lower()
    named = [c for c in newly if f"{c}:" in message or (newly[c] and str(newly[c]).lower() in low)]
    if named:
        return _account({c: newly[c] for c in named})
    return message or (device or {}).get("reason") or "could not decide"


def new_errors(items: list[dict[str, Any]], health: list[dict[str, Any]] | None,
               channels_failed: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The new_errors payload part: each error with its device (from the audit's health) and the reason,
    the devices involved, and one line per device ("router gw: authentication failed (ssh)")."""
    entries = {h.get("device_id"): h for h in health or [] if isinstance(h, dict)}
    newly: dict[Any, dict[str, Any]] = {}
    for channel in channels_failed or []:
        newly.setdefault(channel.get("device_id"), {})[channel.get("channel")] = channel.get("reason")
    errors, involved = [], {}
    for item in items:
        entry = entries.get(item.get("device_id"))
        device = _device(entry, newly.get(item.get("device_id"), {})) if entry is not None else None
        errors.append({**item, "device": device, "reason": _reason(item, device)})
        if device is not None:
            involved.setdefault(device["device_id"], device)
    texts = [f"{_label(d)}: {_account(d['newly_failed_channels']) or d['reason']}" for d in involved.values()
             if d["newly_failed_channels"] or d.get("reason")]
    texts += [f"{e['check_id']} on {e.get('target') or 'the site'}: {e['reason']}" for e in errors
              if e["device"] is None or not (e["device"]["newly_failed_channels"] or e["device"].get("reason"))]
    return {"new_errors": errors, "devices": list(involved.values()), "problems": list(dict.fromkeys(texts))}


def _count(items: list[dict[str, Any]], what: str) -> str:
    if not items:
        return ""
    ids = ", ".join(dict.fromkeys(i.get("check_id") or "?" for i in items))
    return f"{len(items)} {what}{'' if len(items) == 1 else 's'} ({ids})"


def _text(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def audit_events(summary: dict[str, Any], state: str, error: str = "") -> list[tuple[str, dict]]:
    """Which events a finished audit raises, with their event-specific payloads (the caller adds the
    site, the audit and the links). `summary`: the audit's summary at completion."""
    if state != "completed":
        return [("audit_error", {"state": state, "error": error, "text": f"audit {state}: {error}".rstrip(": ")})]
    drift = summary.get("drift") or {}
    since = drift.get("since_previous") or {}
    base = {"overall": summary.get("overall"), "score": summary.get("score"),
            "previous_audit_id": drift.get("previous_audit_id")}
    events = []
    new = since.get("new_failures") or []
    changed = [c for c in since.get("changed_failures") or [] if c.get("new_evidence") and not c.get("waived")]
    if new or changed:
        events.append(("new_failures", {**base, "new_failures": new, "changed_failures": changed, "text": _text(
            _count(new, "new failure"), _count(changed, "failure with new evidence"))}))
    if since.get("new_errors"):
        part = new_errors(since["new_errors"], summary.get("health"), since.get("channels_failed"))
        events.append(("new_errors", {**base, **part, "text": "; ".join(part["problems"])}))
    resolved, cleared = since.get("resolved") or [], since.get("cleared_errors") or []
    if resolved or cleared:
        events.append(("resolved", {**base, "resolved": resolved, "cleared_errors": cleared, "text": _text(
            _count(resolved, "resolved failure"), _count(cleared, "cleared error"))}))
    return events


def payload(site: dict[str, Any], audit_id: int, base_url: str | None, part: dict[str, Any]) -> dict[str, Any]:
    """One event's full payload: the site (id and name), the audit, absolute links, then `part`."""
    text = part.get("text") or ""
    return {"site_id": site["id"], "site": {"id": site["id"], "name": site.get("name")}, "audit_id": audit_id,
            **audit_links(base_url, site["id"], audit_id), **part,
            "text": f"site {site.get('name')}: {text}" if text else f"site {site.get('name')}"}
