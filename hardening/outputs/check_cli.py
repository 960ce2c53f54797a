"""`python app.py check --site S`: the RMM/Nagios contract, read from the appliance's own database."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hardening.engine import audits
from hardening.outputs import nagios
from store.models import Site, utcnow


def _site(sess, ref: str) -> Site | None:
    if ref.isdigit():
        return sess.get(Site, int(ref))
    return sess.scalar(select(Site).where(Site.name == ref))


def check_site(app, site_ref: str, run: bool, nable: bool, max_age_hours: float | None,
               fail_on_new: bool = False) -> tuple[str, int]:
    from api.audits.views import latest_completed, status_of
    unknown = 1003 if nable else 3
    with app.test_request_context():
        from store.db import session
        site = _site(session(), site_ref)
        if site is None:
            return f"ALLWORX UNKNOWN - no site {site_ref!r}", unknown
        if run:
            try:
                audit = audits.create_audit(session(), site.id, "baseline", "cli:check")
            except audits.AuditConflict as exc:
                return f"ALLWORX UNKNOWN - {exc}", unknown
            app.extensions["audit_runner"].submit(audit.id)
            session().expire_all()
        latest = latest_completed(site.id)
        if latest is not None and max_age_hours is not None and \
                utcnow() - latest.finished_at > timedelta(hours=max_age_hours):
            return (f"ALLWORX UNKNOWN - site {site.name}: last audit finished {latest.finished_at:%Y-%m-%d %H:%M} "
                    f"UTC, older than {max_age_hours:g} h", unknown)
        status = status_of(site)
        if fail_on_new and status["last_audit"] is not None:
            status = nagios.only_new(status)
        return nagios.render(status, nable=nable)
