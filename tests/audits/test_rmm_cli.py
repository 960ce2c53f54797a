"""The check command as an RMM runs it (a subprocess on the appliance's database) and GET /metrics, on
a site whose router refuses the appliance's login: one line on stdout, nothing on stderr (no library
log lines), UNKNOWN with the reason named, N-able's code on the line; sites found by name ignoring case."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from device_drivers.routers import Timeouts
from store.models import Site
from tests.ssh_stub import refusing_ssh_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def refusing_router() -> Iterator[int]:
    """A real SSH server on loopback that completes the key exchange and refuses every login."""
    with refusing_ssh_server() as (port, _key, _iface):
        yield port


def _check(app, *args):
    env = {"AWXH_DATA_DIR": app.config["DATA_DIR"], "PATH": "/usr/bin:/bin",
           "AWXH_ROUTER_DRIVER_OPTIONS": '{"connect_retries": 0}'}
    return subprocess.run([sys.executable, "app.py", "check", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _router_site(client, auth, port, name="Branch Office"):
    site = client.post("/api/v1/sites", json={"name": name}, headers=auth("admin")).json
    resp = client.post("/api/v1/devices", headers=auth("admin"), json={
        "site_id": site["id"], "kind": "router", "name": "gw", "address": "127.0.0.1", "device_type": "linux",
        "ports": {"ssh": port}, "credentials": {"username": "root", "password": "not-the-password"}})
    assert resp.status_code == 201, resp.json
    return site


def test_check_run_on_a_refusing_router_is_one_unknown_line_and_a_silent_stderr(app, client, auth,
                                                                                   refusing_router):
    _router_site(client, auth, refusing_router)
    out = _check(app, "--site", "branch office", "--run", "--nable")
    assert out.stderr == ""                     # paramiko/netmiko INFO lines and warnings are held back
    assert out.returncode == 3, out.stdout
    assert out.stdout.count("\n") == 1 and out.stdout.startswith("ALLWORX UNKNOWN - site Branch Office: ")
    assert " gw" in out.stdout and "auth" in out.stdout.lower()           # the router's failure is named
    assert out.stdout.rstrip().endswith(" nable_code=1003")
    again = _check(app, "--site", "Branch Office", "--fail-on-new")     # nothing new is still not OK
    assert again.returncode == 3 and again.stderr == "" and again.stdout.startswith("ALLWORX UNKNOWN")


def test_metrics_of_a_site_with_a_withheld_score_and_an_unreachable_router(app, client, auth, refusing_router):
    app.config["ROUTER_DRIVER_OPTIONS"] = {"timeouts": Timeouts(conn=1.0, banner=1.0, auth=2.0, read=2.0),
                                           "connect_retries": 0}
    site = _router_site(client, auth, refusing_router)
    resp = client.post(f"/api/v1/sites/{site['id']}/audits", json={}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    app.extensions["audit_runner"].wait(resp.json["id"], timeout=60)
    text = client.get("/metrics", headers=auth("read")).get_data(as_text=True)
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for family in text_string_to_metric_families(text) for s in family.samples}

    def value(name, **labels):
        return got[(name, tuple(sorted({"site": "Branch Office", **labels}.items())))]
    assert value("awxh_site_state", state="UNKNOWN") == 1 and value("awxh_site_state", state="OK") == 0
    assert value("awxh_device_reachable", device="gw", kind="router") == 0
    withheld = [(dict(k[1]), v) for k, v in got.items() if k[0] == "awxh_site_score_withheld"]
    assert len(withheld) == 1 and withheld[0][1] == 1 and "gw" in withheld[0][0]["reason"], withheld
    assert math.isnan(value("awxh_site_score", kind="raw"))
    assert 0 <= value("awxh_site_audit_age_seconds") < 120


def test_site_names_are_matched_ignoring_case_and_an_ambiguous_name_is_unknown(app, client, auth):
    assert client.post("/api/v1/sites", json={"name": "Dental North"}, headers=auth("admin")).status_code == 201
    out = _check(app, "--site", "dental NORTH")
    assert (out.returncode, out.stdout, out.stderr) == (
        3, "ALLWORX UNKNOWN - site Dental North: the site has no devices\n", "")
    with app.extensions["db"].session() as sess:           # the API may refuse a name differing only in case
        sess.add(Site(name="DENTAL NORTH"))
        sess.commit()
    out = _check(app, "--site", "dental north", "--nable")
    assert (out.returncode, out.stdout, out.stderr) == (3, (
        "ALLWORX UNKNOWN - site 'dental north' is ambiguous: 'DENTAL NORTH', 'Dental North' | nable_code=1003\n"), "")
    exact = _check(app, "--site", "Dental North")
    assert exact.stdout == "ALLWORX UNKNOWN - site Dental North: the site has no devices\n"


def test_a_check_that_cannot_run_is_unknown_and_only_then_says_why_on_stderr(tmp_path):
    (tmp_path / "file").write_text("")                      # a data directory that cannot be made
    out = subprocess.run([sys.executable, "app.py", "check", "--site", "1", "--nable"], cwd=ROOT, timeout=60,
                         env={"AWXH_DATA_DIR": str(tmp_path / "file" / "data"), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    assert out.returncode == 3 and out.stdout.count("\n") == 1
    assert out.stdout.startswith("ALLWORX UNKNOWN - check failed: NotADirectoryError")
    assert out.stdout.rstrip().endswith(" nable_code=1003")
    assert "Traceback" in out.stderr and "NotADirectoryError" in out.stderr
