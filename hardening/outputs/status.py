"""The compact status an RMM tool polls: overall state, score, counts, what is newly failing, problems.

status_of is the one computation behind GET /api/v1/sites/{id}/status (which caches it), the `check`
command and the metrics; it takes a plain SQLAlchemy session.

A status is UNKNOWN, whatever its failures, when its evidence cannot carry a verdict: no completed
audit, a site with no devices, a withheld score (summary `score.withheld`: a device the profile
needs was unreachable, or a weighted check is `error`), or nothing of weight decided (only info
results such as NET-SCAN-001's "no scanner seen"). `unknown_reason` says which.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hardening.engine import summaries
from store.models import Site

CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
SITE_ENTRY = "site"          # the health entry of the site's outside probe, not a device (hardening.model.scoring)
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def status_of(sess: Session, site: Site, now: datetime | None = None) -> dict[str, Any]:
    """The site's status at `now`, from its latest completed audit with the waivers in force then."""
    audit = summaries.latest_completed(sess, site.id)
    if audit is None:
        return no_audit({"id": site.id, "name": site.name})
    return render(summaries.audit_summary(sess, audit, now))


def no_audit(site: dict[str, Any]) -> dict[str, Any]:
    return {"site": site, "overall": "UNKNOWN", "nagios_code": 3, "nable_code": 1003, "score": None,
            "counts": None, "new_failures": [], "unchanged_failures": [], "health": [], "problems": [],
            "unknown_reason": "no completed audit yet", "last_audit": None}


def unknown_reason(summary: dict[str, Any]) -> str | None:
    """Why an audited site's state is UNKNOWN whatever its summary's overall says, or None."""
    score = summary.get("score") or {}
    if score.get("withheld"):
        return f"score withheld: {score['withheld']}"
    health = summary.get("health")
    if health is not None and not any(h.get("kind") != SITE_ENTRY for h in health):
        return "the site has no devices"
    if score.get("raw") is None:
        return "nothing of weight was decided"
    if summary.get("overall") == "UNKNOWN":
        return "nothing about the site's devices or router was decided (only the SIP sensor's results)"
    return None


def problems_of(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary's `problems` (worst first); for a summary without them, the same from its rows:
    unwaived failures by severity, then errors with their message (one line per target and message)."""
    if isinstance(summary.get("problems"), list):
        return summary["problems"]
    rows = summary.get("results") or []
    failing = sorted((r for r in rows if r["status"] == "fail" and not r.get("waived")),
                     key=lambda r: SEVERITY_RANK.get(r["severity"], 9))
    errors = sorted((r for r in rows if r["status"] == "error"), key=lambda r: SEVERITY_RANK.get(r["severity"], 9))
    out, seen = [], set()
    for row in failing + errors:
        where = f" {row['target']}" if row.get("target") else ""
        text = f"{row['check_id']}{where}: {row.get('message') or row.get('title') or row['status']}"
        if row["status"] == "error":
            if (row.get("target"), row.get("message")) in seen:
                continue
            seen.add((row.get("target"), row.get("message")))
            text = f"{row['check_id']}{where}: error: {row.get('message') or 'could not decide'}"
        out.append({"severity": row["severity"], "check_id": row["check_id"], "device_id": row.get("device_id"),
                    "text": text})
    return out


def render(summary: dict[str, Any]) -> dict[str, Any]:
    since = (summary.get("drift") or {}).get("since_previous")
    failing = [r for r in summary["results"] if r["status"] == "fail" and not r["waived"]]
    new = since["new_failures"] if since is not None else [
        {k: r.get(k) for k in ("check_id", "device_id", "target", "severity", "title", "message")} for r in failing]
    reason = unknown_reason(summary)
    overall = "UNKNOWN" if reason else summary["overall"]
    code = CODES[overall]
    return {"site": summary["site"], "overall": overall, "nagios_code": code, "nable_code": 1000 + code,
            "score": summary["score"],
            "counts": summary["counts"], "new_failures": new,
            "unchanged_failures": since["unchanged_failures"] if since is not None else [],
            "health": summary.get("health"), "problems": problems_of(summary), "unknown_reason": reason,
            "last_audit": {"id": summary["audit_id"], "finished_at": summary["finished_at"],
                           "profile": summary["profile"]}}
