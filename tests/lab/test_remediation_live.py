"""Verify and remediate the real lab router through the API: plan, apply, probe, rollback, confirm,
a session killed mid-apply, and a changed host key. The appliance runs in the lab's `app` namespace."""
import time

import pytest
from sqlalchemy import select

from device_drivers import probe
from hardening.engine.devices import DeviceAccess
from hardening.remediation import engine, nft_live
from store.audit_models import Remediation
from store.models import Device


@pytest.fixture
def lab_site(app, client, auth, lab):
    """The lab as an inventory: the PBX at 10.77.1.20 is the Allworx server's WAN side, SIP is required."""
    app.config["EGRESS_ALLOWED_NETWORKS"] = ["10.77.1.0/24", "192.0.2.0/24"]    # this lab's namespaces only
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "lab", "wan_addresses": [lab.router_wan],
                                              "required_wan_services": ["sip"]}, headers=h).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "10.77.2.20", "wan_address": lab.pbx_ip}, headers=h)
    router = client.post("/api/v1/devices", json={
        "site_id": site["id"], "kind": "router", "name": "lab-router", "address": lab.router_lan,
        "device_type": "linux", "credentials": {"username": lab.username, "password": lab.password}}, headers=h).json
    before_json, before_text = lab.rtr_sh("nft -j list ruleset"), lab.rtr_sh("nft list ruleset")
    yield site, router
    # whatever a test did, the shared lab router leaves with the ruleset it came with; only this test's
    # remediations' timers are stopped (by the PID in their PID file) and their files removed
    with app.extensions["db"].session() as sess:
        rids = sess.scalars(select(Remediation.id)).all()
    for rid in rids:
        lab.stop_revert_timer(rid)
        lab.remove_remediation_files(rid)
    restore_ruleset(lab, before_json, before_text)


def restore_ruleset(lab, before_json: str, before_text: str) -> None:
    """Put the lab router's ruleset back as a test found it (from the host, not through the appliance)."""
    if nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) != nft_live.normalized(before_json):
        path = lab.run_dir / "test-restore.nft"
        path.write_text("flush ruleset\n" + before_text)
        lab.rtr_sh(f"nft -f {path}")
    lab.flush_conntrack()


def _reachable(lab):
    lab.flush_conntrack()
    with lab.netns(lab.inet):
        return {"tcp/8080": probe.tcp_connect(lab.router_wan, 8080, timeout=1.0)["state"] == "open",
                "tcp/143": probe.tcp_connect(lab.router_wan, 143, timeout=1.0)["state"] == "open",
                "udp/5060": probe.sip_options(lab.router_wan, 5060, timeout=1.0)["state"] == "open"}


def _post(client, lab, url, headers, json=None):
    with lab.netns(lab.app):
        return client.post(url, json=json or {}, headers=headers)


def test_verify_plan_apply_rollback_confirm(app, client, auth, lab, lab_site):
    site, router = lab_site
    h = auth("remediate")
    original = nft_live.normalized(lab.rtr_sh("nft -j list ruleset"))
    resp = _post(client, lab, f"/api/v1/sites/{site['id']}/port-forwards/verify", auth("audit"))
    assert resp.status_code == 200, resp.json
    forwards = resp.json["routers"][0]["forwards"]
    by_port = {f["external_ports"][0]: f for f in forwards}
    assert set(by_port) == {"8080", "5060", "143"}
    assert by_port["8080"]["classification"] == by_port["143"]["classification"] == "dangerous"
    assert by_port["5060"]["classification"] == "expected" and by_port["5060"]["allow_listed"] == "sip"
    assert _reachable(lab) == {"tcp/8080": True, "tcp/143": True, "udp/5060": True}

    plan = _post(client, lab, "/api/v1/remediations", h, {"device_id": router["id"]})
    assert plan.status_code == 201, plan.json
    assert sorted(r["external_ports"][0] for r in plan.json["plan"]["removals"]) == ["143", "8080"]
    assert all(c.startswith("delete rule ip portfwd prerouting handle ") for c in plan.json["plan"]["commands"])
    assert nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) == original          # planning touches nothing

    applied = _post(client, lab, f"/api/v1/remediations/{plan.json['id']}/apply", h)
    assert applied.status_code == 200, applied.json
    assert applied.json["state"] == "awaiting_confirmation" and applied.json["verification"]["read_back"] == "ok"
    assert _reachable(lab) == {"tcp/8080": False, "tcp/143": False, "udp/5060": True}
    assert _post(client, lab, f"/api/v1/remediations/{plan.json['id']}/apply", h).status_code == 409

    rolled = _post(client, lab, f"/api/v1/remediations/{plan.json['id']}/rollback", h)
    assert rolled.status_code == 200 and rolled.json["state"] == "rolled_back"
    assert rolled.json["verification"]["rollback_exact"] is True
    assert nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) == original
    assert _reachable(lab) == {"tcp/8080": True, "tcp/143": True, "udp/5060": True}

    again = _post(client, lab, "/api/v1/remediations", h, {"device_id": router["id"]}).json
    assert _post(client, lab, f"/api/v1/remediations/{again['id']}/apply", h).json["state"] == "awaiting_confirmation"
    timer = lab.revert_timer_pid(again["id"])
    assert timer is not None                                               # armed in this lab's router
    confirmed = _post(client, lab, f"/api/v1/remediations/{again['id']}/confirm", h)
    assert confirmed.json["state"] == "confirmed"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and lab.is_revert_timer(timer, again["id"]):
        time.sleep(0.05)
    assert not lab.is_revert_timer(timer, again["id"])                   # its timer is gone
    assert lab.remediation_dirs(again["id"]) == []                        # and its files, in the router's /tmp
    assert _reachable(lab)["tcp/8080"] is False


def test_allow_listed_forward_is_refused(client, auth, lab, lab_site):
    site, router = lab_site
    handles = _post(client, lab, f"/api/v1/sites/{site['id']}/port-forwards/verify", auth("audit")).json
    sip = next(f["index"] for f in handles["routers"][0]["forwards"] if f["external_ports"] == ["5060"])
    resp = _post(client, lab, "/api/v1/remediations", auth("remediate"), {"device_id": router["id"],
                                                                          "forward_indices": [sip]})
    assert resp.status_code == 201 and resp.json["state"] == "refused"
    assert "allow-list" in resp.json["plan"]["refused"][0]["reason"]


def _engine_apply(app, lab, rid):
    """Apply through the engine with the SSH session killed just before the atomic apply."""
    box = app.extensions["secret_box"]
    real = nft_live.run_document

    def kill_then_call(drv, workdir, name, document):
        if name == "apply.json":
            assert lab.kill_ssh_sessions()          # the lab sshd's own session processes, by PID
        return real(drv, workdir, name, document)
    nft_live.run_document = kill_then_call
    try:
        with lab.netns(lab.app), pytest.raises(Exception):
            engine.apply(app.extensions["db"], rid, DeviceAccess(box, egress_allowed=None).open)
    finally:
        nft_live.run_document = real


def test_session_killed_before_apply_leaves_router_unchanged(app, client, auth, lab, lab_site):
    _site, router = lab_site
    original = nft_live.normalized(lab.rtr_sh("nft -j list ruleset"))
    rid = _post(client, lab, "/api/v1/remediations", auth("remediate"), {"device_id": router["id"]}).json["id"]
    _engine_apply(app, lab, rid)
    assert nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) == original
    with app.extensions["db"].session() as sess:
        assert sess.get(Remediation, rid).state == "failed"


def test_session_killed_after_apply_is_reverted_by_the_router_itself(app, client, auth, lab, lab_site):
    _site, router = lab_site
    original = nft_live.normalized(lab.rtr_sh("nft -j list ruleset"))
    rid = _post(client, lab, "/api/v1/remediations", auth("remediate"), {"device_id": router["id"]}).json["id"]
    with app.extensions["db"].session() as sess:
        sess.get(Remediation, rid).confirm_timeout_seconds = 3
        sess.commit()
    _engine_apply_after(app, lab, rid)
    changed = nft_live.normalized(lab.rtr_sh("nft -j list ruleset"))
    assert changed != original                           # the change landed, the appliance lost the session
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) != original:
        time.sleep(0.3)
    assert nft_live.normalized(lab.rtr_sh("nft -j list ruleset")) == original    # the router's own timer


def _engine_apply_after(app, lab, rid):
    box = app.extensions["secret_box"]
    real = nft_live.run_document

    def apply_then_drop(drv, workdir, name, document):
        real(drv, workdir, name, document)
        if name == "apply.json":
            assert lab.kill_ssh_sessions()
    nft_live.run_document = apply_then_drop
    try:
        with lab.netns(lab.app), pytest.raises(Exception):
            engine.apply(app.extensions["db"], rid, DeviceAccess(box, egress_allowed=None).open)
    finally:
        nft_live.run_document = real


def test_changed_host_key_is_refused(app, client, auth, lab, lab_site):
    _site, router = lab_site
    h = auth("remediate")
    assert _post(client, lab, "/api/v1/remediations", h, {"device_id": router["id"]}).status_code == 201  # pins
    lab.rekey()
    resp = _post(client, lab, "/api/v1/remediations", h, {"device_id": router["id"]})
    assert resp.status_code == 409 and "host key changed" in resp.json["message"]
    with app.extensions["db"].session() as sess:
        device = sess.get(Device, router["id"])
        assert device.ssh_host_key_presented and device.ssh_host_key_presented != device.ssh_host_key
        presented = device.ssh_host_key_presented["sha256"]
    assert presented == lab.host_key_pin()["sha256"]                  # the key checked on the router itself
    accepted = client.post(f"/api/v1/devices/{router['id']}/host-key/accept", json={"sha256": presented},
                           headers=auth("admin"))
    assert accepted.status_code == 200
    assert _post(client, lab, "/api/v1/remediations", h, {"device_id": router["id"]}).status_code == 201
