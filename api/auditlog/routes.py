"""Record every mutating API call and let admins read the log."""
from __future__ import annotations

import logging

import marshmallow as ma
from flask import Flask, Response, request
from flask.views import MethodView
from sqlalchemy import select

from api.auth import actor_name
from api.extensions import Blueprint, Schema
from api.fields import UTCDateTime
from api.pagination import SQLPage
from store.db import get_db
from store.models import AuditLogEntry

log = logging.getLogger(__name__)
blp = Blueprint("AuditLog", __name__, url_prefix="/api/v1/audit-log", description="Audit log (admin)")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


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


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403, 429):
        return "denied"
    return "rejected" if status < 500 else "error"


def record(actor: str, method: str, path: str, status: int, detail: dict | None = None,
           remote_addr: str = "") -> None:
    """Write one entry in its own transaction (it must survive the request's rollback)."""
    with get_db().session() as sess:
        sess.add(AuditLogEntry(actor=actor, method=method, path=path[:500], status_code=status,
                               outcome=_outcome(status), remote_addr=remote_addr, detail=detail or {}))
        sess.commit()


def record_mutations(app: Flask) -> None:
    @app.after_request
    def _audit(response: Response) -> Response:
        if request.method in MUTATING and request.path.startswith("/api/"):
            try:
                record(actor_name(), request.method, request.path, response.status_code,
                       {"endpoint": request.endpoint or ""}, request.remote_addr or "")
            except Exception:  # never turn a completed change into an error response; say so loudly
                log.exception("could not write the audit log entry for %s %s", request.method, request.path)
        return response
