"""Sites and devices: scenario CRUD with ETags, pagination, filters, write-only credentials."""
import json


def test_site_scenario_with_etags(client, auth):
    h = auth("admin")
    assert client.get("/api/v1/sites", headers=h).json == []
    resp = client.post("/api/v1/sites", json={"name": "HQ", "lan_subnets": ["192.168.1.7/24"],
                                              "allowed_sip_peers": ["198.51.100.7"]}, headers=h)
    assert resp.status_code == 201
    site = resp.json
    assert site["allowed_sip_peers"] == ["198.51.100.7/32"]          # normalised
    assert site["lan_subnets"] == ["192.168.1.0/24"]
    assert client.post("/api/v1/sites", json={"name": "HQ"}, headers=h).status_code == 409
    got = client.get(f"/api/v1/sites/{site['id']}", headers=h)
    etag = got.headers["ETag"]
    assert client.get(f"/api/v1/sites/{site['id']}", headers={**h, "If-None-Match": etag}).status_code == 304
    body = {"name": "HQ-2", "voice_vlan_id": 20, "voice_subnet": "10.20.0.0/24"}
    assert client.put(f"/api/v1/sites/{site['id']}", json=body, headers=h).status_code == 428
    assert client.put(f"/api/v1/sites/{site['id']}", json=body,
                      headers={**h, "If-Match": '"stale"'}).status_code == 412
    resp = client.put(f"/api/v1/sites/{site['id']}", json=body, headers={**h, "If-Match": etag})
    assert resp.status_code == 200 and resp.json["voice_vlan_id"] == 20
    assert client.put("/api/v1/sites/999", json=body, headers={**h, "If-Match": etag}).status_code == 404
    etag = resp.headers["ETag"]
    assert client.delete(f"/api/v1/sites/{site['id']}", headers={**h, "If-Match": etag}).status_code == 204
    assert client.get(f"/api/v1/sites/{site['id']}", headers=h).status_code == 404


def test_devices_filter_and_paginate(client, auth, site):
    h = auth("admin")
    for i in range(5):
        resp = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_phone",
                                                     "name": f"phone-{i}", "address": f"192.168.1.{100 + i}"},
                           headers=h)
        assert resp.status_code == 201, resp.json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                         "address": "192.168.1.1", "device_type": "linux"}, headers=h)
    resp = client.get(f"/api/v1/devices?site_id={site['id']}&kind=allworx_phone&page=2&page_size=2",
                      headers=auth("read"))
    assert [d["name"] for d in resp.json] == ["phone-2", "phone-3"]
    assert json.loads(resp.headers["X-Pagination"])["total"] == 5
    routers = client.get("/api/v1/devices?kind=router", headers=auth("read")).json
    assert [d["device_type"] for d in routers] == ["linux"]


def test_credentials_are_write_only(client, auth, site):
    h = auth("admin")
    resp = client.post("/api/v1/devices", json={
        "site_id": site["id"], "kind": "router", "name": "gw", "address": "192.168.1.1",
        "device_type": "cisco_ios", "credentials": {"username": "admin", "password": "s3cret-Router!",
                                                    "enable_secret": "en-Secret-9"}}, headers=h)
    assert resp.status_code == 201
    device = resp.json
    assert "s3cret" not in resp.get_data(as_text=True)
    assert device["credentials_set"] == ["enable_secret", "password"] and device["username"] == "admin"
    resp = client.put(f"/api/v1/devices/{device['id']}/credentials", json={"username": "ro",
                                                                           "password": "x-Other-Pass-1"},
                      headers=h)
    assert resp.status_code == 204
    got = client.get(f"/api/v1/devices/{device['id']}", headers=h).json
    assert got["credentials_set"] == ["password"] and got["username"] == "ro"


def test_device_needs_known_site_and_device_type_rules(client, auth, site):
    h = auth("admin")
    resp = client.post("/api/v1/devices", json={"site_id": 999, "kind": "allworx_server", "name": "s",
                                                "address": "192.168.1.2"}, headers=h)
    assert resp.status_code == 404 and "site_id" in resp.json["errors"]["json"]
    resp = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "r",
                                                "address": "192.168.1.1"}, headers=h)
    assert resp.status_code == 422 and "device_type" in resp.json["errors"]["json"]


def test_site_with_devices_cannot_be_deleted(client, auth, site):
    h = auth("admin")
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "192.168.1.2"}, headers=h)
    etag = client.get(f"/api/v1/sites/{site['id']}", headers=h).headers["ETag"]
    resp = client.delete(f"/api/v1/sites/{site['id']}", headers={**h, "If-Match": etag})
    assert resp.status_code == 409


def test_host_key_accept_requires_a_presented_key(app, client, auth, site):
    from store.db import get_db
    from store.models import Device
    h = auth("admin")
    dev = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                               "address": "192.168.1.1", "device_type": "linux"},
                      headers=h).json
    nothing_presented = client.post(f"/api/v1/devices/{dev['id']}/host-key/accept",
                                    json={"sha256": "SHA256:" + "A" * 43}, headers=h)
    assert nothing_presented.status_code == 409
    new_key = {"type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAIBBB",
               "sha256": "SHA256:" + "A" * 43}
    with app.app_context(), get_db().session() as sess:
        sess.get(Device, dev["id"]).ssh_host_key_presented = new_key
        sess.commit()
    assert client.post(f"/api/v1/devices/{dev['id']}/host-key/accept", headers=auth("remediate")).status_code == 403
    assert client.post(f"/api/v1/devices/{dev['id']}/host-key/accept", headers=h).status_code == 422  # no sha256
    resp = client.post(f"/api/v1/devices/{dev['id']}/host-key/accept", json={"sha256": new_key["sha256"]}, headers=h)
    assert resp.status_code == 200 and resp.json["ssh_host_key"]["key"] == new_key["key"]
    assert resp.json["ssh_host_key_presented"] is None


def test_page_far_past_the_end_is_empty_not_500(client, auth):
    resp = client.get("/api/v1/sites?page=3074457345618258297&page_size=4", headers=auth("read"))
    assert resp.status_code == 200 and resp.json == []


def test_id_beyond_sqlite_integers_is_404(client, auth):
    h = auth("admin")
    assert client.get("/api/v1/sites/9223372036854775808", headers=h).status_code == 404
    assert client.delete("/api/v1/tokens/9223372036854775808", headers=h).status_code == 404
