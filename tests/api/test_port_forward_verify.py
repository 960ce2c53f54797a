"""POST /sites/{id}/port-forwards/verify with the SSH transport stubbed (the real netmiko driver's parse and
platform check run on canned outputs): one unreadable router among several is an error entry while the
others are verified, a wrong platform names what the output looks like, nothing read at all keeps the
fault's HTTP answer, and the answer is typed: it validates against the committed spec's schema and
loses no key the classification returns. The same against the real lab router: tests/lab/test_verify_live.py."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema_rs
import pytest

from api.common import device_access
from device_drivers import opener
from device_drivers.exceptions import AuthFailed, DeviceUnreachable
from device_drivers.routers import NetmikoRouterDriver
from hardening.engine.verify import verify_site
from store.models import Site

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
SAMPLES = ROOT / "tests" / "fixtures" / "router-samples"
MIKROTIK = (SAMPLES / "mikrotik" / "firewall_dstnat_script_oenik.txt").read_text()
OFFICE = """table ip nat {
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname "wan0" tcp dport 3389 dnat to 192.168.1.50:3389 comment "rdp-office-pc"
\t\tiifname "wan0" udp dport 5060 dnat to 192.168.1.21:5060 comment "sip-pbx"
\t\tiifname "wan0" tcp dport 2222 dnat to 192.168.1.60:22 comment "ssh-nas"
\t}
}
"""
KEY = {"type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAILfKG5am/h2jZ4i79qD9nENlOy9ccONJujesxGMe8JWQ",
       "sha256": "SHA256:111L0bvHujmTbhRJCjbZ0SML8r0LHsCE4LLlZXm7IoE"}          # a throwaway test key
# host -> what the stubbed transport does: outputs to parse, or the fault open() raises
BEHAVIOUR = {
    "192.168.1.1": {"nft list ruleset": OFFICE},
    "192.168.1.2": DeviceUnreachable("192.168.1.2:22: connection refused (nothing listens on that port)"),
    "192.168.1.3": {"/ip firewall nat export": MIKROTIK},
    "192.168.1.4": AuthFailed("192.168.1.4:22: authentication failed (Authentication failed.)"),
}


class _CannedRouter(NetmikoRouterDriver):
    """The real driver (platform check, parser, errors) with the SSH session replaced by BEHAVIOUR."""

    def open(self):
        if isinstance(BEHAVIOUR[self.host], Exception):
            raise BEHAVIOUR[self.host]
        self.presented_host_key = KEY

    def close(self):
        pass

    def gather(self, commands=None):
        return dict(BEHAVIOUR[self.host])


@pytest.fixture
def office(app, client, auth, monkeypatch):
    """A site (SIP required) with an Allworx server; add_router(name, address, device_type) adds routers."""
    monkeypatch.setattr(opener, "driver_class", lambda key: _CannedRouter)
    app.config["EGRESS_ALLOWED_NETWORKS"] = ["192.168.1.0/24"]
    h = auth("admin")
    site = client.post("/api/v1/sites", json={"name": "office", "required_wan_services": ["sip"]}, headers=h).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "allworx_server", "name": "pbx",
                                         "address": "192.168.1.20", "wan_address": "192.168.1.21"}, headers=h)

    def add_router(name, address, device_type="linux"):
        resp = client.post("/api/v1/devices", headers=h, json={
            "site_id": site["id"], "kind": "router", "name": name, "address": address, "device_type": device_type,
            "credentials": {"username": "admin", "password": "pw"}})
        assert resp.status_code == 201, resp.json
        return resp.json
    return site, add_router


def _verify(client, auth, site):
    return client.post(f"/api/v1/sites/{site['id']}/port-forwards/verify", json={"outside_probe": False},
                       headers=auth("audit"))


def _finding(answer, check_id):
    return next(f for f in answer["findings"] if f["check_id"] == check_id)


def test_one_unreachable_router_among_others_is_an_entry_and_the_rest_is_verified(client, auth, office):
    site, add_router = office
    gw, down, mt = add_router("gw", "192.168.1.1"), add_router("branch", "192.168.1.2"), \
        add_router("edge", "192.168.1.3", "cisco_ios")
    resp = _verify(client, auth, site)
    assert resp.status_code == 200, resp.json
    by_name = {r["name"]: r for r in resp.json["routers"]}
    assert [r["name"] for r in resp.json["routers"]] == ["gw", "branch", "edge"]

    assert by_name["gw"]["device_id"] == gw["id"]
    assert by_name["gw"]["error"] is None and by_name["gw"]["reason"] is None
    forwards = {f["comment"]: f for f in by_name["gw"]["forwards"]}
    assert forwards["rdp-office-pc"]["classification"] == "unexpected"
    assert forwards["rdp-office-pc"]["check_ids"] == ["NET-EXP-001"]
    assert forwards["rdp-office-pc"]["severity"] == "critical" and forwards["rdp-office-pc"]["services"] == ["rdp"]
    assert forwards["ssh-nas"]["severity"] == "high" and forwards["ssh-nas"]["services"] == ["ssh"]
    assert forwards["sip-pbx"]["classification"] == "expected" and forwards["sip-pbx"]["severity"] is None

    branch = by_name["branch"]
    assert branch["device_id"] == down["id"] and branch["forwards"] == [] and branch["reason"] == "connection refused"
    assert "192.168.1.2:22: connection refused" in branch["error"] and branch["looks_like"] is None

    edge = by_name["edge"]
    assert edge["device_id"] == mt["id"] and edge["reason"] == "wrong platform" and edge["device_type"] == "cisco_ios"
    assert "the output looks like mikrotik_routeros (confidence 1.0), not cisco_ios as configured" in edge["error"]
    assert edge["looks_like"] == {"platform": "mikrotik_routeros", "confidence": 1.0}

    exp = _finding(resp.json, "NET-EXP-001")            # the RDP forward fails it; the unread routers are named
    assert exp["status"] == "fail" and exp["severity"] == "critical"
    assert exp["evidence"][0]["detail"].startswith("critical: rdp (tcp/3389) forwarded to 192.168.1.50, from any")
    assert exp["evidence"][1]["detail"].startswith("high: ssh (tcp/22) forwarded to 192.168.1.60")
    unread = [e["detail"] for e in exp["evidence"] if e["detail"].startswith("router ")]
    assert len(unread) == 2 and any("branch" in d and "connection refused" in d for d in unread)
    assert any("edge" in d and "looks like mikrotik_routeros" in d for d in unread)
    # no forward of gw reaches 8080: a pass for gw alone, `error` for the unread routers' part, never a pass
    admin = _finding(resp.json, "AWX-SRV-007")
    assert admin["status"] == "error" and "connection refused" in admin["message"]


def test_a_wrong_platform_alone_keeps_the_fault_answer_naming_the_platform(client, auth, office):
    site, add_router = office
    add_router("edge", "192.168.1.3", "cisco_ios")
    resp = _verify(client, auth, site)
    assert resp.status_code == 502, resp.json
    assert "looks like mikrotik_routeros (confidence 1.0), not cisco_ios as configured" in resp.json["message"]


def test_when_no_router_can_be_read_the_first_fault_answers_and_names_the_others(client, auth, office):
    site, add_router = office
    add_router("branch", "192.168.1.2")
    add_router("annex", "192.168.1.4")
    resp = _verify(client, auth, site)
    assert resp.status_code == 502, resp.json
    message = resp.json["message"]
    assert message.startswith("192.168.1.2:22: connection refused")
    assert "no router of the site could be read: also annex: 192.168.1.4:22: authentication failed" in message


def test_an_egress_refused_router_among_readable_ones_is_an_entry(app, client, auth, office):
    site, add_router = office
    add_router("gw", "192.168.1.1")
    app.config["EGRESS_ALLOWED_NETWORKS"] = ["192.168.1.1/32"]
    add_router("far", "192.168.1.2")
    resp = _verify(client, auth, site)
    assert resp.status_code == 200, resp.json
    far = next(r for r in resp.json["routers"] if r["name"] == "far")
    assert far["reason"] == "egress refused" and "allowed device networks" in far["error"]


# --- the answer's schema -------------------------------------------------------------------------

def _json_schema(node, components):
    """An OpenAPI 3.0 schema as JSON Schema: $refs inlined, `nullable` as a null alternative."""
    if isinstance(node, list):
        return [_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {k: _json_schema(v, components) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _committed_response_schema():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    op = spec["paths"]["/api/v1/sites/{site_id}/port-forwards/verify"]["post"]
    return _json_schema(op["responses"]["200"]["content"]["application/json"]["schema"], spec["components"]["schemas"])


def test_the_live_answer_validates_against_the_committed_spec_and_loses_no_key(app, client, auth, office):
    site, add_router = office
    add_router("gw", "192.168.1.1")
    add_router("branch", "192.168.1.2")
    add_router("edge", "192.168.1.3", "cisco_ios")
    resp = _verify(client, auth, site)
    assert resp.status_code == 200
    schema = _committed_response_schema()
    jsonschema_rs.validate(schema, resp.json)
    forward = schema["properties"]["routers"]["items"]["properties"]["forwards"]["items"]
    assert forward["additionalProperties"] is False and forward["properties"]["severity"]
    broken = copy.deepcopy(resp.json)
    broken["routers"][0]["forwards"][0]["classification"] = "fine"
    assert not jsonschema_rs.is_valid(schema, broken)            # the schema is typed, not a bag of dicts
    with app.app_context(), app.extensions["db"].session() as sess:     # what the view dumps is what verify_site built
        raw = verify_site(sess, sess.get(Site, site["id"]), device_access(app).open, None)
    assert json.loads(json.dumps(raw)) == resp.json
    assert set(raw["routers"][0]["forwards"][0]) == set(forward["properties"])
