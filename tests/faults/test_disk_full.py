"""Fault: the appliance's disk fills up while it writes an audit's results.

The data dir is a small tmpfs (root only) holding one completed audit; a filler file then takes all but
a little of the space and a second audit runs. The answer is a clear "disk is full" (a JSON 507, or the
audit failed with that error), never a traceback; the database stays intact with the earlier audit
readable; the new audit does not stay active (it would block the site with 409s) once there is room
again; and after the filler is deleted a new audit completes.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import store.db
from api.auth import new_token
from api.settings import TestConfig
from app import create_app
from simulator import start_site
from simulator.seed import flask_call, seed_site
from simulator.testing import quick_policy
from tests.faults.conftest import integrity, query, wait_for

pytestmark = pytest.mark.slow
TMPFS_SIZE = "6m"


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs mount, which needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(mount)], check=True)      # something still held a file


def _fill(mount: Path, leave: int) -> Path:
    """A filler file taking all free space but `leave` bytes."""
    filler = mount / "filler"
    stat = os.statvfs(mount)
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


def _free(mount: Path) -> int:
    stat = os.statvfs(mount)
    return stat.f_bavail * stat.f_frsize


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "[SQL:" not in text and 'File "' not in text, text[:2000]


@pytest.mark.parametrize("leave, synchronous", [(0, True), (48 * 1024, True), (48 * 1024, False)],
                         ids=["no-room-at-all", "room-for-the-row-only", "room-for-the-row-only-background"])
def test_disk_full_while_writing_results(small_disk, leave, synchronous):
    data_dir = small_disk / "data"
    config = {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, "DATA_DIR": str(data_dir),
              "TESTING": False,                    # errors answered as in production, not raised into the test
              "AUDITS_SYNCHRONOUS": synchronous, "AUDIT_DEVICE_BUDGET_SECONDS": 20.0,
              "DRIVER_OPTIONS": {"allworx": {"policy": quick_policy()}}}
    app = create_app(config)
    db = app.extensions["db"]
    try:
        with db.session() as sess:
            _row, token = new_token(sess, "faults-admin", "admin")
            sess.commit()
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        db_path = data_dir / "appliance.db"

        def get(url):
            resp = client.get(url, headers=headers)
            _no_traceback(resp.get_data(as_text=True))
            return resp

        def run_audit(site_id):
            resp = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=headers)
            _no_traceback(resp.get_data(as_text=True))
            if resp.status_code == 202 and not synchronous:
                try:
                    app.extensions["audit_runner"].wait(resp.json["id"], timeout=60)
                except Exception as exc:          # the background run ended in the error it could not record
                    assert store.db.disk_full(exc), repr(exc)
            return resp

        with start_site("insecure", snmp=False) as site:
            site_id = seed_site(flask_call(client, headers), "sim-disk", site.inventory(),
                                site_fields={"required_wan_services": ["sip", "vpn"]})
            first = run_audit(site_id)
            assert first.status_code == 202
            first_id = first.json["id"]
            assert get(f"/api/v1/audits/{first_id}").json["state"] == "completed"
            earlier = get(f"/api/v1/audits/{first_id}/results").json
            assert len(earlier) > 10

            filler = _fill(small_disk, leave)
            assert _free(small_disk) <= leave + 8192
            second = run_audit(site_id)
            if second.status_code == 507:
                assert second.json["message"].startswith("The appliance's disk is full"), second.json
            else:
                assert second.status_code == 202, second.get_data(as_text=True)
            audits = {a["id"]: a for a in get(f"/api/v1/sites/{site_id}/audits").json}
            new_ids = sorted(set(audits) - {first_id})
            if leave == 0:
                assert second.status_code == 507 and new_ids == []         # not even the audit row fitted
            else:
                assert len(new_ids) == 1                                   # the row fitted, its results did not
                assert audits[new_ids[0]]["state"] != "completed"
                assert query(db_path, "SELECT count(*) FROM audit_results WHERE audit_id = ?", new_ids[0]) == [(0,)]

            # on the full disk: the file is sound, the earlier audit reads as before
            assert integrity(db_path) == ("ok", [])
            assert get(f"/api/v1/audits/{first_id}").json["state"] == "completed"
            assert get(f"/api/v1/audits/{first_id}/results").json == earlier

            filler.unlink()
            for audit_id in new_ids:      # with room again the failure gets recorded: the site is free
                failed = wait_for(lambda: (a := get(f"/api/v1/audits/{audit_id}").json)["state"] == "failed" and a,
                                  timeout=10, interval=0.1, what=f"audit {audit_id} recorded as failed")
                assert "disk is full" in failed["error"], failed
                assert get(f"/api/v1/audits/{audit_id}/results").status_code == 409
            third = run_audit(site_id)
            assert third.status_code == 202, third.get_data(as_text=True)
            done = get(f"/api/v1/audits/{third.json['id']}").json
            assert done["state"] == "completed", done
            assert len(get(f"/api/v1/audits/{third.json['id']}/results").json) == len(earlier)
            assert get(f"/api/v1/audits/{first_id}/results").json == earlier
        assert integrity(db_path) == ("ok", [])
    finally:
        db.engine.dispose()                 # let go of the files on the tmpfs before it is unmounted
