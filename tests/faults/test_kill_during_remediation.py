"""Fault: the appliance (gunicorn in the lab's `app` namespace) is killed with SIGKILL while it applies a
router change, at three controlled points of the apply:

* `applying`       the row says applying, the router has not been touched (backup not even read);
* `timer_armed`    the router-side revert timer runs (its pid file exists), the change may follow any moment;
* `change_landed`  the router's ruleset just changed (seen live with `nft monitor`), the appliance had no
                   time to read it back and record it.

Then the appliance restarts on the same data dir. The router is only ever in the old or the fully changed
state (sampled all along, compared with nft_live.normalized), and ends up unchanged or rolled back by its own
timer within the confirm timeout; the database is intact; the remediation row is not left `applying`
but failed with an honest "interrupted" reason, and the device lock stays held while the timer may fire.
"""
from __future__ import annotations

import json
import random
import subprocess
import threading

import pytest

from hardening.remediation import nft_live
from tests.faults.conftest import integrity, query, wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]
CONFIRM_TIMEOUT = 3          # seconds until the router's own timer restores the backup


def _ruleset(lab) -> list:
    return nft_live.normalized(lab.rtr_sh("nft -j list ruleset"))


@pytest.fixture
def router(fault_lab):
    """The lab router with its ruleset before the test; restored (and this test's timers stopped) after it."""
    lab = fault_lab
    text, before = lab.rtr_sh("nft list ruleset"), lab.rtr_sh("nft -j list ruleset")
    rids: list[int] = []
    yield lab, nft_live.normalized(before), rids
    for rid in rids:
        lab.stop_revert_timer(rid)          # the PID in its PID file, if that is still its timer in this lab
        lab.remove_remediation_files(rid)
    if _ruleset(lab) != nft_live.normalized(before):
        path = lab.run_dir / "faults-restore.nft"
        path.write_text("flush ruleset\n" + text)
        lab.rtr_sh(f"nft -f {path}")
    lab.flush_conntrack()


def _seed(app, lab) -> int:
    status, site = app.call("POST", "/api/v1/sites", {"name": "lab", "wan_addresses": [lab.router_wan],
                                                      "required_wan_services": ["sip"]})
    assert status == 201, site
    status, pbx = app.call("POST", "/api/v1/devices", {"site_id": site["id"], "kind": "allworx_server",
                                                       "name": "pbx", "address": "10.77.2.20",
                                                       "wan_address": lab.pbx_ip})
    assert status == 201, pbx
    status, router = app.call("POST", "/api/v1/devices", {
        "site_id": site["id"], "kind": "router", "name": "lab-router", "address": lab.router_lan,
        "device_type": "linux", "credentials": {"username": lab.username, "password": lab.password}})
    assert status == 201, router
    return router["id"]


class _Sampler(threading.Thread):
    """Reads the router's ruleset over and over until stopped; every sample is kept."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.lab, self.samples, self.halt = lab, [], threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append(_ruleset(self.lab))
            self.halt.wait(0.03)


def _shape(sample: list, original: list, removed: list) -> str:
    """'original', 'changed' (exactly the planned removals gone) or 'half' (anything else)."""
    if sample == original:
        return "original"
    if [r for r in sample if r not in original] == [] and \
            sorted(map(json.dumps, [r for r in original if r not in sample])) == removed:
        return "changed"
    return "half"


def _planned_removals(original: list, plan: dict) -> list:
    """The normalized rules the plan removes (the 8080 and 143 forwards), found in the original ruleset."""
    assert sorted(r["external_ports"][0] for r in plan["removals"]) == ["143", "8080"], plan["removals"]
    comments = {r["comment"] for r in plan["removals"]}
    gone = [x for x in original if "rule" in x and x["rule"].get("comment") in comments]
    assert len(gone) == 2, comments
    return sorted(map(json.dumps, gone))


def _trigger(kill_point: str, app, lab, rid: int):
    """A callable that blocks until the kill point is reached (and a cleanup for it)."""
    if kill_point == "applying":
        def reached():
            wait_for(lambda: query(app.db_path, "SELECT state FROM remediations WHERE id = ?", rid)
                     == [("applying",)], timeout=20, interval=0.005, what="row applying")
        return reached, lambda: None
    if kill_point == "timer_armed":
        pid_file = lab.revert_pid_file(rid)     # the router shares this /tmp (lab.sh)

        def reached():
            wait_for(pid_file.exists, timeout=20, interval=0.002, what="revert timer armed")
        return reached, lambda: None
    monitor = subprocess.Popen(["ip", "netns", "exec", lab.rtr, "nft", "monitor", "rules"],
                               stdout=subprocess.PIPE, text=True)

    def landed():
        for line in monitor.stdout:              # blocks; the apply is one nft transaction
            if line.startswith("delete rule ip portfwd prerouting"):
                return
        raise AssertionError("nft monitor ended before the change landed")

    def stop():
        monitor.kill()
        monitor.wait(5)
    return landed, stop


@pytest.mark.parametrize("kill_point", ["applying", "timer_armed", "change_landed"])
def test_sigkill_during_apply_leaves_router_whole_and_row_honest(appliance, router, kill_point):
    lab, original, rids = router
    # one worker: the apply runs inside its request, in one process anyway; it boots twice as fast
    app = appliance(netns=lab.app, workers=1, env={"AWXH_EGRESS_ALLOWED_NETWORKS": '["10.77.1.0/24"]'})
    router_id = _seed(app, lab)
    planned = app.post("/api/v1/remediations", {"device_id": router_id})
    assert planned.status_code == 201 and planned.json()["state"] == "planned", planned.text
    removed = _planned_removals(original, planned.json()["plan"])

    # a number of our own for the router-side files in the shared /tmp, and a short timer (as the live tests do)
    rid = random.randint(700000, 799999)
    rids.append(rid)
    query(app.db_path, "UPDATE remediations SET id = ?, confirm_timeout_seconds = ? WHERE id = ?",
          rid, CONFIRM_TIMEOUT, planned.json()["id"])
    assert query(app.db_path, "SELECT state FROM remediations WHERE id = ?", rid) == [("planned",)]

    reached, stop_trigger = _trigger(kill_point, app, lab, rid)
    outcome: dict = {}

    def apply():
        try:
            outcome["response"] = app.post(f"/api/v1/remediations/{rid}/apply", timeout=60)
        except Exception as exc:                    # the server dies under the request
            outcome["error"] = exc
    caller = threading.Thread(target=apply, daemon=True)
    sampler = _Sampler(lab)                 # the router's ruleset from before the apply to the very end
    sampler.start()
    try:
        try:
            caller.start()
            reached()
            app.kill()
        finally:
            stop_trigger()
        caller.join(15)
        assert "response" not in outcome, f"the apply finished before the kill: {outcome['response'].text}"
        at_kill = _shape(_ruleset(lab), original, removed)
        assert integrity(app.db_path) == ("ok", [])
        assert query(app.db_path, "SELECT state FROM remediations WHERE id = ?", rid) == [("applying",)]
        backup = json.loads(query(app.db_path, "SELECT backup FROM remediations WHERE id = ?", rid)[0][0])
        if kill_point == "applying":
            assert at_kill == "original" and backup == {}
        elif kill_point == "change_landed":
            assert at_kill == "changed" and backup["json"]
        else:
            assert at_kill in ("original", "changed") and backup["json"]

        app.start()
        row = app.get(f"/api/v1/remediations/{rid}").json()
        assert row["state"] == "failed", row
        assert row["error"].startswith("interrupted: the appliance stopped"), row["error"]
        if backup:
            assert "router's own timer puts back the rules this change removed" in row["error"]
            assert f"{CONFIRM_TIMEOUT} s after the apply began" in row["error"]
        else:
            assert "before the router was changed" in row["error"]
        # the lock stays while the router's timer may still fire: no other change can race it
        lock = query(app.db_path, "SELECT holder FROM device_locks WHERE device_id = ?", router_id)
        assert lock == [(f"remediation:{rid}",)]
        assert "locked until" in row["error"]
        again = app.post(f"/api/v1/remediations/{rid}/apply")
        assert again.status_code == 409 and "is failed" in again.json()["message"]

        if backup:      # the timer was armed: it fires by itself (the appliance never touches the router again)
            assert lab.revert_pid_file(rid).exists()
            wait_for(lambda: lab.revert_timer_pid(rid) is None,      # the PID in its file is no longer the timer
                     timeout=CONFIRM_TIMEOUT + 10, interval=0.1, what="router revert timer done")
        else:
            assert not lab.revert_pid_file(rid).exists()
        final = wait_for(lambda: _ruleset(lab) == original, timeout=5, what="router back to its old ruleset")
        assert final
    finally:
        sampler.halt.set()
        sampler.join(10)
    shapes = [_shape(s, original, removed) for s in sampler.samples]
    assert "half" not in shapes, shapes
    runs = [shape for i, shape in enumerate(shapes) if i == 0 or shapes[i - 1] != shape]
    if kill_point == "applying":
        assert runs == ["original"]
    elif kill_point == "change_landed":          # changed once, then reverted by the router itself, for good
        assert runs == ["original", "changed", "original"]
    else:
        assert runs in (["original"], ["original", "changed", "original"])
    assert app.get(f"/api/v1/remediations/{rid}").json()["state"] == "failed"
    app.kill()                                  # a second crash, just after the recovery: still intact
    assert integrity(app.db_path) == ("ok", [])
    assert query(app.db_path, "SELECT state FROM remediations WHERE id = ?", rid) == [("failed",)]
