"""Profiles decide what is contacted: an audit reaches only what its profile's checks need, as the
simulated devices themselves count it (web requests, logins, SIP requests, mail connections)."""
import socket
import time

import pytest

from device_drivers.inventory import DeviceSpec
from hardening.engine import audits, gather
from hardening.engine.contact import DeviceContact
from hardening.engine.gather import ContactGap, gather_site
from hardening.model.profiles import Profile, load_profile
from hardening.model.site import SiteInfo
from simulator import start_site
from simulator.seed import flask_call, seed_site
from tests.audits.test_audit_api import _wait

NOTHING = {"web_requests": 0, "logins": 0, "sip_requests": 0, "mail_connections": 0}


def _audit(client, auth, site_id, profile):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": profile}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    done = _wait(client, auth, resp.headers["Location"])
    rows = client.get(f"{resp.headers['Location']}/results", headers=auth("read")).json
    return done, rows


@pytest.fixture
def insecure(audit_app, client, auth):
    site = start_site("insecure", snmp=False)
    with site:
        site_id = seed_site(flask_call(client, auth("admin")), "sim-needs", site.inventory(),
                            site_fields={"required_wan_services": ["sip", "vpn"]})
        yield site, site_id


def test_network_only_audit_logs_in_nowhere_and_tests_no_credential(client, auth, insecure):
    site, site_id = insecure
    done, rows = _audit(client, auth, site_id, "network-only")
    assert done["state"] == "completed", done
    assert site.contacts() == {device.name: NOTHING for device in site.devices}     # not one packet answered
    selected = set(load_profile("network-only").check_ids())
    assert {r["check_id"] for r in rows} <= selected and "AWX-SRV-005" not in selected
    assert done["progress"]["needs"] == ["inventory", "outside_probe", "router_config", "sensor"]
    assert done["progress"]["devices_done"] == done["progress"]["devices_total"] == len(site.devices)
    # not contacted is not an error: every device is still in the picture, from the inventory
    assert [r for r in rows if r["status"] == "error"] == []


def test_baseline_audit_still_logs_in_and_tests_the_weak_logins(client, auth, insecure):
    site, site_id = insecure
    done, rows = _audit(client, auth, site_id, "baseline")
    assert done["state"] == "completed", done
    seen = site.contacts()
    server = seen[site.server.name]
    assert server["logins"] >= 2 and server["web_requests"] > 0        # the web admin session and the login test
    assert server["sip_requests"] > 0 and server["mail_connections"] > 0   # the LAN probes
    for device in site.of_kind("allworx_phone") + site.of_kind("px_expander"):
        assert seen[device.name]["logins"] > 0, device.name             # the gentle login test, nothing else
        assert seen[device.name]["sip_requests"] == 0, device.name       # no check needs their probes
    assert {r["check_id"] for r in rows if r["status"] == "fail"} >= {"AWX-SRV-005", "AWX-PHN-006", "AWX-PX-001"}


def test_a_profile_of_one_server_check_contacts_the_server_channels_it_needs_only(client, auth, insecure,
                                                                                   monkeypatch):
    site, site_id = insecure
    monkeypatch.setattr(audits, "load_profile", lambda name: Profile(name, checks=["AWX-WAN-001"]))
    done, rows = _audit(client, auth, site_id, "baseline")
    assert done["state"] == "completed", done
    assert [r["check_id"] for r in rows] == ["AWX-WAN-001"]
    assert rows[0]["status"] != "error" and rows[0]["provenance"] == "device"     # read from the web admin
    seen = site.contacts()
    assert seen[site.server.name]["logins"] == 1                         # server_web: one session, no login test
    assert seen[site.server.name]["sip_requests"] == seen[site.server.name]["mail_connections"] == 0
    assert all(seen[d.name] == NOTHING for d in site.devices if d is not site.server)


def test_a_selected_check_whose_device_was_skipped_fails_the_audit(client, auth, insecure, monkeypatch):
    site, site_id = insecure
    real = gather.allworx_contact
    monkeypatch.setattr(gather, "allworx_contact", lambda spec, needs: DeviceContact() if spec.kind ==
                        "allworx_server" else real(spec, needs))
    done, _rows = _audit(client, auth, site_id, "baseline")
    assert done["state"] == "failed"
    assert "did not contact" in done["error"] and f"{site.server.name}: " in done["error"]
    assert "server_web" in done["error"] and "server_credential_test" in done["error"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_routers_are_read_only_when_a_check_needs_router_config():
    router = DeviceSpec(7, "router", "gw", "127.0.0.1", ports={"ssh": _closed_port()}, device_type="linux",
                        credentials={"username": "u", "password": "p"})
    options = {"egress": ["127.0.0.0/8"], "router": {"connect_retries": 0}}
    skipped = gather_site(SiteInfo("s"), [router], options=options, needs=frozenset({"inventory", "sensor"}))
    assert skipped.facts.routers == [] and skipped.contacted == {}
    read = gather_site(SiteInfo("s"), [router], options=options, needs=frozenset({"router_config"}),
                       budget_seconds=30)
    assert read.contacted == {7: {"router_config"}}
    [facts] = read.facts.routers
    assert facts.config is None and facts.error                         # attempted (nothing listens): an error


PBX = DeviceSpec(1, "allworx_server", "pbx", "127.0.0.1", credentials={"password": "1234"})


def test_skipping_a_device_a_selected_check_needs_raises(monkeypatch):
    monkeypatch.setattr(gather, "allworx_contact", lambda spec, needs: DeviceContact())
    with pytest.raises(ContactGap, match=r"pbx: server_credential_test, server_web$"):
        gather_site(SiteInfo("s"), [PBX], options={"egress": None}, take_attempt=lambda key: True,
                    needs=frozenset({"inventory", "server_web", "server_credential_test"}))


def test_no_budget_means_no_login_test_and_no_gap():
    needs = frozenset({"inventory", "server_credential_test"})
    result = gather_site(SiteInfo("s"), [PBX], options={"egress": None}, needs=needs)
    [dev] = result.facts.devices
    assert dev.errors == {} and "credential_test" not in dev.facts and dev.get("admin_password") is not None
    # issue 13: a strong stored password decides nothing until it logs in during the audit; nothing listens
    # here, so nothing is derived (it used to pass from the inventory alone, after 0 attempts)
    strong = DeviceSpec(1, "allworx_server", "pbx", "127.0.0.1", ports={"web_admin": _closed_port()},
                        credentials={"password": "Tq8!vR2#pLm6wZ9x"})
    [dev] = gather_site(SiteInfo("s"), [strong], options={"egress": None}, needs=needs).facts.devices
    assert dev.get("default_credential_accepted") is None
    assert "Connection refused" in dev.errors["credential_test"]


def test_a_device_out_of_time_is_an_error_not_a_gap(monkeypatch):
    monkeypatch.setattr(gather, "_gather_allworx", lambda *args: time.sleep(1.0))
    result = gather_site(SiteInfo("s"), [PBX], options={"egress": None}, needs=frozenset({"server_web"}),
                         budget_seconds=0.2)
    [dev] = result.facts.devices
    assert "time budget" in dev.errors["gather"]
