"""Apply waivers to result rows at read time; the real status always stays visible.

A waiver matches a row on check id and scope (the whole site, or one device). An expired waiver
does not apply: the row keeps `waived: False` and carries the waiver marked `expired` (so a report
can say "your waiver ran out"), the opposite of showing expired waivers as waived. `now` is
always passed in, so a clock jump is the caller's single source of truth.

What a new waiver must be, for auditors to trust it (the API asks these): it expires in the future and
within the policy's `waiver_max_days` (expiry), it names a device the check reports (target_problem),
it repeats no waiver in force (duplicate_of); and every answer shows its `state` at read time.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

STATES = ("active", "expired", "revoked")
MAX_DAYS_KEY = "waiver_max_days"


def _parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def matches(waiver: dict[str, Any], row: dict[str, Any]) -> bool:
    if waiver["check_id"] != row["check_id"]:
        return False
    return waiver["scope"] == "site" or waiver.get("device_id") == row.get("device_id")


def apply_waivers(rows: list[dict[str, Any]], waivers: list[dict[str, Any]], now: datetime) -> list[dict]:
    now = _aware(now)
    out = []
    for row in rows:
        row = {**row, "waived": False, "waiver": None}
        candidates = [w for w in waivers if matches(w, row)]
        active = [w for w in candidates if (_parse(w.get("expires_at")) or datetime.max.replace(
            tzinfo=timezone.utc)) > now]
        if active:
            row["waiver"], row["waived"] = {**_public(active[0]), "expired": False}, True
        elif candidates:
            row["waiver"] = {**_public(candidates[0]), "expired": True}
        out.append(row)
    return out


def _public(waiver: dict[str, Any]) -> dict[str, Any]:
    return {k: waiver.get(k) for k in ("id", "justification", "approver", "risk", "expires_at", "scope")}


# --- what a new waiver must be (the API asks these; the database reads are its own) ---------------

def state(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> str:
    """active / expired / revoked at `now` (revoked wins: it is final); naive times are UTC."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and _aware(expires_at) <= _aware(now):
        return "expired"
    return "active"


def max_days(policy) -> int | None:
    """The policy's longest waiver in days (None: no maximum); a malformed value is the default, 365."""
    value = policy.get(MAX_DAYS_KEY, 365)
    if value is None:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 365


def expiry(expires_at: datetime | None, now: datetime, longest: int | None) -> tuple[datetime | None, str | None]:
    """(the expiry to store, None) or (None, why it is refused). Naive UTC in and out. No expiry given
    means the longest the policy allows (never, only when the policy has no maximum)."""
    if expires_at is None:
        return (None if longest is None else now + timedelta(days=longest)), None
    if expires_at <= now:
        return None, f"{expires_at.isoformat()}Z has already passed: a waiver must expire in the future"
    if longest is not None and expires_at > now + timedelta(days=longest):
        latest = (now + timedelta(days=longest)).replace(microsecond=0).isoformat()
        return None, (f"{expires_at.isoformat()}Z is beyond the policy maximum of {longest} days "
                      f"({MAX_DAYS_KEY}): the latest allowed now is {latest}Z")
    return expires_at, None


def target_problem(check_id: str, device_id: int | None, site_audited: bool, audit_id: int | None,
                   reported: list[dict[str, Any]]) -> str | None:
    """Why a waiver naming `device_id` waives nothing the check reports (None: it is reported).

    The targets a check reports for a site are the (device_id, target) pairs of its results in the
    site's latest completed audit that ran the check (`audit_id`; None: there is none; `site_audited`:
    whether the site has any completed audit). A site-wide waiver names no target: always acceptable."""
    if device_id is None:
        return None
    if audit_id is None:
        if not site_audited:
            return (f"the site has no completed audit yet, so {check_id} reports no device: audit the site "
                    f"first, then waive one of the devices the check reports")
        return (f"no completed audit of the site has run {check_id} (its profile left it out), so it reports "
                f"no device: run an audit that includes it first")
    if any(r["device_id"] == device_id for r in reported):
        return None
    devices = [f"{r['device_id']} ({r['target'] or 'unnamed'})" for r in reported if r["device_id"] is not None]
    if not devices:
        return (f"{check_id} reports on the site as a whole in audit {audit_id}, on no device: "
                f"waive it with scope 'site'")
    return f"{check_id} does not report device {device_id} in audit {audit_id}; it reports: {', '.join(devices)}"


def duplicate_of(new: dict[str, Any], existing: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The existing waiver in force (not revoked, not expired) for exactly the same check, scope and
    device as `new`, or None."""
    for waiver in existing:
        if (waiver["check_id"], waiver["scope"], waiver.get("device_id")) == \
                (new["check_id"], new["scope"], new.get("device_id")) and \
                state(waiver.get("expires_at"), waiver.get("revoked_at"), now) == "active":
            return waiver
    return None
