"""An audit's results as rows with the waivers in force, and its summary (score, counts, drift).

Waivers are applied when results are read, not when they were written, so an expired waiver stops
applying on the next read (and says so) without rewriting history.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from hardening.model import drift, scoring, waivers
from hardening.model.catalog import check_meta
from store.audit_models import Audit, AuditResult, SiteBaseline, Waiver
from store.db import PreparedRead
from store.models import Site, utcnow

log = logging.getLogger(__name__)


def severity(check_id: str) -> str:
    return check_meta(check_id)["severity"]


def _row(result: AuditResult) -> dict[str, Any]:
    meta = check_meta(result.check_id)
    return {"check_id": result.check_id, "title": meta["title"], "severity": result.severity,
            "status": result.status, "device_id": result.device_id, "target": result.target,
            "message": result.message, "evidence": result.evidence, "provenance": result.provenance,
            "remediation": {"kind": meta["remediation"], "hint": meta["hint"]}, "waiver": None, "waived": False}


def site_waivers(sess: Session, site_id: int) -> list[dict[str, Any]]:
    rows = sess.scalars(select(Waiver).where(Waiver.site_id == site_id, Waiver.revoked_at.is_(None))).all()
    return [{"id": w.id, "check_id": w.check_id, "scope": w.scope, "site_id": w.site_id, "device_id": w.device_id,
             "justification": w.justification, "approver": w.approver, "risk": w.risk,
             "created_at": w.created_at.isoformat() + "Z",
             "expires_at": w.expires_at.isoformat() + "Z" if w.expires_at else None} for w in rows]


def result_rows(sess: Session, audit: Audit, now: datetime | None = None) -> list[dict[str, Any]]:
    """The audit's results with the waivers in force `now` applied."""
    rows = [_row(r) for r in sess.scalars(select(AuditResult).where(AuditResult.audit_id == audit.id)
                                          .order_by(AuditResult.id))]
    return waivers.apply_waivers(rows, site_waivers(sess, audit.site_id), now or utcnow())


def _previous(sess: Session, audit: Audit) -> Audit | None:
    return sess.scalar(select(Audit).where(Audit.site_id == audit.site_id, Audit.state == "completed",
                                           Audit.id < audit.id).order_by(Audit.id.desc()).limit(1))


def summarize(sess: Session, audit: Audit, now: datetime | None = None,
              rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Score, counts, overall state and drift (vs the previous audit and the pinned baseline).
    `rows`: the audit's result_rows at `now`, when the caller has them already."""
    now = now or utcnow()
    rows = rows if rows is not None else result_rows(sess, audit, now)
    previous = _previous(sess, audit)
    baseline = sess.get(SiteBaseline, audit.site_id)
    baseline_audit = sess.get(Audit, baseline.audit_id) if baseline else None
    return {
        "score": scoring.score(rows), "counts": scoring.counts(rows), "overall": scoring.overall(rows),
        "drift": {
            "previous_audit_id": previous.id if previous else None,
            # the first audit of a site: every failure is new (nothing was known before)
            "since_previous": drift.diff(rows, result_rows(sess, previous, now) if previous else []),
            "baseline_audit_id": baseline_audit.id if baseline_audit else None,
            "since_baseline": drift.diff(rows, result_rows(sess, baseline_audit, now)) if baseline_audit else None,
        },
    }


def _status_stamp_query():
    site_id, now = bindparam("site_id"), bindparam("now")
    completed = (Audit.site_id == site_id, Audit.state == "completed")
    latest = select(func.max(Audit.id)).where(*completed).scalar_subquery()
    previous = select(func.max(Audit.id)).where(*completed, Audit.id < latest).scalar_subquery()
    baseline = select(SiteBaseline.audit_id).where(SiteBaseline.site_id == site_id).scalar_subquery()
    name = select(Site.name).where(Site.id == site_id).scalar_subquery()
    return select(name, latest, previous, baseline, *_waiver_ids(site_id, now))


def _waiver_ids(site_id, now) -> list:
    """The ids of the site's waivers not revoked, and of those in force at `now`: all that result rows
    take from waivers (waivers are never edited, only revoked)."""
    standing = (Waiver.site_id == site_id, Waiver.revoked_at.is_(None))
    in_force = or_(Waiver.expires_at.is_(None), Waiver.expires_at > now)     # as waivers.apply_waivers
    return [select(func.group_concat(sub.c.id)).select_from(sub).scalar_subquery() for sub in (
        select(Waiver.id).where(*standing).order_by(Waiver.id).subquery(),
        select(Waiver.id).where(*standing, in_force).order_by(Waiver.id).subquery())]


# read on every status poll and results read
STATUS_STAMP = PreparedRead(_status_stamp_query())
WAIVER_STAMP = PreparedRead(select(*_waiver_ids(bindparam("site_id"), bindparam("now"))))


def status_stamp(connection, site_id: int, now: datetime) -> tuple:
    """Everything a site's summary at `now` depends on, in one query: the site's name (None: no such
    site), its two latest completed audits (the latest and the one drift compares it with), the
    pinned baseline, the waivers not revoked and those of them in force. Results are never changed
    after an audit completes, so an equal stamp means an equal summary (callers cache on it).
    `connection`: a DBAPI connection (store.db.dbapi_connection)."""
    return tuple(STATUS_STAMP.first(connection, {"site_id": site_id, "now": now}))


def waiver_stamp(connection, site_id: int, now: datetime) -> tuple:
    """What result_rows of any audit of the site take from waivers at `now` (callers cache on it)."""
    return tuple(WAIVER_STAMP.first(connection, {"site_id": site_id, "now": now}))


def after_audit(sess: Session, audit: Audit, context: dict[str, Any]) -> None:
    """Hand the finished audit to whoever listens (webhooks); never fails the audit itself."""
    hook = context.get("on_finished")
    if hook is None:
        return
    try:
        hook(sess, audit)
    except Exception:
        log.exception("post-audit hook failed for audit %s", audit.id)
