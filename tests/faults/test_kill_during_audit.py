"""Fault: the appliance (gunicorn master and workers) is killed with SIGKILL while an audit gathers.

After a restart on the same data dir the database is intact, the audit is still there exactly once,
marked `interrupted` (not stuck `running`, which would block the site with 409s), without results;
a re-run works, completes, and its result rows are not duplicated.
"""
from __future__ import annotations

from collections import Counter

import pytest

from simulator import start_site
from simulator.seed import seed_site
from tests.faults.conftest import integrity, query, wait_for

pytestmark = pytest.mark.slow


def _audit(app, audit_id: int) -> dict:
    resp = app.get(f"/api/v1/audits/{audit_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_sigkill_mid_gather_then_restart_marks_interrupted_and_rerun_completes(appliance):
    # 200 ms per device request: the audit gathers for about 5 s, plenty of time to kill it mid-way
    with start_site("insecure", snmp=False, latency_ms=200) as site:
        app = appliance()
        site_id = seed_site(app.call, "sim-killed", site.inventory(),
                            site_fields={"required_wan_services": ["sip", "vpn"]})
        started = app.post(f"/api/v1/sites/{site_id}/audits")
        assert started.status_code == 202, started.text
        audit_id = started.json()["id"]
        gathering = wait_for(lambda: (a := _audit(app, audit_id))["progress"].get("phase") == "gathering" and a,
                             timeout=20, what="audit gathering")
        assert gathering["state"] == "running"
        assert gathering["progress"]["devices_done"] < gathering["progress"]["devices_total"]

        app.kill()

        # the file the dead process left behind, before anything opens it again
        assert integrity(app.db_path) == ("ok", [])
        assert query(app.db_path, "SELECT state FROM audits WHERE id = ?", audit_id) == [("running",)]
        assert query(app.db_path, "SELECT count(*) FROM audit_results WHERE audit_id = ?", audit_id) == [(0,)]

        site.set_latency(0)
        app.start()
        after = _audit(app, audit_id)
        assert after["state"] == "interrupted", after
        assert "re-run" in after["error"] and after["finished_at"]
        listed = app.get(f"/api/v1/sites/{site_id}/audits").json()
        assert [a["id"] for a in listed] == [audit_id]                     # not lost, not duplicated
        assert app.get(f"/api/v1/audits/{audit_id}/results").status_code == 409

        rerun = app.post(f"/api/v1/audits/{audit_id}/rerun")
        assert rerun.status_code == 202, rerun.text
        assert rerun.json()["rerun_of"] == audit_id
        new_id = rerun.json()["id"]
        # while the re-run is active, the site takes no second audit (no duplicate run)
        second = app.post(f"/api/v1/sites/{site_id}/audits")
        assert second.status_code == 409 and "in progress" in second.json()["message"], second.text
        done = wait_for(lambda: (a := _audit(app, new_id))["state"] not in ("queued", "running") and a,
                        timeout=40, interval=0.1, what="re-run finished")
        assert done["state"] == "completed", done
        assert done["progress"]["devices_done"] == done["progress"]["devices_total"] == 5

        rows = app.get(f"/api/v1/audits/{new_id}/results").json()
        keys = Counter((r["check_id"], r["device_id"], r["target"]) for r in rows)
        assert rows and [k for k, n in keys.items() if n > 1] == []
        assert query(app.db_path, "SELECT count(*) FROM audit_results WHERE audit_id = ?", new_id) == [(len(rows),)]
        assert query(app.db_path, "SELECT count(*) FROM audit_results WHERE audit_id = ?", audit_id) == [(0,)]
        states = dict(query(app.db_path, "SELECT id, state FROM audits WHERE site_id = ?", site_id))
        assert states == {audit_id: "interrupted", new_id: "completed"}
        assert _audit(app, audit_id)["state"] == "interrupted"             # the re-run did not rewrite it
        app.stop()
        assert integrity(app.db_path) == ("ok", [])
