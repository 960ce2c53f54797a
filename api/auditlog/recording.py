"""What the audit log keeps: one row per authenticated mutating call (who, what, outcome), the newest
AUDIT_LOG_MAX_ROWS of them; requests nobody authenticated (refused, unrouted) only as per-minute counts per
status, so that an unauthenticated client cannot grow the database."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, Response, current_app, g, request
from sqlalchemy import delete
from sqlalchemy.dialects.sqlite import insert

from api.auth import actor_name
from store.db import get_db
from store.models import AuditLogEntry, RequestCounter, utcnow

log = logging.getLogger(__name__)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
COUNTED_STATUSES = (401, 429)           # refused authentication


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403, 429):
        return "denied"
    return "rejected" if status < 500 else "error"


def record(actor: str, method: str, path: str, status: int, detail: dict | None = None,
           remote_addr: str = "") -> None:
    """Write one entry in its own transaction (it must survive the request's rollback) and let the oldest
    roll out beyond the cap; the entry also goes to the log, whose rotation keeps the long history."""
    keep = int(current_app.config["AUDIT_LOG_MAX_ROWS"])
    with get_db().session() as sess:
        entry = AuditLogEntry(actor=actor, method=method, path=path[:500], status_code=status,
                              outcome=_outcome(status), remote_addr=remote_addr, detail=detail or {})
        sess.add(entry)
        sess.flush()
        sess.execute(delete(AuditLogEntry).where(AuditLogEntry.id <= entry.id - keep))
        sess.commit()
    log.info("audit-log %s: %s %s %s -> %s (%s) from %s", entry.id, actor, method, path[:500], status,
             entry.outcome, remote_addr or "-")


def count(kind: str, status: int) -> None:
    """Add one to this minute's counter for (kind, status); counters older than the retention go."""
    now = utcnow()
    minute = now.replace(second=0, microsecond=0)
    keep = timedelta(days=float(current_app.config["REQUEST_COUNTER_RETENTION_DAYS"]))
    upsert = insert(RequestCounter).values(minute=minute, kind=kind, status_code=status, count=1)
    upsert = upsert.on_conflict_do_update(index_elements=["minute", "kind", "status_code"],
                                          set_={"count": RequestCounter.count + 1})
    with get_db().session() as sess:
        sess.execute(upsert)
        sess.execute(delete(RequestCounter).where(RequestCounter.minute < minute - keep))
        sess.commit()


def _unauthenticated_kind(status: int) -> str | None:
    """How a request without a valid token is counted, or None when it is not (public reads)."""
    if request.url_rule is None:
        return "unrouted"
    if status in COUNTED_STATUSES or request.method in MUTATING:
        return "unauthenticated"
    return None


def record_mutations(app: Flask) -> None:
    @app.after_request
    def _audit(response: Response) -> Response:
        try:
            if g.get("token") is not None:
                if request.method in MUTATING and request.path.startswith("/api/"):
                    record(actor_name(), request.method, request.path, response.status_code,
                           {"endpoint": request.endpoint or "", **(g.get("audit_detail") or {})},
                           request.remote_addr or "")
            elif (kind := _unauthenticated_kind(response.status_code)) is not None:
                count(kind, response.status_code)
        except Exception:  # never turn a completed change into an error response; say so loudly
            log.exception("could not write the audit log entry for %s %s", request.method, request.path)
        return response
