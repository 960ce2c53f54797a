"""An audit asks the outside probe a PPTP handshake (NET-VPN-001) and a GET of the password-recovery page
(AWX-SRV-009) besides the ports. Here the probe's transport is replaced by the real probe code run against
the simulator on loopback (the WAN ports 8080 and 1723 mapped to the simulator's), so what the checks
judge is what the wire said."""
from __future__ import annotations

import pytest
import requests

from device_drivers.inventory import DeviceSpec
from hardening.engine import outside
from hardening.engine.outside import MAX_CHECKS, AuditProbe, ProbeEndpoint
from hardening.model.policy import Policy
from hardening.model.site import SiteInfo
from simulator import start_site
from simulator.seed import flask_call, seed_site
from tests.audits.test_audit_api import _wait as wait_for_audit

WAN = "203.0.113.10"
MINE = ("AWX-SRV-008", "AWX-SRV-009", "NET-VPN-001")
FORM = {"proto": "tcp", "port": 8080, "kind": "http_get", "path": "/lostPass.asp",
        "markers": ["Security Key", "System Unique ID", "Reset Code"], "tls": False}


@pytest.fixture
def configured(audit_app):
    audit_app.config.update(OUTSIDE_PROBE_URL="https://probe.invalid:8443", OUTSIDE_PROBE_TOKEN="probe-token")
    return audit_app


def wire(monkeypatch, server, fail: Exception | None = None) -> list:
    """outside.ask answered by the real probe code against the simulated server (WAN 8080 -> its web
    admin, 1723 -> its PPTP responder); every other port refused."""
    asked = []
    mapping = {8080: server.ports["web_admin"], 1723: server.pptp.port if server.pptp else None}

    def ask(url, token, ca, target, checks, icmp=True):
        asked.append(checks)
        if fail is not None:
            raise fail
        out = {}
        for check in checks:
            real = mapping.get(check["port"]) if check.get("kind") in ("pptp", "http_get") else None
            key = outside.probe_key(check)
            out[key] = next(iter(outside.run_probes(server.address, [{**check, "port": real}], False, 1.0).values())) \
                if real else {"state": "closed", "reason": "Connection refused"}
        return {**out, "icmp": {"answered": False, "reason": "no reply"}}
    monkeypatch.setattr(outside, "ask", ask)
    return asked


def audit(client, auth, site, preset):
    site_id = seed_site(flask_call(client, auth("admin")), f"sim-{preset}", site.inventory(),
                        site_fields={"required_wan_services": ["sip", "vpn"], "wan_addresses": [WAN]})
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": "baseline"}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    done = wait_for_audit(client, auth, resp.headers["Location"], timeout=60)
    assert done["state"] == "completed", done
    rows = client.get(f"{resp.headers['Location']}/results", headers=auth("read")).json
    return done, {r["check_id"]: r for r in rows if r["check_id"] in MINE}


def test_the_question_asks_the_recovery_page_after_the_admin_ports_and_pptp():
    servers = [DeviceSpec(1, "allworx_server", "pbx", "192.168.1.10", ports={"web_admin": 8081})]
    probe = AuditProbe.for_site(ProbeEndpoint("https://p", "t"), SiteInfo("s", wan_addresses=[WAN]), servers,
                                Policy())
    assert probe.checks[:3] == [{"proto": "tcp", "port": 8080}, FORM, {**FORM, "port": 8081}]
    assert {"proto": "tcp", "port": 1723, "kind": "pptp"} in probe.checks
    assert {"http_get/8080/lostPass.asp", "http_get/8081/lostPass.asp", "pptp/1723", "tcp/8080"} <= set(probe.keys)
    tls = AuditProbe.for_site(ProbeEndpoint("https://p", "t"), SiteInfo("s", wan_addresses=[WAN]), [],
                              Policy({"admin_ports": [8080, 443]}))
    assert {**FORM, "port": 443, "tls": True} in tls.checks
    wide = AuditProbe.for_site(ProbeEndpoint("https://p", "t"), SiteInfo("s", wan_addresses=[WAN]), [],
                               Policy({"admin_ports": ["8000-8999"]}))
    assert len(wide.checks) == MAX_CHECKS and all("kind" not in c for c in wide.checks)   # admin ports first


def test_an_exposed_recovery_page_and_pptp_vpn_fail_from_what_the_wire_said(configured, client, auth, monkeypatch):
    with start_site("insecure", snmp=False, overrides={"server": {"pptp_vpn": True}}) as site:
        asked = wire(monkeypatch, site.server)
        done, rows = audit(client, auth, site, "insecure")
        key, secret = site.server.state.security_key, site.server.state.system_unique_id
        recovery_gets = [m for m, _ in site.server.web.recovery_requests]
    assert any(c.get("kind") == "http_get" for c in asked[0]) and any(c.get("kind") == "pptp" for c in asked[0])
    srv9 = rows["AWX-SRV-009"]
    assert srv9["status"] == "fail" and srv9["severity"] == "critical" and srv9["provenance"] == "observed"
    assert srv9["message"].startswith("the admin password-recovery form is reachable from the internet: from the "
                                      "internet: GET /lostPass.asp on TCP 8080 of the WAN address: HTTP 200")
    probe_ev = [e for e in srv9["evidence"] if e["source"] == "probe:http_get/8080/lostPass.asp"]
    assert probe_ev and "markers found: Security Key, System Unique ID, Reset Code" in probe_ev[0]["excerpt"]
    everything = str(done) + str(rows)
    assert key not in everything and secret not in everything                # the form's values never travel
    assert recovery_gets and set(recovery_gets) == {"GET"}                   # the LAN GET and the outside GET
    vpn = rows["NET-VPN-001"]
    assert vpn["status"] == "fail" and vpn["severity"] == "medium"
    assert "the Allworx VPN answers PPTP on TCP 1723" in vpn["message"] and "AWX-SRV-008" in vpn["message"]
    assert done["summary"]["overall"] == "CRITICAL"


def test_a_secure_server_passes_the_recovery_page_and_keeps_its_vpn_advice(configured, client, auth, monkeypatch):
    with start_site("secure", snmp=False) as site:
        wire(monkeypatch, site.server)
        _done, rows = audit(client, auth, site, "secure")
    srv9 = rows["AWX-SRV-009"]
    assert srv9["status"] == "pass" and "HTTP 403: not served" in srv9["message"]
    assert any(e["source"] == "probe:http_get/8080/lostPass.asp" for e in srv9["evidence"])
    assert rows["AWX-SRV-008"]["status"] == "pass"               # the vendor's advice: its VPN for maintenance
    vpn = rows["NET-VPN-001"]                                    # ... which is PPTP, reachable from the internet
    assert vpn["status"] == "fail" and "PPTP is a weak protocol" in vpn["message"]


def test_a_probe_that_fails_leaves_both_undecided(configured, client, auth, monkeypatch):
    with start_site("secure", snmp=False) as site:
        wire(monkeypatch, site.server, fail=requests.ConnectionError("probe down"))
        _done, rows = audit(client, auth, site, "secure")
    for check_id in ("AWX-SRV-009", "NET-VPN-001"):
        assert rows[check_id]["status"] == "error", rows[check_id]
        assert "probe down" in rows[check_id]["message"]


def test_an_older_probe_refusing_the_new_kinds_is_asked_again_without_them(monkeypatch):
    calls = []

    def ask(url, token, ca, target, checks, icmp=True):
        calls.append(checks)
        if any("kind" in c for c in checks):
            response = requests.Response()
            response.status_code = 422
            raise requests.HTTPError("422 Unprocessable Entity", response=response)
        return {outside.probe_key(c): {"state": "open", "banner": ""} for c in checks}
    monkeypatch.setattr(outside, "ask", ask)
    probe = AuditProbe(ProbeEndpoint("https://p", "t"), WAN, [{"proto": "tcp", "port": 8080}, FORM,
                                                              {"proto": "tcp", "port": 1723, "kind": "pptp"}], False)
    results = probe.run()
    assert [len(c) for c in calls] == [3, 1]
    assert results["tcp/8080"] == {"state": "open", "banner": ""}
    for key in ("http_get/8080/lostPass.asp", "pptp/1723"):
        assert results[key]["state"] == "error" and "older probe release" in results[key]["reason"]
