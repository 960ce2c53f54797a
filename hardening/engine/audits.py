"""Audits as durable jobs: create (one active per site), run with a heartbeat, sweep the interrupted.

State machine: queued -> running -> completed | failed; a queued/running audit whose runner process
is gone (killed, restarted: seen by the leader's periodic sweep and at start-up) or stopped
heart-beating (at start-up) becomes `interrupted` and can be
re-run as a new audit that names it (`rerun_of`). The database's partial unique index keeps two
audits of one site from being active at once, across every gunicorn worker.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import store.db
from hardening.checks.registry import run_checks
from hardening.engine import inputs, summaries
from hardening.engine.context import AuditContext
from hardening.engine.gather import gather_site
from hardening.engine.outside import AuditProbe
from hardening.model.profiles import load_profile
from store.audit_models import ACTIVE_AUDIT_STATES, Audit, AuditResult
from store.models import utcnow

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
STALE_AFTER = timedelta(seconds=30)
RECORD_RETRY_SECONDS = 3600.0
DISK_FULL = ("the appliance's disk is full: this audit's results could not be stored; free space in its data "
             "directory, then re-run it")


class AuditConflict(Exception):
    """The site already has a queued or running audit."""


def create_audit(sess: Session, site_id: int, profile: str, requested_by: str,
                 rerun_of: int | None = None) -> Audit:
    load_profile(profile)                              # UnknownProfile before anything is written
    # runner: the process that accepted it and will run it; if that process dies first, sweeps see it
    audit = Audit(site_id=site_id, profile=profile, requested_by=requested_by, rerun_of=rerun_of,
                  runner=process_name(), progress={"devices_total": 0, "devices_done": 0, "phase": "queued"})
    sess.add(audit)
    try:
        sess.commit()
    except IntegrityError:
        sess.rollback()
        active = sess.scalar(select(Audit.id).where(Audit.site_id == site_id,
                                                    Audit.state.in_(ACTIVE_AUDIT_STATES)))
        raise AuditConflict(f"site {site_id} already has audit {active} in progress") from None
    return audit


def process_name() -> str:
    """This process as the owner of work in the database (an audit's `runner`): host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_gone(name: str, at_start_up: bool = True) -> bool:
    """True when `name` (see process_name) is a process of this host that has ended, or, at start-up,
    is this very process (a start-up sweep runs before the process has taken any work; in a container
    a restarted worker often gets its predecessor's pid). False when unknown: another host, or an
    unparsable name."""
    host, _, pid = (name or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return at_start_up
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:           # it exists, under another user
        return False
    return False


def sweep_stale(sess: Session, now=None, at_start_up: bool = True) -> list[int]:
    """Mark audits as interrupted whose runner process on this host is gone (queued or running: a
    restart, a killed worker), or, at start-up, whose runner stopped heart-beating for STALE_AFTER;
    returns their ids. The periodic sweep (not at start-up) never cuts short an audit whose live
    runner is slow to beat (a database busy for seconds), nor one of its own process."""
    now = now or utcnow()
    cutoff = now - STALE_AFTER
    stale = sess.scalars(select(Audit).where(Audit.state.in_(ACTIVE_AUDIT_STATES))).all()
    ids = []
    for audit in stale:
        last = audit.heartbeat_at or audit.created_at
        if process_gone(audit.runner, at_start_up) or (at_start_up and last < cutoff):
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
            try:
                self.beat()
            except Exception as exc:         # noqa: BLE001  (disk full, locked: beat again next time)
                log.warning("audit %s: heartbeat not written: %s", self.audit_id, exc)

    def beat(self) -> None:
        with self.db.session() as sess:
            sess.execute(update(Audit).where(Audit.id == self.audit_id, Audit.state == "running").values(
                heartbeat_at=utcnow(), progress=dict(self.progress)))
            sess.commit()


def execute(db, audit_id: int, runner: str, context: AuditContext) -> None:
    """Run a queued audit to completion (or failure); safe to call from any worker thread."""
    with db.session() as sess:
        try:
            claimed = _claim(sess, audit_id, runner)
        except Exception as exc:
            if store.db.disk_full(exc):
                _record_later(db, audit_id, DISK_FULL)
            raise
        if not claimed:
            return                                   # another runner has it, or it is not queued
        audit = sess.get(Audit, audit_id)
        heartbeat = _Heartbeat(db, audit_id)
        heartbeat.start()
        try:
            _run(sess, audit, heartbeat, context)
        except Exception as exc:                     # the audit fails visibly; the process carries on
            log.exception("audit %s failed", audit_id)
            sess.rollback()
            error = DISK_FULL if store.db.disk_full(exc) else store.db.error_text(exc)
            try:
                audit = _mark_failed(sess, audit_id, error)
            except Exception as again:
                if store.db.disk_full(again):
                    _record_later(db, audit_id, error)
                raise
            summaries.after_audit(sess, audit, context)
        finally:
            heartbeat.stop.set()


def _record_later(db, audit_id: int, error: str) -> None:
    """The failure could not be written (the disk is full). Keep trying in the background, so the audit
    does not stay active, blocking its site, once there is room again."""
    def retry() -> None:
        deadline = time.monotonic() + RECORD_RETRY_SECONDS
        while time.monotonic() < deadline:
            time.sleep(HEARTBEAT_SECONDS)
            try:
                with db.session() as sess:
                    sess.execute(update(Audit).where(Audit.id == audit_id, Audit.state.in_(ACTIVE_AUDIT_STATES))
                                 .values(state="failed", finished_at=utcnow(), error=error))
                    sess.commit()
                return
            except Exception as exc:         # noqa: BLE001  (still no room: try again)
                log.debug("audit %s: failure still not recorded: %s", audit_id, exc)
        log.error("audit %s: its failure could not be recorded (%s); a restart marks it interrupted", audit_id, error)
    threading.Thread(target=retry, daemon=True, name=f"audit-{audit_id}-outcome").start()


def _mark_failed(sess: Session, audit_id: int, error: str) -> Audit:
    audit = sess.get(Audit, audit_id)
    audit.state, audit.finished_at, audit.error = "failed", utcnow(), error
    sess.commit()
    return audit


def _run(sess: Session, audit: Audit, heartbeat: _Heartbeat, context: AuditContext) -> None:
    profile = load_profile(audit.profile)
    policy = profile.make_policy()
    needs = profile.needs()                      # what the selected checks need: nothing else is contacted
    site = inputs.site_inputs(sess, audit.site_id, context, needs)
    heartbeat.progress = {"phase": "gathering", "devices_total": len(site.devices), "devices_done": 0,
                          "needs": sorted(needs)}
    heartbeat.beat()

    def progress(done: int, total: int, name: str) -> None:
        heartbeat.progress = {**heartbeat.progress, "devices_done": done, "devices_total": total, "last_device": name}

    probe = AuditProbe.for_site(context.outside_probe, site.site, site.devices, policy) \
        if "outside_probe" in needs else None
    gathered = gather_site(site.site, site.devices, budget_seconds=context.device_budget_seconds,
                           workers=context.gather_workers, needs=needs, take_attempt=context.take_attempt,
                           options={**context.driver_options, "egress": context.egress_allowed, "policy": policy},
                           outside=probe, on_progress=progress, sensor_events=site.sensor_events,
                           install_window_open=site.install_window_open, prior_verdicts=site.prior_verdicts)
    heartbeat.progress = {**heartbeat.progress, "phase": "evaluating"}
    results = run_checks(gathered.facts, policy, profile.check_ids())
    inputs.record_host_keys(sess, gathered)
    recorded = [AuditResult(audit_id=audit.id, check_id=result.check_id, device_id=result.device_id,
                            status=result.status, severity=summaries.severity(result.check_id),
                            target=result.target[:200], message=result.message, provenance=result.provenance,
                            evidence=[e.to_dict() for e in result.evidence]) for result in results]
    sess.add_all(recorded)
    audit.state, audit.finished_at = "completed", utcnow()
    audit.health = gathered.health              # per device: reached or not, on which channels (engine.health)
    audit.progress = {**heartbeat.progress, "phase": "completed", "gather_seconds": round(gathered.seconds, 3)}
    audit.summary = summaries.completion_summary(sess, audit, recorded)    # once, from the rows in hand
    sess.commit()
    summaries.after_audit(sess, audit, context)
