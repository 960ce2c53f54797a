"""What the audit endpoints return: live summaries, result formats, the HTML report, site status.

Kept apart from routes.py so the routes stay declarations; everything here reads, nothing writes.
"""
from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import abort
from sqlalchemy import select

from hardening import auditdata
from hardening.outputs import junit, report_html, sarif, status as status_out
from store.audit_models import Audit
from store.db import session
from store.models import Site

FINISHED = ("completed",)


def _finished(audit: Audit) -> None:
    if audit.state not in FINISHED:
        abort(409, message=f"audit {audit.id} is {audit.state}; results exist once it has completed")


def with_live_summary(audit: Audit) -> Audit:
    """The stored audit with its summary recomputed under today's waivers (expiry is read-time)."""
    if audit.state in FINISHED:
        audit.summary = auditdata.summarize(session(), audit)
        session().expunge(audit)            # a read must never write the recomputed summary back
    return audit


def audit_summary(audit: Audit) -> dict[str, Any]:
    site = session().get(Site, audit.site_id)
    summary = auditdata.summarize(session(), audit)
    return {"audit_id": audit.id, "site": {"id": site.id, "name": site.name}, "profile": audit.profile,
            "state": audit.state, "started_at": _iso(audit.started_at), "finished_at": _iso(audit.finished_at),
            "results": auditdata.result_rows(session(), audit), **summary}


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def results(audit: Audit, args: dict[str, Any]):
    _finished(audit)
    if args["format"] == "junit":
        return Response(junit.render(audit_summary(audit)), mimetype="application/xml")
    if args["format"] == "sarif":
        return Response(sarif.render_json(audit_summary(audit)), mimetype="application/sarif+json")
    rows = auditdata.result_rows(session(), audit)
    if "status" in args:
        rows = [r for r in rows if r["status"] == args["status"]]
    if "check_id" in args:
        rows = [r for r in rows if r["check_id"] == args["check_id"]]
    return rows


def report(audit: Audit) -> Response:
    _finished(audit)
    return Response(report_html.render(audit_summary(audit), fixed=_fixed(audit)), mimetype="text/html")


def _fixed(audit: Audit) -> list[dict[str, Any]]:
    """Confirmed remediations of the site up to this audit, as report lines."""
    from store.audit_models import Remediation
    rows = session().scalars(select(Remediation).where(Remediation.site_id == audit.site_id,
                                                       Remediation.state == "confirmed",
                                                       Remediation.updated_at <= (audit.finished_at or audit.created_at))
                             .order_by(Remediation.id)).all()
    out = []
    for row in rows:
        items = row.plan.get("changes") or row.plan.get("removals") or []
        for item in items:
            out.append({"check_id": item.get("check_id") or ",".join(item.get("check_ids") or []),
                        "target": f"remediation {row.id}",
                        "title": f"set {item['setting']}" if "setting" in item else f"removed forward {item.get('rule')}"})
    return out


def latest_completed(site_id: int) -> Audit | None:
    return session().scalar(select(Audit).where(Audit.site_id == site_id, Audit.state == "completed")
                            .order_by(Audit.id.desc()).limit(1))


def site_status(site: Site) -> dict[str, Any]:
    audit = latest_completed(site.id)
    if audit is None:
        return {"site": {"id": site.id, "name": site.name}, "overall": "UNKNOWN", "nagios_code": 3,
                "nable_code": 1003, "score": None,
                "counts": None, "new_failures": [], "last_audit": None}
    return status_out.render(audit_summary(audit))
