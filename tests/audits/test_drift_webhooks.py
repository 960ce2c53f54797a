"""Drift and webhooks on real events, through the API: audits of a router whose forwards change (its
real `nft -a list ruleset` parsed by the real parser; only the SSH transport is a stand-in, behind the
one opener), a router whose password stops working, and a simulated Allworx site whose admin password
is changed on the device and whose web admin drops out for one audit. Deliveries go to a loopback
receiver and are checked for their signature, the site's name and absolute links."""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from device_drivers import opener
from device_drivers.exceptions import AuthFailed
from firewall.parsers import linux
from hardening.jobs import webhooks
from simulator import start_site
from simulator.seed import flask_call, seed_site
from tests.audits.test_audit_api import _wait
from tests.jobs.test_webhooks import Receiver

LAB = (Path(__file__).resolve().parents[1] / "fixtures" / "router-samples" / "linux"
       / "nft_lab_text_handles.txt").read_text()
COMMAND = "nft -a list ruleset"
HTTP_RULE = '\t\tiifname "wan0" tcp dport 8080 dnat to 10.77.1.20:8080 comment "fwd-pbx-http" # handle 6\n'
SMTP_RULE = '\t\tiifname "wan0" tcp dport 25 dnat to 10.77.1.20:25 comment "fwd-pbx-smtp" # handle 19\n'
BASE = "https://awxh.dental-north.example:8443"
SECRET = "receiver-secret-0123456789"


class LabRouter:
    """The lab router behind the opener: its ruleset is the real nft output, parsed by the real parser;
    the login is checked against the router's own password (AuthFailed worded as the netmiko driver's)."""
    ruleset = LAB
    password = "router-pw-1"

    def __init__(self, platform, *, host, password=None, port=22, **_kwargs):
        self.platform, self.target, self.given = platform, f"{host}:{port}", password
        self.presented_host_key = None

    def open(self):
        if self.given != LabRouter.password:
            raise AuthFailed(f"{self.target}: authentication failed (Authentication failed.)")

    def close(self):
        pass

    def get_config(self):
        return linux.parse({COMMAND: LabRouter.ruleset, "pgrep -a miniupnpd": ""})     # miniupnpd not running


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def router_site(app, client, auth, monkeypatch, receiver):
    real = opener.driver_class
    monkeypatch.setattr(opener, "driver_class", lambda key: LabRouter if key == "linux" else real(key))
    monkeypatch.setattr(LabRouter, "ruleset", LAB)
    monkeypatch.setattr(LabRouter, "password", "router-pw-1")
    app.config.update(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"], PUBLIC_BASE_URL=BASE + "/")
    admin = auth("admin")
    site = client.post("/api/v1/sites", headers=admin, json={"name": "Dental North", "lan_subnets": ["10.77.1.0/24"],
                                                              "wan_addresses": ["192.0.2.1"]}).json
    for body in ({"kind": "allworx_server", "name": "pbx", "address": "10.77.1.20"},
                 {"kind": "router", "name": "gw", "address": "127.0.0.1", "device_type": "linux",
                  "credentials": {"username": "root", "password": "router-pw-1"}}):
        made = client.post("/api/v1/devices", headers=admin, json={"site_id": site["id"], **body})
        assert made.status_code == 201, made.json
    hook = client.post("/api/v1/webhooks", headers=admin, json={
        "url": receiver.url, "events": list(webhooks.EVENTS), "secret": SECRET})
    assert hook.status_code == 201, hook.json
    return site["id"]


def _audit(client, auth, site_id, profile="network-only"):
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={"profile": profile}, headers=auth("audit"))
    assert resp.status_code == 202, resp.json
    done = _wait(client, auth, resp.headers["Location"], timeout=60)
    assert done["state"] == "completed", done
    return done


def _delivered(app, receiver) -> list[dict]:
    """Send what is due to the receiver; the bodies received since the last call, signatures checked."""
    seen = len(receiver.requests)
    webhooks.deliver_due(app.extensions["db"], app.extensions["secret_box"], ["127.0.0.0/8"])
    bodies = []
    for headers, body in receiver.requests[seen:]:
        mac = hmac.new(SECRET.encode(), headers["X-AWXH-Timestamp"].encode() + b"." + body, hashlib.sha256)
        assert headers["X-AWXH-Signature"] == "sha256=" + mac.hexdigest()
        payload = json.loads(body)
        assert headers["X-AWXH-Event"] == payload["event"]
        bodies.append(payload)
    return bodies


def _events(bodies):
    return {b["event"]: b for b in bodies}


def _ids(items):
    return {i["check_id"] for i in items}


def test_a_re_added_8080_forward_is_resolved_then_new_again(app, client, auth, router_site, receiver):
    first = _audit(client, auth, router_site)
    sent = _events(_delivered(app, receiver))
    assert set(sent) == {"new_failures"}                             # the first audit: its failures are new
    assert {"AWX-SRV-007", "NET-NAT-002"} <= _ids(sent["new_failures"]["new_failures"])
    body = sent["new_failures"]
    assert body["site"] == {"id": router_site, "name": "Dental North"} and body["audit_id"] == first["id"]
    assert body["links"] == {"audit": f"{BASE}/api/v1/audits/{first['id']}",
                             "results": f"{BASE}/api/v1/audits/{first['id']}/results",
                             "report": f"{BASE}/api/v1/audits/{first['id']}/report",
                             "site_status": f"{BASE}/api/v1/sites/{router_site}/status"}
    assert body["audit_url"] == body["links"]["audit"] and body["links_note"] is None
    assert body["text"].startswith("site Dental North: ")

    LabRouter.ruleset = LAB.replace(HTTP_RULE, "")                   # someone removes the 8080 forward
    second = _audit(client, auth, router_site)
    sent = _events(_delivered(app, receiver))
    assert "new_failures" not in sent and "new_errors" not in sent
    resolved = {r["check_id"]: r for r in sent["resolved"]["resolved"]}
    assert "8080" in resolved["AWX-SRV-007"]["evidence"][0]["detail"]
    assert sent["resolved"]["audit_id"] == second["id"] and sent["resolved"]["previous_audit_id"] == first["id"]

    LabRouter.ruleset = LAB                                          # ... and someone puts it back
    third = _audit(client, auth, router_site)
    sent = _events(_delivered(app, receiver))
    new = {r["check_id"]: r for r in sent["new_failures"]["new_failures"]}
    assert "AWX-SRV-007" in new and "NET-NAT-002" not in new         # the mail forward never went away
    assert [e["excerpt"] for e in new["AWX-SRV-007"]["evidence"]] == [HTTP_RULE.strip()]
    since = client.get(f"/api/v1/audits/{third['id']}", headers=auth("read")).json["summary"]["drift"]["since_previous"]
    assert "AWX-SRV-007" in _ids(since["new_failures"]) and "NET-NAT-002" in _ids(since["unchanged_failures"])


def test_a_second_mail_forward_under_a_failing_check_is_reported(app, client, auth, router_site, receiver):
    _audit(client, auth, router_site)
    _delivered(app, receiver)
    LabRouter.ruleset = LAB.replace(HTTP_RULE, HTTP_RULE + SMTP_RULE)
    _audit(client, auth, router_site)
    sent = _events(_delivered(app, receiver))
    changed = {c["check_id"]: c for c in sent["new_failures"]["changed_failures"]}
    assert "NET-NAT-002" not in _ids(sent["new_failures"]["new_failures"])      # failing before, too
    assert [e["excerpt"] for e in changed["NET-NAT-002"]["new_evidence"]] == [SMTP_RULE.strip()]
    # read again unchanged: no event at all
    _audit(client, auth, router_site)
    assert _delivered(app, receiver) == []


def test_a_router_password_that_stops_working_is_a_new_error_then_clears(app, client, auth, router_site, receiver):
    first = _audit(client, auth, router_site)
    failing = {r["check_id"] for r in client.get(f"/api/v1/audits/{first['id']}/results?status=fail",
                                                 headers=auth("read")).json}
    _delivered(app, receiver)
    LabRouter.password = "changed-on-the-router"                     # the stored password stops working
    second = _audit(client, auth, router_site)
    sent = _events(_delivered(app, receiver))
    assert set(sent) == {"new_errors"}                               # not resolved, not new failures
    event = sent["new_errors"]
    assert failing <= _ids(event["new_errors"])
    for item in event["new_errors"]:
        assert "authentication failed" in item["reason"], item
        assert item["was"] == "fail" if item["check_id"] in failing else item["was"] in ("pass", "not_applicable")
    assert event["problems"] == ["router gw: authentication failed (ssh)"], event["problems"]
    assert [d["newly_failed_channels"] for d in event["devices"]] == [{"ssh": "authentication failed"}]
    assert "gw" in event["text"] and event["audit_id"] == second["id"]
    assert "router-pw-1" not in json.dumps(event) and "changed-on-the-router" not in json.dumps(event)

    LabRouter.password = "router-pw-1"                               # fixed: the same failures come back
    third = _audit(client, auth, router_site)
    sent = _events(_delivered(app, receiver))
    assert "new_failures" not in sent and "new_errors" not in sent
    assert failing <= _ids(sent["resolved"]["cleared_errors"]) and sent["resolved"]["resolved"] == []
    since = client.get(f"/api/v1/audits/{third['id']}", headers=auth("read")).json["summary"]["drift"]["since_previous"]
    assert since["new_failures"] == [] and _ids(since["returned_failures"]) == failing
    assert {(r["previous_status"], r["last_decided_audit_id"]) for r in since["returned_failures"]} == \
        {("error", first["id"])}


def test_links_without_a_public_base_url_are_null_and_say_why(app, client, auth, router_site, receiver):
    app.config["PUBLIC_BASE_URL"] = ""
    _audit(client, auth, router_site)
    body = _delivered(app, receiver)[0]
    assert body["links"] is None and body["audit_url"] is None
    assert "PUBLIC_BASE_URL" in body["links_note"] and "not set" in body["links_note"]
    app.config["PUBLIC_BASE_URL"] = "/relative/only"
    _audit(client, auth, router_site)
    LabRouter.ruleset = LAB.replace(HTTP_RULE, "")
    _audit(client, auth, router_site)
    bodies = _delivered(app, receiver)
    assert bodies and all(b["links"] is None and "not an absolute" in b["links_note"] for b in bodies)


# --- a simulated Allworx site: the real web admin, its login and its faults ---------------------

@pytest.fixture
def sim(audit_app, client, auth, receiver):
    audit_app.config.update(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"], PUBLIC_BASE_URL=BASE)
    site = start_site("insecure", snmp=False)
    with site:
        site_id = seed_site(flask_call(client, auth("admin")), "Dental South", site.inventory(),
                            site_fields={"required_wan_services": ["sip", "vpn"]})
        hook = client.post("/api/v1/webhooks", headers=auth("admin"), json={
            "url": receiver.url, "events": list(webhooks.EVENTS), "secret": SECRET})
        assert hook.status_code == 201, hook.json
        yield site, site_id


def _statuses(client, auth, audit_id):
    rows = client.get(f"/api/v1/audits/{audit_id}/results", headers=auth("read")).json
    return {(r["check_id"], r["device_id"]): r["status"] for r in rows}


def test_a_server_password_changed_on_the_device_is_a_new_error(app, client, auth, sim, receiver):
    site, site_id = sim
    first = _audit(client, auth, site_id, "baseline")
    _delivered(app, receiver)
    site.server.state.admin_password = "Rotated-On-The-Box-4471!"    # changed on the server, not in the appliance
    second = _audit(client, auth, site_id, "baseline")
    sent = _events(_delivered(app, receiver))
    before, after = _statuses(client, auth, first["id"]), _statuses(client, auth, second["id"])
    newly = {key for key, status in after.items() if status == "error" and before.get(key) != "error"}
    assert newly, "the server's web checks cannot be decided without its login"
    event = sent["new_errors"]
    assert {(e["check_id"], e["device_id"]) for e in event["new_errors"]} == newly
    # the checks read through the web admin cannot be decided, and say why: the login was rejected
    web = [e for e in event["new_errors"] if e["target"] == site.server.name and "web:" in e["message"]]
    assert {"AWX-PHN-004", "AWX-PHN-005", "AWX-WAN-002"} <= _ids(web), event["new_errors"]
    assert all(e["reason"] == "authentication failed (web)" for e in web), [e["reason"] for e in web]
    assert all(e["was"] in ("fail", "manual") for e in web)           # decided (or a person's) before
    # the server's SNMP never answered (this site runs no agent): not news, not named as the reason
    server = {d["name"]: d for d in event["devices"]}[site.server.name]
    assert server["newly_failed_channels"] == {"web": "authentication failed"}
    assert server["failed_channels"]["snmp"] and server["device_id"] == web[0]["device_id"]
    assert f"server {site.server.name}: authentication failed (web)" in event["problems"]
    assert site.server.name in event["text"] and event["site"]["name"] == "Dental South"
    assert "Rotated-On-The-Box" not in json.dumps(event) and "Allworx" not in json.dumps(event["devices"])


def test_after_a_web_outage_the_failures_that_return_are_not_new(app, client, auth, sim, receiver):
    site, site_id = sim
    first = _audit(client, auth, site_id, "baseline")
    _delivered(app, receiver)
    site.set_fault(site.server.name, "reset")                        # the web admin drops every connection
    second = _audit(client, auth, site_id, "baseline")
    site.set_fault(site.server.name, None)
    gone = {k for k, s in _statuses(client, auth, second["id"]).items() if s == "error"}
    failed_first = {k for k, s in _statuses(client, auth, first["id"]).items() if s == "fail"}
    hidden = gone & failed_first                                     # failing, then undecidable
    assert len(hidden) >= 3, (gone, failed_first)
    errors = _events(_delivered(app, receiver))["new_errors"]["new_errors"]
    assert hidden <= {(e["check_id"], e["device_id"]) for e in errors}
    third = _audit(client, auth, site_id, "baseline")
    sent = _events(_delivered(app, receiver))
    back = {k for k, s in _statuses(client, auth, third["id"]).items() if s == "fail"}
    assert hidden <= back                                            # the same failures, back
    since = client.get(f"/api/v1/audits/{third['id']}", headers=auth("read")).json["summary"]["drift"]["since_previous"]
    returned = {(r["check_id"], r["device_id"]): r for r in since["returned_failures"]}
    assert hidden <= set(returned) and {returned[k]["last_decided_audit_id"] for k in hidden} == {first["id"]}
    assert hidden <= {(r["check_id"], r["device_id"]) for r in sent["resolved"]["cleared_errors"]}
    # none of them is news, neither as a new failure nor as new evidence under one (the web-read evidence
    # of the server's password check, missing while the web admin was down, is back, not new)
    announced = sent.get("new_failures") or {"new_failures": [], "changed_failures": []}
    keys = {(r["check_id"], r["device_id"]) for r in announced["new_failures"] + announced["changed_failures"]}
    assert not hidden & keys and not hidden & {(r["check_id"], r["device_id"]) for r in since["new_failures"]}
    assert ("AWX-SRV-006", 1) not in keys, announced
