"""RMM surfaces on a real audit: waivers and their expiry, drift, check CLI, metrics, schedules, webhooks."""
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from hardening.jobs import schedules, webhooks
from store.audit_models import Schedule, Webhook, WebhookDelivery
from store.models import utcnow

ROOT = Path(__file__).resolve().parents[2]


def _audit(client, auth, site_id):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    app_runner_wait(client, resp.json["id"])
    return client.get(resp.headers["Location"], headers=auth("read")).json


def app_runner_wait(client, audit_id):
    client.application.extensions["audit_runner"].wait(audit_id, timeout=60)


def test_waiver_applies_then_expires_and_says_so(client, auth, insecure_site, monkeypatch):
    audit = _audit(client, auth, insecure_site)
    raw = audit["summary"]["score"]["raw"]
    body = {"check_id": "AWX-SRV-004", "scope": "site", "justification": "mail moves in the January window",
            "approver": "Dana (MSP lead)", "risk": "voicemail mail on 25", "expires_at": None}
    resp = client.post(f"/api/v1/sites/{insecure_site}/waivers", json=body, headers=auth("admin"))
    assert resp.status_code == 201, resp.json
    waived = client.get(f"/api/v1/audits/{audit['id']}", headers=auth("read")).json["summary"]
    assert waived["score"]["raw"] == raw and waived["score"]["waived"] > raw
    rows = client.get(f"/api/v1/audits/{audit['id']}/results?check_id=AWX-SRV-004", headers=auth("read")).json
    assert rows[0]["status"] == "fail" and rows[0]["waived"] is True
    # an already-expired waiver is refused (422 on expires_at); one that expires later stops applying
    # then and is reported as expired
    body.update(check_id="AWX-SRV-001", expires_at=(utcnow() - timedelta(minutes=1)).isoformat() + "Z")
    refused = client.post(f"/api/v1/sites/{insecure_site}/waivers", json=body, headers=auth("admin"))
    assert refused.status_code == 422 and "expires_at" in refused.json["errors"]["json"], refused.json
    body.update(expires_at=(utcnow() + timedelta(hours=1)).isoformat() + "Z")
    assert client.post(f"/api/v1/sites/{insecure_site}/waivers", json=body, headers=auth("admin")).status_code == 201
    from api.audits import views
    monkeypatch.setattr(views, "utcnow", lambda: utcnow() + timedelta(hours=2))     # past its expiry
    rows = client.get(f"/api/v1/audits/{audit['id']}/results?check_id=AWX-SRV-001", headers=auth("read")).json
    assert rows[0]["waived"] is False and rows[0]["waiver"]["expired"] is True


def test_waiver_validation(client, auth, insecure_site):
    bad = [({"check_id": "AWX-NOPE-001"}, "check_id"), ({"scope": "device"}, "device_id"),
           ({"justification": "short"}, "justification")]
    base = {"check_id": "AWX-SRV-004", "scope": "site", "justification": "a long enough reason", "approver": "x"}
    for patch, field in bad:
        resp = client.post(f"/api/v1/sites/{insecure_site}/waivers", json={**base, **patch}, headers=auth("admin"))
        assert resp.status_code == 422 and field in resp.json["errors"]["json"], resp.json


def test_drift_between_audits_and_against_a_baseline(client, auth, insecure_site):
    first = _audit(client, auth, insecure_site)
    assert client.put(f"/api/v1/sites/{insecure_site}/baseline", json={"audit_id": first["id"]},
                      headers=auth("audit")).status_code == 200
    second = _audit(client, auth, insecure_site)
    drift = second["summary"]["drift"]
    assert drift["previous_audit_id"] == first["id"] and drift["baseline_audit_id"] == first["id"]
    assert drift["since_previous"]["new_failures"] == []
    assert len(drift["since_previous"]["unchanged_failures"]) > 3


def test_check_cli_exit_codes(app, client, auth, insecure_site):
    env = {"AWXH_DATA_DIR": app.config["DATA_DIR"], "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "app.py", "check", "--site", str(insecure_site)]
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 3 and first.stdout.startswith("ALLWORX UNKNOWN")
    _audit(client, auth, insecure_site)
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout.startswith("ALLWORX CRITICAL - site sim-insecure: score ")
    assert out.stdout.count("\n") == 1 and "| score=" in out.stdout
    nable = subprocess.run(cmd + ["--nable"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    # POSIX keeps 8 bits of an exit status: --nable exits 0-3 and prints N-able's code on the line
    assert nable.returncode == 2 and nable.stdout.rstrip().endswith(" nable_code=1002") and nable.stderr == ""
    missing = subprocess.run([sys.executable, "app.py", "check", "--site", "nope"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 3


def test_metrics_exposition(client, auth, insecure_site):
    assert client.get("/metrics").status_code == 401
    _audit(client, auth, insecure_site)
    text = client.get("/metrics", headers=auth("read")).get_data(as_text=True)
    assert 'awxh_site_score{kind="raw",site="sim-insecure"}' in text          # labels in name order
    assert 'awxh_check_failing{check_id="AWX-PX-001",site="sim-insecure",target="px-1"} 1' in text


def test_schedule_starts_an_audit_once_when_due(app, client, auth, insecure_site):
    resp = client.post(f"/api/v1/sites/{insecure_site}/schedules", json={"cron": "0 3 * * *"}, headers=auth("admin"))
    assert resp.status_code == 201 and resp.json["next_run_at"].endswith("03:00:00+00:00")
    assert client.post(f"/api/v1/sites/{insecure_site}/schedules", json={"cron": "61 * * * *"},
                       headers=auth("admin")).status_code == 422
    db, runner = app.extensions["db"], app.extensions["audit_runner"]
    assert schedules.tick(db, runner.submit) == []                       # not due yet
    with db.session() as sess:
        sess.get(Schedule, resp.json["id"]).next_run_at = utcnow() - timedelta(minutes=1)
        sess.commit()
    started = schedules.tick(db, runner.submit)
    assert len(started) == 1
    assert schedules.tick(db, runner.submit) == []                       # next slot is in the future
    runner.wait(started[0], timeout=60)


def test_new_failures_webhook_after_an_audit(app, client, auth, insecure_site):
    resp = client.post("/api/v1/webhooks", json={"url": "https://hooks.example.net/awx", "events": ["new_failures"],
                                                 "secret": "s" * 20}, headers=auth("admin"))
    assert resp.status_code == 201 and "secret" not in resp.json
    bad = client.post("/api/v1/webhooks", json={"url": "http://x.test/a\r\nInjected: 1", "events": ["resolved"],
                                                "secret": "s" * 20}, headers=auth("admin"))
    assert bad.status_code == 422 and "url" in bad.json["errors"]["json"]
    _audit(client, auth, insecure_site)
    with app.extensions["db"].session() as sess:
        deliveries = sess.query(WebhookDelivery).all()
        assert [d.event for d in deliveries] == ["new_failures"]
        ids = {f["check_id"] for f in deliveries[0].payload["new_failures"]}
        assert "AWX-PX-001" in ids and deliveries[0].payload["audit_id"] > 0
        assert json.dumps(deliveries[0].payload)                        # serialisable as stored
    log = client.get(f"/api/v1/webhooks/{resp.json['id']}/deliveries", headers=auth("admin")).json
    assert log[0]["state"] == "pending"
    assert webhooks.EVENTS and Webhook
