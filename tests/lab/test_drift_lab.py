"""Drift and webhooks against the real lab router (nftables + OpenSSH in its namespace, read over SSH
by the netmiko driver): its 8080 forward deleted, then put back (resolved, then new again), and its
stored password made wrong, then right again (a new error naming the router and the reason, then the
same failures back, not new). Deliveries go to a loopback receiver outside the lab."""
from __future__ import annotations

import json

import pytest

from hardening.jobs import webhooks
from tests.jobs.test_webhooks import Receiver
from tests.lab.labctl import FAST

pytestmark = pytest.mark.lab
HTTP_RULE = 'iifname "wan0" tcp dport 8080 dnat to 10.77.1.20:8080 comment "fwd-pbx-http"'


@pytest.fixture
def lab_site(app, client, auth, lab):
    receiver = Receiver()
    app.config.update(EGRESS_ALLOWED_NETWORKS=["10.77.1.0/24"], WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"],
                      PUBLIC_BASE_URL="https://awxh.lab.example", DRIVER_OPTIONS={"router": {"timeouts": FAST}})
    app.extensions["audit_runner"].synchronous = True        # the audit runs here, in the app namespace
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "Lab Dental", "wan_addresses": [lab.router_wan]}, headers=h).json
    ids = {}
    for body in ({"kind": "allworx_server", "name": "pbx", "address": lab.pbx_ip},
                 {"kind": "router", "name": "gw", "address": lab.router_lan, "device_type": "linux",
                  "credentials": {"username": lab.username, "password": lab.password}}):
        made = client.post("/api/v1/devices", json={"site_id": site["id"], **body}, headers=h)
        assert made.status_code == 201, made.json
        ids[body["name"]] = made.json["id"]
    assert client.post("/api/v1/webhooks", headers=h, json={"url": receiver.url, "events": list(webhooks.EVENTS),
                                                            "secret": "lab-receiver-secret-01"}).status_code == 201
    try:
        yield site["id"], ids["gw"], receiver
    finally:
        receiver.close()
        try:                                                 # the lab is shared: put the forward back
            lab.dnat_handle("fwd-pbx-http")
        except LookupError:
            lab.rtr_sh(f"nft insert rule ip portfwd prerouting position {lab.dnat_handle('fwd-pbx-sip')} {HTTP_RULE}")


def _audit(client, auth, lab, site_id):
    with lab.netns(lab.app):
        resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": "network-only"}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    done = client.get(resp.headers["Location"], headers=auth("read")).json
    assert done["state"] == "completed", done
    return done


def _sent(app, receiver):
    seen = len(receiver.requests)
    webhooks.deliver_due(app.extensions["db"], app.extensions["secret_box"], ["127.0.0.0/8"])
    return {json.loads(body)["event"]: json.loads(body) for _, body in receiver.requests[seen:]}


def test_the_lab_router_forward_removed_then_put_back(app, client, auth, lab, lab_site):
    site_id, _, receiver = lab_site
    _audit(client, auth, lab, site_id)
    first = _sent(app, receiver)["new_failures"]
    assert "AWX-SRV-007" in {f["check_id"] for f in first["new_failures"]}
    assert first["links"]["report"].startswith("https://awxh.lab.example/api/v1/audits/")

    lab.rtr_sh(f"nft delete rule ip portfwd prerouting handle {lab.dnat_handle('fwd-pbx-http')}")
    _audit(client, auth, lab, site_id)
    sent = _sent(app, receiver)
    assert "new_failures" not in sent and "AWX-SRV-007" in {r["check_id"] for r in sent["resolved"]["resolved"]}

    # put back where it was (before the SIP forward): a new handle, the same forward
    lab.rtr_sh(f"nft insert rule ip portfwd prerouting position {lab.dnat_handle('fwd-pbx-sip')} {HTTP_RULE}")
    third = _audit(client, auth, lab, site_id)
    sent = _sent(app, receiver)
    new = {f["check_id"]: f for f in sent["new_failures"]["new_failures"]}
    assert set(new) == {"AWX-SRV-007"} and sent["new_failures"]["audit_id"] == third["id"]
    assert any("fwd-pbx-http" in e["excerpt"] for e in new["AWX-SRV-007"]["evidence"])

    _audit(client, auth, lab, site_id)                       # the same router read again: nothing to say
    assert _sent(app, receiver) == {}


def test_the_lab_router_password_stops_working_then_works_again(app, client, auth, lab, lab_site):
    site_id, router_id, receiver = lab_site
    first = _audit(client, auth, lab, site_id)
    _sent(app, receiver)
    h = auth("admin")
    wrong = client.put(f"/api/v1/devices/{router_id}/credentials", headers=h,
                       json={"username": lab.username, "password": "not-the-lab-password"})
    assert wrong.status_code in (200, 204), wrong.get_data(as_text=True)
    _audit(client, auth, lab, site_id)
    sent = _sent(app, receiver)
    assert set(sent) == {"new_errors"}
    assert sent["new_errors"]["problems"] == ["router gw: authentication failed (ssh)"], sent["new_errors"]["problems"]
    assert "not-the-lab-password" not in str(sent) and lab.password not in str(sent)

    assert client.put(f"/api/v1/devices/{router_id}/credentials", headers=h,
                      json={"username": lab.username, "password": lab.password}).status_code in (200, 204)
    third = _audit(client, auth, lab, site_id)
    sent = _sent(app, receiver)
    assert "new_failures" not in sent and "new_errors" not in sent and sent["resolved"]["cleared_errors"]
    since = client.get(f"/api/v1/audits/{third['id']}", headers=auth("read")).json["summary"]["drift"]["since_previous"]
    assert since["new_failures"] == [] and "AWX-SRV-007" in {r["check_id"] for r in since["returned_failures"]}
    assert {r["last_decided_audit_id"] for r in since["returned_failures"]} == {first["id"]}
