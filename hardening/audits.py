"""Audits as durable jobs: create (one active per site), run with a heartbeat, sweep the interrupted.

State machine: queued -> running -> completed | failed; a queued/running audit whose runner stopped
heart-beating (process killed, restart) becomes `interrupted` at the next start-up sweep and can be
re-run as a new audit that names it (`rerun_of`). The database's partial unique index keeps two
audits of one site from being active at once, across every gunicorn worker.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hardening import auditdata
from hardening.gather import gather_site
from hardening.profiles import load_profile
from hardening.registry import run_checks
from store.audit_models import ACTIVE_AUDIT_STATES, Audit, AuditResult
from store.models import utcnow

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
STALE_AFTER = timedelta(seconds=30)


class AuditConflict(Exception):
    """The site already has a queued or running audit."""


def create_audit(sess: Session, site_id: int, profile: str, requested_by: str,
                 rerun_of: int | None = None) -> Audit:
    load_profile(profile)                              # UnknownProfile before anything is written
    audit = Audit(site_id=site_id, profile=profile, requested_by=requested_by, rerun_of=rerun_of,
                  progress={"devices_total": 0, "devices_done": 0, "phase": "queued"})
    sess.add(audit)
    try:
        sess.commit()
    except IntegrityError:
        sess.rollback()
        active = sess.scalar(select(Audit.id).where(Audit.site_id == site_id,
                                                    Audit.state.in_(ACTIVE_AUDIT_STATES)))
        raise AuditConflict(f"site {site_id} already has audit {active} in progress") from None
    return audit


def sweep_stale(sess: Session, now=None) -> list[int]:
    """Mark audits whose runner stopped heart-beating as interrupted; returns their ids."""
    now = now or utcnow()
    cutoff = now - STALE_AFTER
    stale = sess.scalars(select(Audit).where(Audit.state.in_(ACTIVE_AUDIT_STATES))).all()
    ids = []
    for audit in stale:
        last = audit.heartbeat_at or audit.created_at
        if last < cutoff:
            audit.state, audit.finished_at = "interrupted", now
            audit.error = "the appliance stopped while this audit ran; re-run it"
            ids.append(audit.id)
    sess.commit()
    return ids


def _claim(sess: Session, audit_id: int, runner: str) -> bool:
    now = utcnow()
    claimed = sess.execute(update(Audit).where(Audit.id == audit_id, Audit.state == "queued").values(
        state="running", runner=runner, started_at=now, heartbeat_at=now)).rowcount
    sess.commit()
    return claimed == 1


class _Heartbeat(threading.Thread):
    """Keeps heartbeat_at fresh and writes progress, in its own session, while the audit runs."""

    def __init__(self, db, audit_id: int):
        super().__init__(daemon=True, name=f"audit-{audit_id}-heartbeat")
        self.db, self.audit_id = db, audit_id
        self.progress: dict[str, Any] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            self.beat()

    def beat(self) -> None:
        with self.db.session() as sess:
            sess.execute(update(Audit).where(Audit.id == self.audit_id, Audit.state == "running").values(
                heartbeat_at=utcnow(), progress=dict(self.progress)))
            sess.commit()


def execute(db, audit_id: int, runner: str, context: dict[str, Any]) -> None:
    """Run a queued audit to completion (or failure); safe to call from any worker thread."""
    with db.session() as sess:
        if not _claim(sess, audit_id, runner):
            return                                   # another runner has it, or it is not queued
        audit = sess.get(Audit, audit_id)
        heartbeat = _Heartbeat(db, audit_id)
        heartbeat.start()
        try:
            _run(sess, audit, heartbeat, context)
        except Exception as exc:                     # the audit fails visibly; the process carries on
            log.exception("audit %s failed", audit_id)
            sess.rollback()
            audit = sess.get(Audit, audit_id)
            audit.state, audit.finished_at = "failed", utcnow()
            audit.error = f"{type(exc).__name__}: {exc}"
            sess.commit()
            auditdata.after_audit(sess, audit, context)
        finally:
            heartbeat.stop.set()


def _run(sess: Session, audit: Audit, heartbeat: _Heartbeat, context: dict[str, Any]) -> None:
    profile = load_profile(audit.profile)
    policy = profile.make_policy()
    site_info, specs, extras = auditdata.site_inputs(sess, audit.site_id, context)
    heartbeat.progress = {"phase": "gathering", "devices_total": len(specs), "devices_done": 0}
    heartbeat.beat()

    def progress(done: int, total: int, name: str) -> None:
        heartbeat.progress = {"phase": "gathering", "devices_total": total, "devices_done": done,
                              "last_device": name}

    gathered = gather_site(site_info, specs, budget_seconds=context.get("device_budget_seconds", 60.0),
                           workers=context.get("gather_workers", 32), options=context.get("driver_options"),
                           on_progress=progress, **extras)
    heartbeat.progress = {**heartbeat.progress, "phase": "evaluating"}
    results = run_checks(gathered.facts, policy, profile.check_ids())
    auditdata.record_host_keys(sess, gathered)
    for result in results:
        sess.add(AuditResult(audit_id=audit.id, check_id=result.check_id, device_id=result.device_id,
                             status=result.status, severity=auditdata.severity(result.check_id),
                             target=result.target[:200], message=result.message, provenance=result.provenance,
                             evidence=[e.to_dict() for e in result.evidence]))
    audit.state, audit.finished_at = "completed", utcnow()
    audit.progress = {**heartbeat.progress, "phase": "completed", "gather_seconds": round(gathered.seconds, 3)}
    sess.flush()
    audit.summary = auditdata.summarize(sess, audit)
    sess.commit()
    auditdata.after_audit(sess, audit, context)
