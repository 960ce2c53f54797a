"""An audit's results as rows with the waivers in force, and its summary (score, counts, drift).

Waivers are applied when results are read, not when they were written, so an expired waiver stops
applying on the next read (and says so) without rewriting history. Two summaries of an audit exist:
the one at completion (computed once, from the rows just recorded, stored, and sent to webhooks) and
the live one, with the waivers, baseline and previous audit as they stand now (what readers show).
Every reader (the API, the `check` command, metrics) asks this module; none needs Flask.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from hardening.model import drift, scoring, waivers
from hardening.model.catalog import check_meta
from store.audit_models import Audit, AuditResult, Remediation, SiteBaseline, Waiver
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


def result_rows(sess: Session, audit: Audit, now: datetime | None = None,
                standing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The audit's results with the waivers in force `now` applied (`standing`: the site's
    site_waivers, when the caller has them already)."""
    rows = [_row(r) for r in sess.scalars(select(AuditResult).where(AuditResult.audit_id == audit.id)
                                          .order_by(AuditResult.id))]
    standing = standing if standing is not None else site_waivers(sess, audit.site_id)
    return waivers.apply_waivers(rows, standing, now or utcnow())


class RowReader:
    """result_rows of audits of one site at one `now`, each audit read once and the waivers once: the
    live summaries of a page of audits share their previous audits' and the baseline's rows."""

    def __init__(self, sess: Session, site_id: int, now: datetime):
        self.sess, self.site_id, self.now = sess, site_id, now
        self._standing: list[dict[str, Any]] | None = None
        self._rows: dict[int, list[dict[str, Any]]] = {}

    def __call__(self, audit: Audit) -> list[dict[str, Any]]:
        if audit.id not in self._rows:
            if self._standing is None:
                self._standing = site_waivers(self.sess, self.site_id)
            self._rows[audit.id] = result_rows(self.sess, audit, self.now, self._standing)
        return self._rows[audit.id]


def _previous(sess: Session, audit: Audit) -> Audit | None:
    return sess.scalar(select(Audit).where(Audit.site_id == audit.site_id, Audit.state == "completed",
                                           Audit.id < audit.id).order_by(Audit.id.desc()).limit(1))


def _since_previous(sess: Session, audit: Audit, rows: list[dict[str, Any]], previous: Audit | None,
                    read: Callable[[Audit], list[dict[str, Any]]]) -> dict[str, Any]:
    """Drift since the previous audit. A check that audit did not decide (error, not applicable, not run)
    is compared with the last audit that decided it, and a failure on a device that audit read only in
    part, with the last audit that read the device in full (drift.diff's `decided`, `complete`); both
    are read only when needed. With the device channels that failed or recovered since (health)."""
    if previous is None:                 # the first audit of a site: every failure is new
        return {**drift.diff(rows, []), **drift.health_change(audit.health, [])}
    before = read(previous)
    by_key = {(r["check_id"], r["device_id"]): r["status"] for r in before}
    partial = {r["device_id"] for r in before if r["status"] == drift.UNDECIDED}
    keys = [((r["check_id"], r["device_id"]), r["status"]) for r in rows if r["status"] in drift.DECIDED]
    pending = {key for key, _ in keys if by_key.get(key) not in drift.DECIDED}
    partly = {key for key, status in keys if status == "fail" == by_key.get(key) and key[1] in partial}
    return {**drift.diff(rows, before, _last_decided(sess, audit, pending) if pending else None,
                         _last_decided(sess, audit, partly, full_read=True) if partly else None),
            **drift.health_change(audit.health, previous.health)}


def _last_decided(sess: Session, audit: Audit, keys: set[tuple[str, Any]],
                  full_read: bool = False) -> list[dict[str, Any]]:
    """Per (check, device) of `keys`, its row in the latest completed audit before `audit` that decided
    it (pass or fail), with "audit_id"; `full_read`: only audits in which none of that device's checks
    was an error. Results never change once recorded."""
    where = [AuditResult.status.in_(drift.DECIDED), AuditResult.check_id.in_(sorted({k[0] for k in keys})),
             Audit.site_id == audit.site_id, Audit.state == "completed", Audit.id < audit.id]
    if full_read:
        other = aliased(AuditResult)
        where.append(~select(other.id).where(other.audit_id == AuditResult.audit_id, other.status == drift.UNDECIDED,
                                             other.device_id.is_not_distinct_from(AuditResult.device_id)).exists())
    latest = (select(AuditResult.check_id, AuditResult.device_id, func.max(AuditResult.audit_id).label("audit_id"))
              .join(Audit, Audit.id == AuditResult.audit_id).where(*where)
              .group_by(AuditResult.check_id, AuditResult.device_id).subquery())
    found = sess.scalars(select(AuditResult).join(latest, and_(
        AuditResult.check_id == latest.c.check_id, AuditResult.audit_id == latest.c.audit_id,
        AuditResult.device_id.is_not_distinct_from(latest.c.device_id))).order_by(AuditResult.id))
    return [{**_row(r), "audit_id": r.audit_id} for r in found if (r.check_id, r.device_id) in keys]


def summarize(sess: Session, audit: Audit, now: datetime | None = None,
              rows: list[dict[str, Any]] | None = None,
              read: Callable[[Audit], list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Score, counts, overall state, health, problems and drift (vs the previous audit and the pinned
    baseline) at `now`. The score is withheld and overall UNKNOWN when the evidence cannot carry a
    verdict (hardening.model.scoring); `health` is the audit's per-device record (None for audits made
    before it was recorded). `rows`: the audit's result_rows at `now`, when the caller has them already;
    `read`: how to get an audit's result_rows at `now` (a RowReader shared between several summaries)."""
    now = now or utcnow()
    read = read or (lambda other: result_rows(sess, other, now))
    rows = rows if rows is not None else read(audit)
    previous = _previous(sess, audit)
    baseline = sess.get(SiteBaseline, audit.site_id)
    baseline_audit = sess.get(Audit, baseline.audit_id) if baseline else None
    health = audit.health
    return {
        "score": scoring.score(rows, health), "counts": scoring.counts(rows),
        "overall": scoring.overall(rows, health), "health": health, "problems": scoring.problems(rows, health),
        "drift": {
            "previous_audit_id": previous.id if previous else None,
            "since_previous": _since_previous(sess, audit, rows, previous, read),
            "baseline_audit_id": baseline_audit.id if baseline_audit else None,
            "since_baseline": drift.diff(rows, read(baseline_audit)) if baseline_audit else None,
        },
    }


def completion_summary(sess: Session, audit: Audit, recorded: Iterable[AuditResult]) -> dict[str, Any]:
    """The summary of an audit as it completes (as of its finished_at), from the results just
    recorded: computed once, from memory (nothing is read back), stored and handed to webhooks."""
    rows = waivers.apply_waivers([_row(r) for r in recorded], site_waivers(sess, audit.site_id), audit.finished_at)
    return summarize(sess, audit, audit.finished_at, rows=rows)


def latest_completed(sess: Session, site_id: int) -> Audit | None:
    return sess.scalar(select(Audit).where(Audit.site_id == site_id, Audit.state == "completed")
                       .order_by(Audit.id.desc()).limit(1))


def audit_summary(sess: Session, audit: Audit, now: datetime | None = None) -> dict[str, Any]:
    """A completed audit read in full at `now`: which site and audit, its result rows and its live
    summary (what status, metrics, reports, JUnit and SARIF are made from)."""
    site = sess.get(Site, audit.site_id)
    now = now or utcnow()
    rows = result_rows(sess, audit, now)
    return {"audit_id": audit.id, "site": {"id": site.id, "name": site.name}, "profile": audit.profile,
            "state": audit.state, "started_at": _iso(audit.started_at), "finished_at": _iso(audit.finished_at),
            "results": rows, **summarize(sess, audit, now, rows=rows)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def confirmed_fixes(sess: Session, audit: Audit) -> list[dict[str, Any]]:
    """Confirmed remediations of the site up to this audit, as report lines."""
    rows = sess.scalars(select(Remediation).where(Remediation.site_id == audit.site_id,
                                                  Remediation.state == "confirmed",
                                                  Remediation.updated_at <= (audit.finished_at or audit.created_at))
                        .order_by(Remediation.id)).all()
    out = []
    for row in rows:
        for item in row.plan.get("changes") or row.plan.get("removals") or []:
            out.append({"check_id": item.get("check_id") or ",".join(item.get("check_ids") or []),
                        "target": f"remediation {row.id}",
                        "title": f"set {item['setting']}" if "setting" in item else f"removed forward {item.get('rule')}"})
    return out


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


def _summary_stamp_query():
    site_id, audit_id = bindparam("site_id"), bindparam("audit_id")
    previous = select(func.max(Audit.id)).where(Audit.site_id == site_id, Audit.state == "completed",
                                                Audit.id < audit_id).scalar_subquery()
    baseline = select(SiteBaseline.audit_id).where(SiteBaseline.site_id == site_id).scalar_subquery()
    return select(previous, baseline, *_waiver_ids(site_id, bindparam("now")))


# read on every status poll, results read and audit shown
STATUS_STAMP = PreparedRead(_status_stamp_query())
WAIVER_STAMP = PreparedRead(select(*_waiver_ids(bindparam("site_id"), bindparam("now"))))
SUMMARY_STAMP = PreparedRead(_summary_stamp_query())


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


def summary_stamp(connection, audit: Audit, now: datetime) -> tuple:
    """Everything the live summary of a completed audit at `now` depends on besides its own results:
    the audit it drifts from, the pinned baseline, the site's waivers not revoked and those in force
    (callers cache on it)."""
    return tuple(SUMMARY_STAMP.first(connection, {"site_id": audit.site_id, "audit_id": audit.id, "now": now}))


def after_audit(sess: Session, audit: Audit, context: Any) -> None:
    """Hand the finished audit (its summary at completion in audit.summary) to whoever listens
    (webhooks); never fails the audit itself. `context`: the audit's context (a dict or attributes)."""
    hook = context.get("on_finished") if isinstance(context, dict) else getattr(context, "on_finished", None)
    if hook is None:
        return
    try:
        hook(sess, audit)
    except Exception:
        log.exception("post-audit hook failed for audit %s", audit.id)
