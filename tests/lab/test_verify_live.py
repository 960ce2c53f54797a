"""Verify and audit the real lab router (nftables + OpenSSH in namespaces) through the API: an RDP forward
to a LAN host that is no Allworx device is reported by NET-EXP-001 in both, and one router that cannot be
read (nothing listens; a wrong device_type) is an entry with its error while the real one is verified."""
from __future__ import annotations

import pytest

from tests.lab.labctl import FAST

pytestmark = pytest.mark.lab

RDP_RULE = 'iifname "wan0" tcp dport 3389 dnat to 10.77.1.30:3389 comment "fwd-office-rdp"'


@pytest.fixture
def lab_site(app, client, auth, lab):
    """The lab as an inventory (the PBX at 10.77.1.20 is the Allworx server's WAN side, SIP required);
    add_router(name, address, device_type) adds routers with the lab's login."""
    app.config["EGRESS_ALLOWED_NETWORKS"] = ["10.77.1.0/24"]
    app.config["ROUTER_DRIVER_OPTIONS"] = {"timeouts": FAST, "connect_retries": 0}
    app.extensions["audit_runner"].synchronous = True           # the audit runs here, in the app namespace
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "lab-exposure", "wan_addresses": [lab.router_wan],
                                              "required_wan_services": ["sip"]}, headers=h).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "10.77.2.20", "wan_address": lab.pbx_ip}, headers=h)

    def add_router(name, address, device_type="linux"):
        resp = client.post("/api/v1/devices", headers=h, json={
            "site_id": site["id"], "kind": "router", "name": name, "address": address, "device_type": device_type,
            "credentials": {"username": lab.username, "password": lab.password}})
        assert resp.status_code == 201, resp.json
        return resp.json
    return site, add_router


@pytest.fixture
def rdp_forward(lab):
    """An RDP forward to a LAN PC on the lab router for the test, removed after it by its handle."""
    lab.rtr_sh(f"nft add rule ip portfwd prerouting {RDP_RULE}")
    yield
    lab.rtr_sh(f"nft delete rule ip portfwd prerouting handle {lab.dnat_handle('fwd-office-rdp')}")


def _in_app(client, lab, method, url, headers, json=None):
    with lab.netns(lab.app):
        return client.open(url, method=method, json=json, headers=headers)


def test_an_rdp_forward_is_reported_by_verify_and_by_an_audit(client, auth, lab, lab_site, rdp_forward):
    site, add_router = lab_site
    add_router("gw", lab.router_lan)
    resp = _in_app(client, lab, "POST", f"/api/v1/sites/{site['id']}/port-forwards/verify", auth("audit"),
                   {"outside_probe": False})
    assert resp.status_code == 200, resp.json
    [router] = resp.json["routers"]
    by_port = {f["external_ports"][0]: f for f in router["forwards"]}
    assert set(by_port) == {"8080", "5060", "143", "3389"}
    rdp = by_port["3389"]
    assert rdp["classification"] == "unexpected" and rdp["check_ids"] == ["NET-EXP-001"]
    assert rdp["severity"] == "critical" and rdp["services"] == ["rdp"] and rdp["internal_ip"] == "10.77.1.30"
    assert by_port["8080"]["check_ids"] == ["AWX-SRV-007"]           # the Allworx check reports it, not NET-EXP-001
    finding = next(f for f in resp.json["findings"] if f["check_id"] == "NET-EXP-001")
    assert finding["status"] == "fail" and finding["severity"] == "critical"
    [failing] = [e for e in finding["evidence"] if e["detail"].startswith("critical")]
    assert failing["detail"].startswith("critical: rdp (tcp/3389) forwarded to 10.77.1.30, from any source")
    assert failing["source"].startswith("router:gw nft -j list ruleset") and "fwd-office-rdp" in failing["excerpt"]

    started = _in_app(client, lab, "POST", f"/api/v1/sites/{site['id']}/audits", auth("audit"),
                      {"profile": "network-only"})
    assert started.status_code == 202, started.json
    assert client.get(started.headers["Location"], headers=auth("read")).json["state"] == "completed"
    rows = client.get(f"{started.headers['Location']}/results", headers=auth("read")).json
    [row] = [r for r in rows if r["check_id"] == "NET-EXP-001"]
    assert row["status"] == "fail" and row["provenance"] == "device"
    assert row["message"].startswith("1 forward open to the internet that no required WAN service covers (1 critical)")
    assert row["evidence"][0]["detail"] == failing["detail"]


def test_an_unreachable_and_a_wrong_platform_router_do_not_hide_the_real_one(client, auth, lab, lab_site):
    site, add_router = lab_site
    real = add_router("gw", lab.router_lan)
    dead = add_router("annex", lab.pbx_ip)                         # the PBX namespace: nothing listens on 22
    wrong = add_router("edge", lab.router_lan, "cisco_ios")        # the Linux lab router, configured as IOS
    resp = _in_app(client, lab, "POST", f"/api/v1/sites/{site['id']}/port-forwards/verify", auth("audit"),
                   {"outside_probe": False})
    assert resp.status_code == 200, resp.json
    by_id = {r["device_id"]: r for r in resp.json["routers"]}
    assert by_id[real["id"]]["error"] is None
    assert {f["external_ports"][0] for f in by_id[real["id"]]["forwards"]} == {"8080", "5060", "143"}

    annex = by_id[dead["id"]]
    assert annex["name"] == "annex" and annex["forwards"] == [] and annex["reason"] == "connection refused"
    assert f"{lab.pbx_ip}:22: connection refused" in annex["error"]

    edge = by_id[wrong["id"]]
    assert edge["reason"] == "wrong platform" and edge["looks_like"] == {"platform": "linux", "confidence": 0.5}
    assert "the output looks like linux (confidence 0.5), not cisco_ios as configured" in edge["error"]
    assert "a POSIX shell answered '-bash: show: command not found'" in edge["error"]

    findings = {f["check_id"]: f for f in resp.json["findings"]}
    assert findings["AWX-SRV-007"]["status"] == "fail"               # the real router's 8080 forward
    sources = " ".join(e["detail"] for e in findings["AWX-SRV-007"]["evidence"])
    assert "annex" in sources and "edge" in sources                    # ... and which routers went unread
    # nothing of the real router fails NET-EXP-001 (8080, 143 are other checks', 5060 is required): error, not pass
    assert findings["NET-EXP-001"]["status"] == "error" and "annex" in findings["NET-EXP-001"]["message"]
