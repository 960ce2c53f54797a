"""Audit endpoints: POST starts a job (202), GETs follow it and read its results."""
from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.audits import views
from api.audits.schemas import (
    AuditArgsSchema,
    AuditListArgsSchema,
    AuditSchema,
    BaselineArgsSchema,
    ResultsArgsSchema,
    ResultSchema,
    SiteStatusSchema,
)
from api.auth import actor_name
from api.common import get_or_404
from api.extensions import ID, Blueprint, link
from hardening.engine.audits import AuditConflict, create_audit
from hardening.model.profiles import UnknownProfile
from store.audit_models import Audit, SiteBaseline
from store.db import session
from store.models import Site

blp = Blueprint("Audits", __name__, url_prefix="/api/v1", description="Site audits, results and status")

AUDIT = "/api/v1/audits/{audit_id}"
AUDIT_LINKS = {"GetAudit": link(AUDIT, "get", "Follow the audit", audit_id=ID),
               "Results": link(f"{AUDIT}/results", "get", "Its results", audit_id=ID),
               "Report": link(f"{AUDIT}/report", "get", "Its HTML report", audit_id=ID),
               "Rerun": link(f"{AUDIT}/rerun", "post", "Re-run it (once interrupted or failed)", audit_id=ID),
               "PinBaseline": link("/api/v1/sites/{site_id}/baseline", "put", "Pin it as the baseline",
                                   request_body={"audit_id": ID}, site_id="$response.body#/site_id")}


@blp.route("/sites/<int:site_id>/audits")
class SiteAudits(MethodView):
    @blp.auth_required("read")
    @blp.arguments(AuditListArgsSchema, location="query")
    @blp.response(200, AuditSchema(many=True))
    @blp.paginate(views.AuditPage)
    @blp.errors(404)
    def get(self, args, site_id):
        """List a site's audits, newest first, each with its summary as of now and at completion"""
        get_or_404(Site, site_id)
        stmt = select(Audit).where(Audit.site_id == site_id).order_by(Audit.id.desc())
        if "state" in args:
            stmt = stmt.where(Audit.state == args["state"])
        return stmt

    @blp.auth_required("audit")
    @blp.arguments(AuditArgsSchema)
    @blp.response(202, AuditSchema, headers={"Location": {"description": "The audit's URL",
                                                          "schema": {"type": "string"}}})
    @blp.links(202, **AUDIT_LINKS)
    @blp.errors(404, 409)
    def post(self, args, site_id):
        """Start an audit of a site (runs in the background)"""
        get_or_404(Site, site_id)
        return _start(site_id, args["profile"])


def _start(site_id: int, profile: str, rerun_of: int | None = None):
    try:
        audit = create_audit(session(), site_id, profile, actor_name(), rerun_of)
    except AuditConflict as exc:
        abort(409, message=str(exc))
    except UnknownProfile as exc:       # a rerun of an audit whose profile is gone (renamed, or bad data)
        abort(409, message=f"cannot start the audit: {exc}")
    current_app.extensions["audit_runner"].submit(audit.id)
    session().refresh(audit)
    return views.shown_one(audit), 202, {"Location": url_for("Audits.AuditById", audit_id=audit.id)}


@blp.route("/audits/<int:audit_id>")
class AuditById(MethodView):
    @blp.auth_required("read")
    @blp.response(200, AuditSchema)
    @blp.errors(404)
    def get(self, audit_id):
        """Follow an audit: state, progress, its summary as of now (today's waivers) and at completion"""
        return views.shown_one(get_or_404(Audit, audit_id))


@blp.route("/audits/<int:audit_id>/rerun", methods=["POST"])
@blp.auth_required("audit")
@blp.response(202, AuditSchema)
@blp.links(202, **AUDIT_LINKS)
@blp.errors(404, 409)
def rerun(audit_id):
    """Re-run an interrupted or failed audit as a new audit"""
    audit = get_or_404(Audit, audit_id)
    if audit.state not in ("interrupted", "failed"):
        abort(409, message=f"audit {audit_id} is {audit.state}; only interrupted or failed audits are re-run")
    return _start(audit.site_id, audit.profile, rerun_of=audit.id)


@blp.route("/audits/<int:audit_id>/results")
@blp.auth_required("read")
@blp.arguments(ResultsArgsSchema, location="query")
@blp.response(200, ResultSchema(many=True), description="JSON results; format=junit or sarif changes the body")
@blp.doc(responses={200: {"content": {     # one status, three bodies: an alt_response would replace the JSON one
    "application/xml": {"schema": {"type": "string", "description": "format=junit: JUnit XML"}},
    "application/sarif+json": {"schema": {"type": "object", "description": "format=sarif: SARIF 2.1.0"}}}}})
@blp.errors(404, 409)
def results(args, audit_id):
    """Read an audit's results (JSON, JUnit XML or SARIF), waived ones marked"""
    audit = get_or_404(Audit, audit_id)
    return views.results(audit, args)


@blp.route("/audits/<int:audit_id>/report")
@blp.auth_required("read")
@blp.response(200, {"type": "string"}, content_type="text/html", description="Printable HTML report")
@blp.errors(404, 409)
def report(audit_id):
    """Customer-facing HTML report of an audit (print it to PDF from a browser)"""
    return views.report(get_or_404(Audit, audit_id))


@blp.route("/sites/<int:site_id>/status")
@blp.auth_required("read")
@blp.response(200, SiteStatusSchema)
@blp.errors(404)
def site_status(site_id):
    """One compact status for RMM tools: overall state, score, counts, new failures"""
    return views.site_status(site_id)


@blp.route("/sites/<int:site_id>/baseline", methods=["PUT"])
@blp.auth_required("audit")
@blp.arguments(BaselineArgsSchema)
@blp.response(200, AuditSchema)
@blp.errors(404, 409)
def pin_baseline(args, site_id):
    """Pin a completed audit as the site's baseline for drift"""
    get_or_404(Site, site_id)
    audit = session().get(Audit, args["audit_id"])
    if audit is None or audit.site_id != site_id:
        abort(404, message=f"audit {args['audit_id']} of site {site_id} not found",
              errors={"json": {"audit_id": ["Unknown audit for this site."]}})
    if audit.state != "completed":
        abort(409, message="only a completed audit can be the baseline")
    row = session().get(SiteBaseline, site_id) or SiteBaseline(site_id=site_id, audit_id=audit.id)
    row.audit_id = audit.id
    session().add(row)
    session().commit()
    return views.shown_one(audit)
