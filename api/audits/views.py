"""What the audit endpoints return: audits with their two summaries, result formats, the HTML report,
site status.

Kept apart from routes.py so the routes stay declarations; everything here reads, nothing writes.
The computations are hardening's (summaries, outputs.status), the same the `check` command and
/metrics call; what is kept here is the per-app caching of their answers.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify
from flask_smorest import abort

from api.audits.schemas import ResultSchema, SiteStatusSchema
from api.common import not_found, storable_id
from api.pagination import SQLPage
from hardening.engine import summaries
from hardening.outputs import junit, report_html, sarif
from hardening.outputs import status as status_out
from store.audit_models import Audit
from store.db import dbapi_connection, session
from store.models import Site, utcnow

FINISHED = ("completed",)
STATUS_CACHE_SITES = 1024       # far more sites than one appliance serves; the bound only caps memory
RESULTS_CACHE_AUDITS = 64       # the audits being read now (an RMM tool reads the latest)
SUMMARY_CACHE_AUDITS = 512      # live summaries: a few full pages of a site's audit list (pages hold <= 100)


def _finished(audit: Audit) -> None:
    if audit.state not in FINISHED:
        abort(409, message=f"audit {audit.id} is {audit.state}; results exist once it has completed")


class Shown:
    """An audit as the API shows it: its own columns, plus `summary` (live: the waivers, baseline and
    previous audit as they stand at `summary_as_of`) and `summary_at_completion` (the stored one)."""

    def __init__(self, audit: Audit, summary: dict[str, Any], as_of: datetime | None):
        self._audit = audit
        self.summary, self.summary_as_of = summary, as_of
        self.summary_at_completion = audit.summary if audit.state in FINISHED else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._audit, name)


def shown(audits: list[Audit], now: datetime | None = None) -> list[Shown]:
    """The audits with their live summaries at `now` (one `now` for all): a summary is computed again
    only when what it depends on has changed (its previous audit, the baseline, the waivers in
    force); the misses of one call share their reads (a page's audits drift from each other)."""
    now = now or utcnow()
    readers: dict[int, summaries.RowReader] = {}

    def live(audit: Audit) -> dict[str, Any]:
        read = readers.setdefault(audit.site_id, summaries.RowReader(session(), audit.site_id, now))
        return summaries.summarize(session(), audit, now, read=read)
    return [Shown(a, _cached("awxh_summary_cache", a.id, summaries.summary_stamp(dbapi_connection(), a, now),
                             SUMMARY_CACHE_AUDITS, lambda a=a: live(a)), now)
            if a.state in FINISHED else Shown(a, a.summary, None) for a in audits]


def shown_one(audit: Audit) -> Shown:
    return shown([audit])[0]


class AuditPage(SQLPage):
    """A page of audits, each shown with its live summary."""

    @property
    def items(self):
        return shown(super().items)


def results(audit: Audit, args: dict[str, Any]):
    _finished(audit)
    if args["format"] == "junit":
        return Response(junit.render(summaries.audit_summary(session(), audit, utcnow())), mimetype="application/xml")
    if args["format"] == "sarif":
        return Response(sarif.render_json(summaries.audit_summary(session(), audit, utcnow())),
                        mimetype="application/sarif+json")
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
    return Response(report_html.render(summaries.audit_summary(session(), audit, utcnow()),
                                       fixed=summaries.confirmed_fixes(session(), audit)), mimetype="text/html")


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
        SiteStatusSchema().dump(status_out.status_of(session(), session().get(Site, site_id), now))).get_data())
    return Response(body, mimetype="application/json")
