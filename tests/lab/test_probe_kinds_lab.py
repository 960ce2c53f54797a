"""Severity that follows risk, in the lab: what crosses the real router.

- The outside probe (the probe role under gunicorn with TLS in the internet namespace) asks a PPTP
  Start-Control-Connection-Request and GETs the password-recovery page through the router's DNAT to
  the simulated Allworx VPN and web admin in the PBX namespace; the simulator records who asked (the
  internet address: DNAT keeps the source).
- SIPVicious svmap scans the sensor in the PBX namespace once through the router from the internet and
  once from the LAN: NET-SCAN-002 (high) fails on the LAN source only, NET-SCAN-003 (low) counts only
  the internet one.
Every rule added to the router is removed again by its handle; every process started is stopped by PID."""
from __future__ import annotations

import contextlib
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo
from hardening.sensor import read_events
from simulator import httpd, presets
from simulator.devices import lockout_guard
from simulator.pptp import PptpResponder
from simulator.server import ServerState, ServerWebApp
from tests.lab.test_probe_role import probe_server  # noqa: F401  (the probe-role fixture)

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
SVMAP = Path(sys.executable).with_name("sipvicious_svmap")
MARKERS = ["Security Key", "System Unique ID", "Reset Code"]
ADMIN_PORT, SENSOR_PORT = 8081, 5070


@contextlib.contextmanager
def forwarded(lab, proto: str, port: int, comment: str) -> Iterator[None]:
    """A DNAT of `proto` `port` on the router's WAN to the PBX, removed afterwards by its handle."""
    lab.rtr_sh(f'nft add rule ip portfwd prerouting iifname "wan0" {proto} dport {port} dnat to '
               f'{lab.pbx_ip}:{port} comment "{comment}"')
    try:
        lab.flush_conntrack()
        yield
    finally:
        lab.rtr_sh(f"nft delete rule ip portfwd prerouting handle {lab.dnat_handle(comment)}")
        lab.flush_conntrack()


@pytest.fixture
def pbx_services(lab) -> Iterator[tuple[PptpResponder, ServerWebApp]]:
    """The simulated Allworx VPN (TCP 1723) and web admin with lostPass.asp (TCP 8081), bound in the PBX
    namespace from this process (the sockets keep their namespace), served by daemon threads."""
    config = presets.load("insecure")
    state = ServerState(config["server"])
    web = ServerWebApp(state, lockout_guard(config))
    with lab.netns(lab.pbx):
        vpn = PptpResponder(lab.pbx_ip, 1723, "lab-pbx")
        server, _thread = httpd.serve(lab.pbx_ip, ADMIN_PORT, web)
    try:
        yield vpn, web
    finally:
        vpn.close()
        httpd.stop(server)


def ask_probe(lab, probe, checks):
    url, token, cert = probe
    with lab.netns(lab.app):
        resp = requests.post(f"{url}/api/v1/probe", json={"target": lab.router_wan, "checks": checks, "icmp": False},
                             headers={"Authorization": f"Bearer {token}"}, verify=cert, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]


def test_the_outside_probe_reads_pptp_and_the_recovery_page_through_the_router(lab, probe_server,  # noqa: F811
                                                                                pbx_services):
    vpn, web = pbx_services
    checks = [{"proto": "tcp", "port": 1723, "kind": "pptp"},
              {"proto": "tcp", "port": ADMIN_PORT, "kind": "http_get", "path": "/lostPass.asp", "markers": MARKERS}]
    with forwarded(lab, "tcp", 1723, "fwd-test-pptp"), forwarded(lab, "tcp", ADMIN_PORT, "fwd-test-admin"):
        results = ask_probe(lab, probe_server, checks)
    pptp = results["pptp/1723"]
    assert (pptp["state"], pptp["pptp"], pptp["vendor"], pptp["hostname"]) == ("open", True, "Allworx Server VPN",
                                                                               "lab-pbx")
    assert [(r.source[0], r.valid) for r in vpn.requests] == [(lab.inet_ip, True)]    # it came from the internet
    page = results[f"http_get/{ADMIN_PORT}/lostPass.asp"]
    assert (page["status"], page["server"], page["markers_found"]) == (200, "IST OIS", MARKERS)
    assert web.recovery_requests == [("GET", lab.inet_ip)]
    assert web.state.security_key not in str(results)
    # without the forward the router itself answers 1723: refused, positively no PPTP from the internet
    closed = ask_probe(lab, probe_server, checks[:1])["pptp/1723"]
    assert closed["state"] == "closed" and len(vpn.requests) == 1


@pytest.fixture
def sensor_in_pbx(lab, tmp_path) -> Iterator[Path]:
    if not SVMAP.exists():
        pytest.skip(f"sipvicious is not installed ({SVMAP} missing; pip package 'sipvicious')")
    data_dir = tmp_path / "sensor-data"
    proc = subprocess.Popen(["ip", "netns", "exec", lab.pbx, sys.executable, "-m", "hardening.sensor", "--data-dir",
                             str(data_dir), "--listen", f"{lab.pbx_ip}:{SENSOR_PORT}"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            line = proc.stdout.readline().strip() if sel.select(10) else ""
        assert line == f"sip sensor listening on udp {lab.pbx_ip}:{SENSOR_PORT}", line or proc.stderr.read()
        yield data_dir
    finally:
        proc.terminate()                 # by its PID: SIGTERM flushes the records and exits cleanly
        assert proc.wait(10) == 0


def svmap(lab, ns: str, target: str) -> str:
    return lab.sh(ns, f"{SVMAP} {target} -p {SENSOR_PORT} 2>&1; echo exit=$?", check=False, timeout=60)


def test_a_scanner_from_the_lan_is_high_and_one_from_the_internet_only_counts_as_volume(lab, sensor_in_pbx):
    with forwarded(lab, "udp", SENSOR_PORT, "fwd-test-sensor"):
        from_internet = svmap(lab, lab.inet, lab.router_wan)          # through the router's DNAT
    from_lan = svmap(lab, lab.app, lab.pbx_ip)                         # a LAN host scanning the PBX
    assert from_internet.endswith("exit=30\n") and from_lan.endswith("exit=30\n")     # the sensor stayed silent
    sources = {}
    for _ in range(50):                                                # the sensor writes in batches
        sources = {e["source"] for e in read_events(sensor_in_pbx) or []}
        if {lab.inet_ip, lab.app_ip} <= sources:
            break
        time.sleep(0.1)
    events = read_events(sensor_in_pbx)
    assert {lab.inet_ip, lab.app_ip} <= sources, events
    facts = SiteFacts(SiteInfo("lab", lan_subnets=["10.77.1.0/24"]), sensor_events=events)
    checks = load_all()
    [reported] = checks["NET-SCAN-001"].evaluate(facts, Policy())
    assert reported.status == "fail" and set(reported.observed) == {lab.inet_ip, lab.app_ip}
    [inside] = checks["NET-SCAN-002"].evaluate(facts, Policy())
    assert inside.status == "fail" and set(inside.observed) == {lab.app_ip}
    assert "in the site's LAN subnet 10.77.1.0/24" in inside.evidence[0].detail
    internet = sum(1 + e.get("suppressed_before", 0) for e in events if e["source"] == lab.inet_ip)
    [volume] = checks["NET-SCAN-003"].evaluate(facts, Policy())
    assert volume.status == "pass" and volume.observed == internet
    [strict] = checks["NET-SCAN-003"].evaluate(facts, Policy({"sip_scan": {"internet_requests_per_day": 0}}))
    assert strict.status == "fail" and strict.evidence[0].detail.startswith(f"{lab.inet_ip}: ")
