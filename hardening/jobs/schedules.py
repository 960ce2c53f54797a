"""Periodic re-audits: due schedules start audits; a site already being audited is simply skipped.

A schedule's cron is read on its site's clocks (Site.timezone, an IANA name; hardening.jobs.cron does
the arithmetic and says how daylight saving time is handled). `next_run_at` (naive UTC) is the one
slot a schedule waits for: None while it is paused. tick() starts at most one audit per due schedule
and then plans the first slot after *now*, not after the missed one: after downtime a schedule runs
once, never a backlog.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hardening.engine import audits
from hardening.jobs import cron
from hardening.model.profiles import UnknownProfile
from store.audit_models import Schedule
from store.models import Site, utcnow

log = logging.getLogger(__name__)


def plan(schedule: Schedule, tz: str, now: datetime) -> None:
    """Set the schedule's next slot after `now` on the clocks of `tz` (None while paused)."""
    schedule.next_run_at = cron.next_run(schedule.cron, now, tz) if schedule.enabled else None


def create(sess: Session, site: Site, fields: dict[str, Any], now: datetime | None = None) -> Schedule:
    schedule = Schedule(site_id=site.id, **fields)
    plan(schedule, site.timezone, now or utcnow())
    sess.add(schedule)
    return schedule


def edit(schedule: Schedule, site: Site, fields: dict[str, Any], now: datetime | None = None) -> Schedule:
    """Replace cron, profile and enabled; the next slot is planned afresh (a resumed schedule waits
    for its next slot: the ones it missed while paused are not run)."""
    for key, value in fields.items():
        setattr(schedule, key, value)
    plan(schedule, site.timezone, now or utcnow())
    return schedule


def set_enabled(schedule: Schedule, site: Site, enabled: bool, now: datetime | None = None) -> Schedule:
    """Pause (False) or resume (True); resuming a running schedule, or pausing a paused one, changes nothing."""
    if schedule.enabled != enabled or (enabled and schedule.next_run_at is None):
        schedule.enabled = enabled
        plan(schedule, site.timezone, now or utcnow())
    return schedule


def replan_site(sess: Session, site: Site, now: datetime | None = None) -> None:
    """The site's clocks changed (a new time zone): plan its running schedules' next slots again."""
    now = now or utcnow()
    for schedule in sess.scalars(select(Schedule).where(Schedule.site_id == site.id)):
        try:
            plan(schedule, site.timezone, now)
        except cron.CronError as exc:      # a stored cron the API would refuse: it stops, as in tick()
            log.error("schedule %s stops: %s", schedule.id, exc)
            schedule.next_run_at = None


def answer(schedule: Schedule, tz: str) -> dict[str, Any]:
    """What the API shows of a schedule: its fields, the zone it runs in and the next slot in UTC and
    on the site's clocks (both null while paused)."""
    next_run = schedule.next_run_at if schedule.enabled else None
    try:
        local = cron.local_time(next_run, tz)
    except cron.CronError:                # a zone that no longer exists in this tzdata: UTC is still true
        local = None
    return {"id": schedule.id, "site_id": schedule.site_id, "cron": schedule.cron, "profile": schedule.profile,
            "enabled": schedule.enabled, "timezone": tz,
            "next_run_at": next_run, "next_run_local": local, "last_run_at": schedule.last_run_at,
            "last_audit_id": schedule.last_audit_id}


def tick(db, submit, now=None) -> list[int]:
    """Start the audits of every due schedule (at most one each); returns the audit ids started.
    A paused schedule is never due, whatever its stored slot says."""
    now = now or utcnow()
    started = []
    with db.session() as sess:
        due = sess.execute(select(Schedule, Site.timezone).join(Site, Site.id == Schedule.site_id)
                           .where(Schedule.enabled.is_(True), Schedule.next_run_at.is_not(None),
                                  Schedule.next_run_at <= now).order_by(Schedule.next_run_at, Schedule.id)).all()
        for schedule, tz in due:
            schedule.last_run_at = now
            try:
                # the next slot after now, not after the missed one: a long outage does not replay a backlog
                schedule.next_run_at = cron.next_run(schedule.cron, now, tz)
            except cron.CronError as exc:     # a stored cron or zone the API would refuse: stop, say why
                log.error("schedule %s stops: %s", schedule.id, exc)
                schedule.next_run_at = None
                sess.commit()
                continue
            try:
                audit = audits.create_audit(sess, schedule.site_id, schedule.profile, f"schedule:{schedule.id}")
            except audits.AuditConflict:
                log.info("schedule %s: site %s is already being audited", schedule.id, schedule.site_id)
                sess.commit()
                continue
            except UnknownProfile as exc:      # a profile removed since: skip it, keep the others going
                log.warning("schedule %s: %s", schedule.id, exc)
                sess.commit()
                continue
            schedule.last_audit_id = audit.id
            sess.commit()
            submit(audit.id)
            started.append(audit.id)
    return started
