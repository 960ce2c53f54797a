"""Devices outside the allowed networks are never contacted: audits, discovery, remediation, windows."""
import pytest

from device_drivers import egress


def test_check_rules():
    egress.check("192.168.1.5", egress.DEFAULT)
    with pytest.raises(egress.EgressRefused, match="nothing was sent"):
        egress.check("8.8.8.8", egress.DEFAULT)
    with pytest.raises(egress.EgressRefused):
        egress.check_network("10.0.0.0/8", ["10.1.0.0/16"])
    egress.check_network("10.1.2.0/24", ["10.1.0.0/16"])


@pytest.fixture
def outside_site(client, auth):
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "far"}, headers=h).json
    server = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                                  "address": "192.168.50.2",
                                                  "credentials": {"password": "x-Long-Pass-123"}}, headers=h).json
    router = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                                  "address": "192.168.50.1", "device_type": "linux"}, headers=h).json
    return site, server, router


def test_audit_reports_refused_devices_as_errors(client, auth, outside_site):
    site, _server, _router = outside_site
    resp = client.post(f"/api/v1/sites/{site['id']}/audits", json={}, headers=auth("audit"))
    client.application.extensions["audit_runner"].wait(resp.json["id"], timeout=30)
    rows = client.get(f"/api/v1/audits/{resp.json['id']}/results", headers=auth("read")).json
    srv = [r for r in rows if r["check_id"] == "AWX-SRV-001"][0]
    assert srv["status"] == "error" and "allowed device networks" in srv["message"]
    nat = [r for r in rows if r["check_id"] == "NET-NAT-001"][0]
    assert nat["status"] == "error"


def test_remediation_discovery_and_windows_refuse(client, auth, outside_site):
    site, server, router = outside_site
    h = auth("remediate")
    for device in (server, router):
        resp = client.post("/api/v1/remediations", json={"device_id": device["id"]}, headers=h)
        assert resp.status_code == 422 and "allowed device networks" in resp.json["message"]
    resp = client.post(f"/api/v1/sites/{site['id']}/discover", json={"subnet": "192.168.50.0/29"},
                       headers=auth("audit"))
    assert resp.status_code == 422 and "subnet" in resp.json["errors"]["json"]
    resp = client.post(f"/api/v1/sites/{site['id']}/install-windows", json={"minutes": 5}, headers=h)
    assert resp.status_code in (409, 422, 502) and "allowed device networks" in resp.json["message"]
