"""The compact status an RMM tool polls: overall state, score, counts, what is newly failing.

status_of is the one computation behind GET /api/v1/sites/{id}/status (which caches it) and the
`check` command; it takes a plain SQLAlchemy session.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hardening.engine import summaries
from store.models import Site

CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def status_of(sess: Session, site: Site, now: datetime | None = None) -> dict[str, Any]:
    """The site's status at `now`, from its latest completed audit with the waivers in force then."""
    audit = summaries.latest_completed(sess, site.id)
    if audit is None:
        return {"site": {"id": site.id, "name": site.name}, "overall": "UNKNOWN", "nagios_code": 3,
                "nable_code": 1003, "score": None,
                "counts": None, "new_failures": [], "last_audit": None}
    return render(summaries.audit_summary(sess, audit, now))


def render(summary: dict[str, Any]) -> dict[str, Any]:
    since = (summary.get("drift") or {}).get("since_previous")
    failing = [r for r in summary["results"] if r["status"] == "fail" and not r["waived"]]
    new = since["new_failures"] if since is not None else [
        {k: r.get(k) for k in ("check_id", "device_id", "target", "severity", "title", "message")} for r in failing]
    code = CODES[summary["overall"]]
    return {"site": summary["site"], "overall": summary["overall"], "nagios_code": code, "nable_code": 1000 + code,
            "score": summary["score"],
            "counts": summary["counts"], "new_failures": new,
            "last_audit": {"id": summary["audit_id"], "finished_at": summary["finished_at"],
                           "profile": summary["profile"]}}
