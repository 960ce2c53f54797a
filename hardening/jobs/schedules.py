"""Periodic re-audits: due schedules start audits; a site already being audited is simply skipped."""
from __future__ import annotations

import logging

from sqlalchemy import select

from hardening.engine import audits
from hardening.jobs import cron
from hardening.model.profiles import UnknownProfile
from store.audit_models import Schedule
from store.models import utcnow

log = logging.getLogger(__name__)


def tick(db, submit, now=None) -> list[int]:
    """Start the audits of every due schedule; returns the audit ids started."""
    now = now or utcnow()
    started = []
    with db.session() as sess:
        due = sess.scalars(select(Schedule).where(Schedule.enabled.is_(True), Schedule.next_run_at <= now)).all()
        for schedule in due:
            schedule.last_run_at = now
            # the next slot after now, not after the missed one: a long outage does not replay a backlog
            schedule.next_run_at = cron.next_run(schedule.cron, now)
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
