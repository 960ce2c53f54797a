"""Audits as jobs: 202 + Location, progress, one at a time per site, results, status, re-run."""
import socket
import subprocess
import time

import pytest

from api.wiring import background_duties
from hardening.engine.audits import process_name, sweep_stale
from store.audit_models import Audit
from store.db import get_db
from store.models import utcnow


def _wait(client, auth, url, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url, headers=auth("read")).json
        if body["state"] not in ("queued", "running"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"audit did not finish: {body}")


def _start(client, auth, site_id, profile="baseline"):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": profile}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    return resp


def test_audit_runs_in_background_and_reports(client, auth, insecure_site):
    resp = _start(client, auth, insecure_site)
    url = resp.headers["Location"]
    assert url == f"/api/v1/audits/{resp.json['id']}"
    done = _wait(client, auth, url)
    assert done["state"] == "completed", done
    assert done["progress"]["devices_done"] == done["progress"]["devices_total"] == 5
    summary = done["summary"]
    assert summary["overall"] == "CRITICAL"
    assert 0 <= summary["score"]["raw"] < 60
    rows = client.get(f"{url}/results", headers=auth("read")).json
    failing = {r["check_id"] for r in rows if r["status"] == "fail"}
    # what the insecure preset is built to get wrong
    assert {"AWX-SRV-001", "AWX-SRV-004", "AWX-PHN-004", "AWX-PHN-005", "AWX-PHN-006", "AWX-PX-001"} <= failing
    assert all(r["remediation"]["hint"] for r in rows)


def test_secure_preset_has_no_failures(client, auth, secure_site):
    url = _start(client, auth, secure_site).headers["Location"]
    done = _wait(client, auth, url)
    rows = client.get(f"{url}/results", headers=auth("read")).json
    assert [r for r in rows if r["status"] == "fail"] == []
    assert done["summary"]["score"]["raw"] == 100


def test_second_audit_of_a_site_is_409_while_one_runs(app, client, auth, insecure_site):
    with app.app_context(), get_db().session() as sess:
        sess.add(Audit(site_id=insecure_site, state="running", heartbeat_at=utcnow()))
        sess.commit()
    resp = client.post(f"/api/v1/sites/{insecure_site}/audits", json={}, headers=auth("audit"))
    assert resp.status_code == 409 and "in progress" in resp.json["message"]


def test_interrupted_audit_is_marked_and_rerun_once(app, client, auth, insecure_site):
    with app.app_context(), get_db().session() as sess:
        stale = Audit(site_id=insecure_site, state="running", heartbeat_at=utcnow().replace(year=2020))
        sess.add(stale)
        sess.commit()
        assert sweep_stale(sess) == [stale.id]
        stale_id = stale.id
    got = client.get(f"/api/v1/audits/{stale_id}", headers=auth("read")).json
    assert got["state"] == "interrupted" and "re-run" in got["error"]
    resp = client.post(f"/api/v1/audits/{stale_id}/rerun", headers=auth("audit"))
    assert resp.status_code == 202 and resp.json["rerun_of"] == stale_id
    done = _wait(client, auth, resp.headers["Location"])
    assert done["state"] == "completed"
    again = client.post(f"/api/v1/audits/{done['id']}/rerun", headers=auth("audit"))
    assert again.status_code == 409


def test_results_of_an_unfinished_audit_are_409(app, client, auth, insecure_site):
    with app.app_context(), get_db().session() as sess:
        audit = Audit(site_id=insecure_site, state="running", heartbeat_at=utcnow())
        sess.add(audit)
        sess.commit()
        audit_id = audit.id
    assert client.get(f"/api/v1/audits/{audit_id}/results", headers=auth("read")).status_code == 409


def test_unknown_profile_is_422(client, auth, insecure_site):
    resp = client.post(f"/api/v1/sites/{insecure_site}/audits", json={"profile": "nope"}, headers=auth("audit"))
    assert resp.status_code == 422 and "profile" in resp.json["errors"]["json"]


def test_status_for_rmm(client, auth, insecure_site):
    first = client.get(f"/api/v1/sites/{insecure_site}/status", headers=auth("read")).json
    assert first["overall"] == "UNKNOWN" and first["last_audit"] is None
    _wait(client, auth, _start(client, auth, insecure_site).headers["Location"])
    status = client.get(f"/api/v1/sites/{insecure_site}/status", headers=auth("read")).json
    assert status["overall"] == "CRITICAL"
    assert status["score"]["raw"] < 60
    assert {f["check_id"] for f in status["new_failures"]} >= {"AWX-PX-001"}


def test_junit_and_sarif_formats(client, auth, insecure_site):
    import json
    import xml.etree.ElementTree as ET
    url = _wait(client, auth, _start(client, auth, insecure_site).headers["Location"])["id"]
    junit = client.get(f"/api/v1/audits/{url}/results?format=junit", headers=auth("read"))
    assert junit.mimetype == "application/xml"
    root = ET.fromstring(junit.data)
    assert root.iter("failure") is not None and any(True for _ in root.iter("failure"))
    sarif = client.get(f"/api/v1/audits/{url}/results?format=sarif", headers=auth("read"))
    doc = json.loads(sarif.data)
    assert doc["version"] == "2.1.0"
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"AWX-PX-001"}


@pytest.mark.parametrize("scope, code", [("read", 403), ("audit", 202)])
def test_starting_an_audit_needs_audit_scope(client, auth, insecure_site, scope, code):
    assert client.post(f"/api/v1/sites/{insecure_site}/audits", json={}, headers=auth(scope)).status_code == code



def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _add(app, **fields) -> int:
    with app.app_context(), get_db().session() as sess:
        audit = Audit(**fields)
        sess.add(audit)
        sess.commit()
        return audit.id


def _state(app, audit_id) -> str:
    with app.app_context(), get_db().session() as sess:
        return sess.get(Audit, audit_id).state


def test_periodic_sweep_frees_a_site_whose_audit_was_accepted_by_a_killed_worker(app, client, auth, insecure_site):
    """A worker killed after accepting an audit and before running it leaves it queued: the leader's
    periodic sweep (not only a restart) marks it interrupted, so the site can be audited again."""
    host = socket.gethostname()
    orphan = _add(app, site_id=insecure_site, state="queued", runner=f"{host}:{_dead_pid()}")
    assert client.post(f"/api/v1/sites/{insecure_site}/audits", json={}, headers=auth("audit")).status_code == 409
    duty = next(d for d in background_duties(app) if d.__name__ == "sweep_orphaned_audits")
    with app.app_context():
        assert duty() == [orphan]
    assert _state(app, orphan) == "interrupted"


def test_periodic_sweep_spares_live_runners_that_the_start_up_sweep_would_not(app, insecure_site):
    host = socket.gethostname()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        # a live runner whose heartbeat is old (the database was busy): spared while running ...
        slow = _add(app, site_id=insecure_site, state="running", runner=f"{host}:{alive.pid}",
                    heartbeat_at=utcnow().replace(year=2020))
        with app.app_context(), get_db().session() as sess:
            assert sweep_stale(sess, at_start_up=False) == []
            assert sweep_stale(sess) == [slow]                    # ... a restart ends it
        # work queued by this very process: spared while it lives, not at its own start-up
        mine = _add(app, site_id=insecure_site, state="queued", runner=process_name())
        with app.app_context(), get_db().session() as sess:
            assert sweep_stale(sess, at_start_up=False) == []
            assert sweep_stale(sess) == [mine]
    finally:
        alive.kill()
        alive.wait()
