"""Bad input: 4xx naming the field, nothing written."""
import pytest

from store.db import get_db
from store.models import Device, Site


def _counts(app):
    with app.app_context(), get_db().session() as sess:
        return sess.query(Site).count(), sess.query(Device).count()


@pytest.mark.parametrize("body, field", [
    ({"name": "A", "wan_addresses": ["300.1.1.1"]}, "wan_addresses"),
    ({"name": "A", "lan_subnets": ["192.168.1.0/33"]}, "lan_subnets"),
    ({"name": "A", "voice_vlan_id": "20"}, "voice_vlan_id"),                  # wrong type
    ({"name": "A", "voice_vlan_id": 5000}, "voice_vlan_id"),
    ({"name": "A", "colour": "red"}, "colour"),                               # unknown field
    ({"name": ""}, "name"),
    ({"name": "A\x00B"}, "name"),
    ({}, "name"),
    ({"name": "A", "required_wan_services": ["sip; rm -rf /"]}, "required_wan_services"),
])
def test_bad_site_bodies_name_the_field(app, client, auth, body, field):
    before = _counts(app)
    resp = client.post("/api/v1/sites", json=body, headers=auth("admin"))
    assert resp.status_code == 422
    assert field in resp.json["errors"]["json"]
    assert _counts(app) == before


@pytest.mark.parametrize("patch, field", [
    ({"kind": "fax_machine"}, "kind"),
    ({"address": "192.168.1"}, "address"),
    ({"ports": {"ssh": 70000}}, "ports"),
    ({"device_type": "cisco_nonsense", "kind": "router"}, "device_type"),
    ({"declared_facts": {"phone_admin_password": "1234"}}, "declared_facts"),   # secrets only as credentials
    ({"credentials": {"password": 12345}}, "credentials"),
    ({"credentials": {"pin": "1"}}, "credentials"),
])
def test_bad_device_bodies_name_the_field(app, client, auth, site, patch, field):
    body = {"site_id": site["id"], "kind": "allworx_server", "name": "pbx", "address": "192.168.1.2", **patch}
    before = _counts(app)
    resp = client.post("/api/v1/devices", json=body, headers=auth("admin"))
    assert resp.status_code == 422, resp.json
    assert field in resp.json["errors"]["json"]
    assert _counts(app) == before


def test_malformed_json_is_400(client, auth):
    resp = client.post("/api/v1/sites", data="{not json", content_type="application/json", headers=auth("admin"))
    assert resp.status_code == 400
    assert resp.json["code"] == 400


def test_oversized_body_is_413(app, client, auth):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    resp = client.post("/api/v1/sites", json={"name": "A", "notes": big}, headers=auth("admin"))
    assert resp.status_code == 413
    assert resp.is_json


def test_deeply_nested_json_is_rejected_not_500(client, auth):
    body = '{"name": "A", "notes": ' + "[" * 5000 + "]" * 5000 + "}"
    resp = client.post("/api/v1/sites", data=body, content_type="application/json", headers=auth("admin"))
    assert resp.status_code == 400 and "nested" in resp.json["message"]


def test_json_depth_scanner_ignores_brackets_inside_strings():
    from api.request_guards import json_depth_exceeds
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[\\"[[[["}', 3)
    assert json_depth_exceeds(b'[[[[1]]]]', 3)


def test_bad_enum_in_query_names_the_parameter(client, auth):
    resp = client.get("/api/v1/devices?kind=toaster", headers=auth("read"))
    assert resp.status_code == 422 and "kind" in resp.json["errors"]["query"]


def test_unknown_query_parameter_is_422_naming_it(client, auth):
    resp = client.get("/api/v1/devices?kinds=router", headers=auth("read"))
    assert resp.status_code == 422 and "kinds" in resp.json["errors"]["query"]
    assert client.get("/api/v1/devices?kind=router&page=1&page_size=5", headers=auth("read")).status_code == 200


def test_documented_network_patterns_accept_what_the_api_returns():
    import ipaddress
    import re

    from api.fields import IPV4_CIDR_PATTERN, IPV6_CIDR_PATTERN
    for net in ("192.168.1.0/24", "0.0.0.0/0", "10.0.0.1/32"):
        assert re.match(IPV4_CIDR_PATTERN, str(ipaddress.ip_network(net)))
    for net in ("::93/128", "2001:db8::/32", "fe80::/10", "::/0", "1:2:3:4:5:6:7:8/128"):
        assert re.match(IPV6_CIDR_PATTERN, str(ipaddress.ip_network(net)))
    assert not re.match(IPV4_CIDR_PATTERN, "300.1.1.0/24")
    assert not re.match(IPV6_CIDR_PATTERN, "1:::2/64")
