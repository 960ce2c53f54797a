"""What the audit endpoints return: live summaries, result formats, the HTML report, site status.

Kept apart from routes.py so the routes stay declarations; everything here reads, nothing writes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify
from flask_smorest import abort
from sqlalchemy import select

from api.audits.schemas import ResultSchema, SiteStatusSchema
from api.common import not_found, storable_id
from hardening.engine import summaries
from hardening.outputs import junit, report_html, sarif
from hardening.outputs import status as status_out
from store.audit_models import Audit
from store.db import dbapi_connection, session
from store.models import Site, utcnow

FINISHED = ("completed",)
STATUS_CACHE_SITES = 1024       # far more sites than one appliance serves; the bound only caps memory
RESULTS_CACHE_AUDITS = 64       # the audits being read now (an RMM tool reads the latest)


def _finished(audit: Audit) -> None:
    if audit.state not in FINISHED:
        abort(409, message=f"audit {audit.id} is {audit.state}; results exist once it has completed")


def with_live_summary(audit: Audit) -> Audit:
    """The stored audit with its summary recomputed under today's waivers (expiry is read-time)."""
    if audit.state in FINISHED:
        audit.summary = summaries.summarize(session(), audit)
        session().expunge(audit)            # a read must never write the recomputed summary back
    return audit


def audit_summary(audit: Audit, now: datetime | None = None) -> dict[str, Any]:
    site = session().get(Site, audit.site_id)
    now = now or utcnow()
    rows = summaries.result_rows(session(), audit, now)
    summary = summaries.summarize(session(), audit, now, rows=rows)
    return {"audit_id": audit.id, "site": {"id": site.id, "name": site.name}, "profile": audit.profile,
            "state": audit.state, "started_at": _iso(audit.started_at), "finished_at": _iso(audit.finished_at),
            "results": rows, **summary}


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def results(audit: Audit, args: dict[str, Any]):
    _finished(audit)
    if args["format"] == "junit":
        return Response(junit.render(audit_summary(audit)), mimetype="application/xml")
    if args["format"] == "sarif":
        return Response(sarif.render_json(audit_summary(audit)), mimetype="application/sarif+json")
    rows, body = _dumped_rows(audit)
    if "status" not in args and "check_id" not in args:
        return Response(body, mimetype="application/json")
    return jsonify([r for r in rows if r["status"] == args.get("status", r["status"])
                    and r["check_id"] == args.get("check_id", r["check_id"])])


def _dumped_rows(audit: Audit) -> tuple[list[dict[str, Any]], bytes]:
    """The audit's results as dumped by ResultSchema, and as JSON: computed again only when the
    site's waivers in force change (results never change after an audit completes)."""
    now = utcnow()

    def compute():
        rows = ResultSchema(many=True).dump(summaries.result_rows(session(), audit, now))
        return rows, jsonify(rows).get_data()
    return _cached("awxh_results_cache", audit.id, summaries.waiver_stamp(dbapi_connection(), audit.site_id, now),
                   RESULTS_CACHE_AUDITS, compute)


def _cached(name: str, key: int, stamp: tuple, bound: int, compute):
    """compute() again only when `stamp` differs from the one its value was kept under. Kept per app
    (ids repeat across apps in one process); beyond `bound` keys, all are dropped (memory only)."""
    cache = current_app.extensions.setdefault(name, {})
    hit = cache.get(key)
    if hit is None or hit[0] != stamp:
        if len(cache) >= bound:
            cache.clear()
        hit = cache[key] = (stamp, compute())
    return hit[1]


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


def site_status(site_id: int) -> Response:
    """The site's status as JSON, computed and serialized again only when what it depends on has
    changed: RMM tools poll this often, and a recomputation reads every result of two or three audits."""
    if not storable_id(site_id):
        not_found(Site, site_id)
    now = utcnow()
    stamp = summaries.status_stamp(dbapi_connection(), site_id, now)
    if stamp[0] is None:
        not_found(Site, site_id)
    body = _cached("awxh_status_cache", site_id, stamp, STATUS_CACHE_SITES, lambda: jsonify(
        SiteStatusSchema().dump(status_of(session().get(Site, site_id), now))).get_data())
    return Response(body, mimetype="application/json")


def status_of(site: Site, now: datetime | None = None) -> dict[str, Any]:
    """The site's status computed afresh (the `check` command; site_status caches it)."""
    audit = latest_completed(site.id)
    if audit is None:
        return {"site": {"id": site.id, "name": site.name}, "overall": "UNKNOWN", "nagios_code": 3,
                "nable_code": 1003, "score": None,
                "counts": None, "new_failures": [], "last_audit": None}
    return status_out.render(audit_summary(audit, now))
