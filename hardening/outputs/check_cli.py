"""`python app.py check --site S`: the RMM/Nagios contract, read from the appliance's own database.

The status is the API's (hardening.outputs.status.status_of), read through a plain session of the
app's database: no request, no Flask context.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hardening.engine import audits, summaries
from hardening.outputs import nagios
from hardening.outputs.status import status_of
from store.models import Site, utcnow


def _site(sess, ref: str) -> Site | None:
    if ref.isdigit():
        return sess.get(Site, int(ref))
    return sess.scalar(select(Site).where(Site.name == ref))


def check_site(app, site_ref: str, run: bool, nable: bool, max_age_hours: float | None,
               fail_on_new: bool = False) -> tuple[str, int]:
    unknown = 1003 if nable else 3
    with app.extensions["db"].session() as sess:
        site = _site(sess, site_ref)
        if site is None:
            return f"ALLWORX UNKNOWN - no site {site_ref!r}", unknown
        if run:
            try:
                audit = audits.create_audit(sess, site.id, "baseline", "cli:check")
            except audits.AuditConflict as exc:
                return f"ALLWORX UNKNOWN - {exc}", unknown
            runner = app.extensions["audit_runner"]
            runner.submit(audit.id)
            runner.wait(audit.id)                    # a no-op when the runner is synchronous (the command's)
            sess.expire_all()
        latest = summaries.latest_completed(sess, site.id)
        if latest is not None and max_age_hours is not None and \
                utcnow() - latest.finished_at > timedelta(hours=max_age_hours):
            line = (f"ALLWORX UNKNOWN - site {site.name}: last audit finished {latest.finished_at:%Y-%m-%d %H:%M} "
                    f"UTC, older than {max_age_hours:g} h")
            return line, unknown
        status = status_of(sess, site)
        if fail_on_new and status["last_audit"] is not None:
            status = nagios.only_new(status)
        return nagios.render(status, nable=nable)
