"""The audit log for admins: authenticated mutating calls, and per-minute counts of the rest."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from api.extensions import Blueprint, Schema
from api.fields import UTCDateTime
from api.pagination import SQLPage
from store.models import AuditLogEntry, RequestCounter

blp = Blueprint("AuditLog", __name__, url_prefix="/api/v1/audit-log", description="Audit log (admin)")


class AuditLogEntrySchema(Schema):
    id = ma.fields.Integer()
    at = UTCDateTime()
    actor = ma.fields.String()
    method = ma.fields.String()
    path = ma.fields.String()
    status_code = ma.fields.Integer()
    outcome = ma.fields.String(metadata={"description": "success | denied | rejected | error"})
    remote_addr = ma.fields.String()
    detail = ma.fields.Dict()


class AuditLogQueryArgsSchema(Schema):
    actor = ma.fields.String(validate=ma.validate.Length(1, 120))


@blp.route("")
class AuditLog(MethodView):
    @blp.auth_required("admin")
    @blp.arguments(AuditLogQueryArgsSchema, location="query")
    @blp.response(200, AuditLogEntrySchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """List audit log entries, newest first"""
        stmt = select(AuditLogEntry).order_by(AuditLogEntry.id.desc())
        if "actor" in args:
            stmt = stmt.where(AuditLogEntry.actor == args["actor"])
        return stmt


class RequestCounterSchema(Schema):
    minute = UTCDateTime(metadata={"description": "The minute counted (UTC)"})
    kind = ma.fields.String(metadata={"description": "unauthenticated (no valid token) | unrouted (no such "
                                                     "operation)"})
    status_code = ma.fields.Integer()
    count = ma.fields.Integer()


@blp.route("/request-counters")
class RequestCounters(MethodView):
    @blp.auth_required("admin")
    @blp.response(200, RequestCounterSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self):
        """Requests nobody authenticated, counted per minute and status (newest first; kept
        REQUEST_COUNTER_RETENTION_DAYS)"""
        return select(RequestCounter).order_by(RequestCounter.minute.desc(), RequestCounter.kind,
                                               RequestCounter.status_code)
