"""Connect the audit machinery to a Flask app: runner, start-up sweep, background duties, hooks."""
from __future__ import annotations

from flask import Flask

from api.common import device_access
from hardening import sensor
from hardening.engine import audits
from hardening.engine.context import AuditContext
from hardening.engine.outside import ProbeEndpoint
from hardening.engine.runner import AuditRunner
from hardening.jobs import install_window, schedules, webhooks
from hardening.jobs.background import Leader
from hardening.jobs.credbudget import PersistentAttemptBudget
from hardening.model.policy import Policy


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


def notify_webhooks(sess, audit) -> None:
    """After an audit: queue new-failure, resolved and error events for the subscribed webhooks, from
    the summary stored at completion (audit.summary: computed once, never again here)."""
    summary = audit.summary if audit.state == "completed" else {}
    for event, payload in webhooks.audit_events(summary, audit.state, audit.error):
        webhooks.enqueue(sess, audit.site_id, event, {"site_id": audit.site_id, "audit_id": audit.id,
                                                      "audit_url": f"/api/v1/audits/{audit.id}", **payload})


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
        on_finished=notify_webhooks,
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
