"""The hardening index (checks.md, Scoring) and the counts, overall state and problems built on it.

Only decided results (pass/fail) carry weight; error, not_applicable and manual are counted apart. A
score built on missing evidence is not given at all: it is withheld (raw and waived None, `withheld`
saying why) when a device the audit needed was not reached (its health entry says reached False) or
any selected check that carries weight (not info) is `error` -- waived or not, since a waiver accepts
a known risk, not an unknown one. So turning results into errors can never raise the score: it is
withheld instead. A waived result counts with its real status in the raw score and as passed in the
waived score.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from hardening.model.catalog import catalog
from hardening.model.results import SEVERITY_WEIGHT

DECIDED = ("pass", "fail")
SITE_ENTRY_KIND = "site"             # the health entry of the site's outside probe (not a device)
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
KIND_WORDS = {"allworx_server": "server", "allworx_phone": "phone", "px_expander": "Px Expander",
              "router": "router", "switch": "switch", SITE_ENTRY_KIND: "outside probe"}
_NAMED = 3                           # devices / checks named in a withheld reason
_TEXT_MAX = 200


def _index(weights: Iterable[tuple[int, bool]]) -> float | None:
    total = earned = 0
    for weight, passed in weights:
        total += weight
        earned += weight if passed else 0
    return None if total == 0 else round(100.0 * earned / total, 1)


def decided_index(rows: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """(raw, waived) weighted over the decided results alone, before any withholding."""
    decided = [r for r in rows if r["status"] in DECIDED]
    raw = _index((SEVERITY_WEIGHT[r["severity"]], r["status"] == "pass") for r in decided)
    waived = _index((SEVERITY_WEIGHT[r["severity"]], r["status"] == "pass" or r.get("waived", False))
                    for r in decided)
    return raw, waived


def label(entry: dict[str, Any]) -> str:
    """'router gw', 'server pbx', 'outside probe': a health entry as the problems and reasons name it."""
    word = KIND_WORDS.get(str(entry.get("kind")), str(entry.get("kind") or "device"))
    if entry.get("kind") == SITE_ENTRY_KIND:
        return word
    return f"{word} {entry.get('name') or entry.get('address') or entry.get('device_id')}"


def _more(items: list, shown: int) -> str:
    return f" and {len(items) - shown} more" if len(items) > shown else ""


def _severity_rank(row: dict[str, Any]) -> int:
    severity = row.get("severity")
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def weighted_errors(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `error` results of checks that carry weight, worst severity first."""
    return sorted((r for r in rows if r["status"] == "error" and SEVERITY_WEIGHT.get(r["severity"], 0) > 0),
                  key=lambda r: (_severity_rank(r), r["check_id"], str(r.get("target") or "")))


def withheld(rows: list[dict[str, Any]], health: list[dict[str, Any]] | None = None) -> str | None:
    """Why the score cannot be given, or None: the devices the audit needed and did not reach (named with
    the reason), then the weighted checks left undecided (named with their device)."""
    parts = []
    unreached = [h for h in health or [] if h.get("reached") is False]
    if unreached:
        parts.append("; ".join(f"{label(h)} not reached: {h.get('reason') or 'no channel answered'}"
                               for h in unreached[:_NAMED]) + _more(unreached, _NAMED))
    errors = weighted_errors(rows)
    if errors:
        named = ", ".join(f"{r['check_id']} on {r['target']}" if r.get("target") else r["check_id"]
                          for r in errors[:_NAMED])
        parts.append(f"{len(errors)} weighted check(s) could not be decided: {named}{_more(errors, _NAMED)}")
    return "; ".join(parts) or None


def score(rows: list[dict[str, Any]], health: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    raw, waived = decided_index(rows)
    out: dict[str, Any] = {"raw": raw, "waived": waived, "weights": dict(SEVERITY_WEIGHT)}
    if raw is None:
        out["note"] = "no decided result carries weight (all error, not applicable, manual or info)"
    why = withheld(rows, health)
    if why:
        out.update(raw=None, waived=None, withheld=why)
    return out


def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_status = Counter(r["status"] for r in rows)
    failing = [r for r in rows if r["status"] == "fail" and not r.get("waived")]
    return {"total": len(rows), **{s: by_status.get(s, 0) for s in ("pass", "fail", "error", "not_applicable",
                                                                  "manual")},
            "waived": sum(1 for r in rows if r.get("waived")),
            "failing_by_severity": dict(Counter(r["severity"] for r in failing))}


def has_devices(health: list[dict[str, Any]] | None) -> bool | None:
    """Whether the audit's site had any device (None: health not recorded, audits before revision 0005)."""
    if health is None:
        return None
    return any(h.get("kind") != SITE_ENTRY_KIND for h in health)


def _about_the_site(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results that say something about the site's devices and router: a SIP sensor that saw no scanner
    (a check that needs only the sensor) decides nothing about them."""
    return [r for r in rows if set(catalog().get(r["check_id"], {}).get("needs") or ()) != {"sensor"}]


def overall(rows: list[dict[str, Any]], health: list[dict[str, Any]] | None = None) -> str:
    """UNKNOWN: the score is withheld, the site has no devices, or no result of weight about its devices
    and router was decided and nothing fails; CRITICAL: an unwaived critical/high failure; WARNING: another
    unwaived failure or any error; OK."""
    if withheld(rows, health) or has_devices(health) is False or decided_index(rows)[0] is None:
        return "UNKNOWN"
    failing = [r for r in rows if r["status"] == "fail" and not r.get("waived")]
    if not failing and decided_index(_about_the_site(rows))[0] is None:
        return "UNKNOWN"
    if any(r["severity"] in ("critical", "high") for r in failing):
        return "CRITICAL"
    if any(r["severity"] != "info" for r in failing) or any(r["status"] == "error" for r in rows):
        return "WARNING"
    return "OK"


def _row_text(row: dict[str, Any], status: str = "") -> str:
    where = f" {row['target']}" if row.get("target") else ""
    return f"{row['check_id']}{where}: {status}{row.get('message') or row.get('title') or ''}"[:_TEXT_MAX]


def _health_text(entry: dict[str, Any]) -> str | None:
    failed = {name: c for name, c in (entry.get("channels") or {}).items() if c.get("state") == "failed"}
    if entry.get("reached") is False:
        return f"{label(entry)}: {entry.get('reason') or 'no channel answered'}"
    if failed:
        return f"{label(entry)}: " + "; ".join(f"{name} {c.get('reason') or 'failed'}" for name, c in failed.items())
    return None


def problems(rows: list[dict[str, Any]], health: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """What is wrong, worst first: unwaived failures by severity, then devices and channels that could not be
    read (severity "error"), then error results by severity. Each: {severity, check_id, device_id, text,
    kind: fail | device | error}; `text` is one line ("router gw: authentication failed")."""
    found: list[tuple[tuple, dict[str, Any]]] = []
    for row in rows:
        if row["status"] == "fail" and not row.get("waived"):
            found.append(((0, _severity_rank(row), row["check_id"], str(row.get("target") or "")), {
                "severity": row["severity"], "check_id": row["check_id"], "device_id": row.get("device_id"),
                "text": _row_text(row), "kind": "fail"}))
        elif row["status"] == "error":
            found.append(((2, _severity_rank(row), row["check_id"], str(row.get("target") or "")), {
                "severity": row["severity"], "check_id": row["check_id"], "device_id": row.get("device_id"),
                "text": _row_text(row, "error: "), "kind": "error"}))
    for position, entry in enumerate(health or []):
        text = _health_text(entry)
        if text:
            order = 0 if entry.get("reached") is False else 1
            found.append(((1, order, "", f"{position:06d}"), {"severity": "error", "check_id": None,
                                                          "device_id": entry.get("device_id"), "text": text,
                                                          "kind": "device"}))
    return [problem for _key, problem in sorted(found, key=lambda item: item[0])]
