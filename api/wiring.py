"""Connect the audit machinery to a Flask app: runner, start-up sweep, background duties, hooks."""
from __future__ import annotations

from functools import partial

from flask import Flask

from api.common import device_access
from hardening import sensor
from hardening.engine import audits
from hardening.engine.context import AuditContext
from hardening.engine.outside import ProbeEndpoint
from hardening.engine.runner import AuditRunner
from hardening.jobs import install_window, schedules, webhook_events, webhooks
from hardening.jobs.background import Leader
from hardening.jobs.credbudget import PersistentAttemptBudget
from hardening.model.policy import Policy
from store.models import Site


def init_app(app: Flask) -> None:
    db = app.extensions["db"]
    with db.session() as sess:
        audits.sweep_stale(sess)
    from hardening.remediation import engine
    engine.sweep_interrupted(db)                 # changes whose apply died with an earlier process
    runner = AuditRunner(db, lambda: audit_context(app), max_parallel=app.config["AUDITS_IN_PARALLEL"],
                         synchronous=app.config["AUDITS_SYNCHRONOUS"])
    app.extensions["audit_runner"] = runner
    app.extensions["background"] = leader = Leader(app.config["DATA_DIR"], background_duties(app))
    if app.config["BACKGROUND_DUTIES"]:
        leader.start()


def background_duties(app: Flask) -> list:
    db, box = app.extensions["db"], app.extensions["secret_box"]
    allowed = app.config["WEBHOOK_ALLOWED_NETWORKS"]

    def sweep_orphaned_audits():
        # an audit accepted by a worker that was killed before running it would block its site
        with db.session() as sess:
            return audits.sweep_stale(sess, at_start_up=False)

    def run_schedules():
        return schedules.tick(db, app.extensions["audit_runner"].submit)

    def deliver_webhooks():
        return webhooks.deliver_due(db, box, allowed)

    def expire_remediations():
        from hardening.remediation import flows
        return flows.sweep_deadlines(db, device_access(app))

    def close_install_windows():
        return install_window.close_due(db, device_access(app).driver)

    return [sweep_orphaned_audits, run_schedules, deliver_webhooks, close_install_windows, expire_remediations, *app.extensions.get("background_duties", [])]


def notify_webhooks(sess, audit, public_base_url: str = "") -> None:
    """After an audit: queue new-failure, new-error, resolved and audit-error events for the subscribed
    webhooks, from the summary stored at completion (audit.summary: computed once, never again here) and
    the audit's device health; payloads name the site and link the audit with absolute URLs built from
    `public_base_url` (PUBLIC_BASE_URL; unset: null links and a note saying so)."""
    summary = dict(audit.summary or {}) if audit.state == "completed" else {}
    if summary.get("health") is None and getattr(audit, "health", None) is not None:
        summary["health"] = audit.health
    site = sess.get(Site, audit.site_id)
    where = {"id": audit.site_id, "name": site.name if site is not None else None}
    for event, part in webhook_events.audit_events(summary, audit.state, audit.error):
        webhooks.enqueue(sess, audit.site_id, event, webhook_events.payload(where, audit.id, public_base_url, part))


def audit_context(app: Flask) -> AuditContext:
    """What an audit run needs from the app, captured when it is submitted (see AuditContext's fields).
    Extensions may adjust it: each app.extensions["audit_hooks"] entry is called as hook(app, context)."""
    cfg = app.config
    context = AuditContext(
        secret_box=app.extensions["secret_box"],
        device_budget_seconds=float(cfg["AUDIT_DEVICE_BUDGET_SECONDS"]),
        gather_workers=int(cfg["AUDIT_GATHER_WORKERS"]),
        egress_allowed=list(cfg["EGRESS_ALLOWED_NETWORKS"]),
        driver_options=dict(cfg.get("DRIVER_OPTIONS") or {}),
        on_finished=partial(notify_webhooks, public_base_url=cfg.get("PUBLIC_BASE_URL") or ""),
    )
    if cfg["SIP_SENSOR_EVENTS"]:                # NET-SCAN-001 reads what this box's SIP sensor recorded
        context.sensor_events = sensor.audit_source(cfg["DATA_DIR"])
    if cfg["CREDENTIAL_TESTS"]:
        context.take_attempt = PersistentAttemptBudget(app.extensions["db"],
                                                       Policy()["credential_test"]["max_attempts_per_device_per_day"])
    if cfg.get("OUTSIDE_PROBE_URL"):            # AWX-SRV-003, AWX-SRV-007, AWX-WAN-002 read its answers
        context.outside_probe = ProbeEndpoint(cfg["OUTSIDE_PROBE_URL"], cfg.get("OUTSIDE_PROBE_TOKEN") or "",
                                              cfg.get("OUTSIDE_PROBE_CA") or True)
    for hook in app.extensions.get("audit_hooks", []):
        hook(app, context)
    return context
