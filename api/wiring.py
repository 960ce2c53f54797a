"""Connect the audit machinery to a Flask app: runner, start-up sweep, background duties, hooks."""
from __future__ import annotations

from typing import Any

from flask import Flask

from hardening import sensor
from hardening.engine import audits, inputs, summaries
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
    allowed_devices = app.config["EGRESS_ALLOWED_NETWORKS"]

    def sweep_orphaned_audits():
        # an audit accepted by a worker that was killed before running it would block its site
        with db.session() as sess:
            return audits.sweep_stale(sess, at_start_up=False)

    def run_schedules():
        return schedules.tick(db, app.extensions["audit_runner"].submit)

    def deliver_webhooks():
        return webhooks.deliver_due(db, box, allowed)

    def expire_remediations():
        from hardening.remediation import engine
        from hardening.remediation.access import open_router
        return engine.sweep_deadlines(db, lambda device: open_router(device, box, egress_allowed=allowed_devices))

    def close_install_windows():
        return install_window.close_due(db, lambda device: _checked_spec(device, box, allowed_devices))

    return [sweep_orphaned_audits, run_schedules, deliver_webhooks, close_install_windows, expire_remediations, *app.extensions.get("background_duties", [])]


def _checked_spec(device, box, allowed):
    from device_drivers import egress
    egress.check(device.address, allowed)
    return inputs.device_spec(device, box)


def notify_webhooks(sess, audit) -> None:
    """After an audit: queue new-failure, resolved and error events for the subscribed webhooks."""
    summary = summaries.summarize(sess, audit) if audit.state == "completed" else {}
    for event, payload in webhooks.audit_events(summary, audit.state, audit.error):
        webhooks.enqueue(sess, audit.site_id, event, {"site_id": audit.site_id, "audit_id": audit.id,
                                                      "audit_url": f"/api/v1/audits/{audit.id}", **payload})


def audit_context(app: Flask) -> dict[str, Any]:
    """What an audit run needs from the app, captured when it is submitted."""
    db = app.extensions["db"]
    context: dict[str, Any] = {
        "secret_box": app.extensions["secret_box"],
        "data_dir": app.config["DATA_DIR"],
        "device_budget_seconds": app.config["AUDIT_DEVICE_BUDGET_SECONDS"],
        "gather_workers": app.config["AUDIT_GATHER_WORKERS"],
        "driver_options": {**(app.config.get("DRIVER_OPTIONS") or {}),
                           "egress": list(app.config["EGRESS_ALLOWED_NETWORKS"])},
        "on_finished": notify_webhooks,
    }
    if app.config["SIP_SENSOR_EVENTS"]:         # NET-SCAN-001 reads what this box's SIP sensor recorded
        context["sensor_events"] = sensor.audit_source(app.config["DATA_DIR"])
    if app.config["CREDENTIAL_TESTS"]:
        context["driver_options"]["take_attempt"] = PersistentAttemptBudget(
            db, Policy()["credential_test"]["max_attempts_per_device_per_day"])
    for hook in app.extensions.get("audit_hooks", []):
        hook(app, context)
    return context
