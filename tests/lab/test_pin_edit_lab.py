"""Against the lab router's real sshd: an inventory edit that leaves out the host key keeps the pin, so a
rekeyed router (an impostor, as far as the appliance can tell) is refused before any password is sent; the
new key is accepted only under the fingerprint the admin checked."""
from __future__ import annotations

import re
import time

import pytest

from store.models import Device

pytestmark = pytest.mark.lab
AUTH_LINE = re.compile(r"^(Accepted|Failed) (password|publickey)", re.MULTILINE)


def _verify(client, lab, site_id, headers):
    with lab.netns(lab.app):
        return client.post(f"/api/v1/sites/{site_id}/port-forwards/verify", json={}, headers=headers)


def _pins(app, device_id):
    with app.extensions["db"].session() as sess:
        device = sess.get(Device, device_id)
        return device.ssh_host_key, device.ssh_host_key_presented


def test_an_edit_keeps_the_pin_and_the_rekeyed_router_is_refused(app, client, auth, lab):
    app.config["EGRESS_ALLOWED_NETWORKS"] = ["10.77.1.0/24", "192.0.2.0/24"]    # this lab's namespaces only
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "lab-pin", "wan_addresses": [lab.router_wan]}, headers=h).json
    router = client.post("/api/v1/devices", json={
        "site_id": site["id"], "kind": "router", "name": "lab-router", "address": lab.router_lan,
        "ports": {"ssh": lab.ssh_port}, "device_type": "linux",
        "credentials": {"username": lab.username, "password": lab.password}}, headers=h).json
    first = _verify(client, lab, site["id"], auth("audit"))
    assert first.status_code == 200, first.json
    original = lab.host_key_pin()
    assert _pins(app, router["id"]) == (original, None)                  # trust on first use

    got = client.get(f"/api/v1/devices/{router['id']}", headers=h)
    edit = {k: got.json[k] for k in ("site_id", "kind", "name", "address", "ports", "device_type")}
    resp = client.put(f"/api/v1/devices/{router['id']}", json={**edit, "notes": "new rack"},
                      headers={**h, "If-Match": got.headers["ETag"]})
    assert resp.status_code == 200 and resp.json["ssh_host_key"] == original       # the pin survived the edit
    got = client.get(f"/api/v1/devices/{router['id']}", headers=h)
    assert client.put(f"/api/v1/devices/{router['id']}", json=got.json,
                      headers={**h, "If-Match": got.headers["ETag"]}).status_code == 200   # GET -> PUT

    fresh = lab.rekey()
    auth_before = AUTH_LINE.findall(lab.sshd_log())
    refused = _verify(client, lab, site["id"], auth("audit"))
    assert refused.status_code == 409 and "SSH host key changed" in refused.json["message"], refused.json
    assert fresh["sha256"] in refused.json["message"]
    time.sleep(0.2)
    assert AUTH_LINE.findall(lab.sshd_log()) == auth_before             # no password went to the new key
    assert _pins(app, router["id"]) == (original, fresh)                # still pinned; the new key parked

    accept = f"/api/v1/devices/{router['id']}/host-key/accept"
    wrong = client.post(accept, json={"sha256": original["sha256"]}, headers=h)
    assert wrong.status_code == 409 and fresh["sha256"] in wrong.json["message"]
    assert _pins(app, router["id"]) == (original, fresh)
    accepted = client.post(accept, json={"sha256": fresh["sha256"]}, headers=h)
    assert accepted.status_code == 200 and accepted.json["ssh_host_key"] == fresh
    again = _verify(client, lab, site["id"], auth("audit"))
    assert again.status_code == 200 and "host key" not in again.get_data(as_text=True).lower(), again.json
