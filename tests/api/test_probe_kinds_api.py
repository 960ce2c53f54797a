"""POST /api/v1/probe with the pptp and http_get kinds: real probes of the simulator on loopback (the probe's
allow-list is loopback here), and bad input refused with a 422 naming the check and field, before any
packet is sent."""
from __future__ import annotations

from typing import Iterator

import pytest

from api.settings import TestConfig
from app import create_app
from hardening.engine import outside
from simulator import Site, start_site
from store.db import get_db

MARKERS = ["Security Key", "System Unique ID", "Reset Code"]


def make_app(tmp_path, **config):
    from api.auth import new_token
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATA_DIR": str(tmp_path / "data"), **config})
    with app.app_context(), get_db().session() as sess:
        _row, token = new_token(sess, "probe-test", "audit")
        sess.commit()
    return app.test_client(), {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def probe_client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("probe"), ROLE="probe", PROBE_ALLOWED_TARGETS=["127.0.0.0/8"])


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[Site, Site]]:
    with start_site("secure", snmp=False, phones=0, px=0) as secure, \
            start_site("insecure", snmp=False, phones=0, px=0, address_block="127.0.1") as insecure:
        yield secure, insecure


def test_the_probe_asks_pptp_and_gets_the_recovery_page_of_an_allowed_target(probe_client, sites):
    client, headers = probe_client
    secure, insecure = sites
    vpn = client.post("/api/v1/probe", json={"target": secure.server.address, "icmp": False, "checks": [
        {"proto": "tcp", "port": secure.server.pptp.port, "kind": "pptp"}]}, headers=headers)
    assert vpn.status_code == 200, vpn.json
    assert vpn.json["results"][f"pptp/{secure.server.pptp.port}"]["vendor"] == "Allworx Server VPN"
    web = insecure.server
    page = client.post("/api/v1/probe", json={"target": web.address, "icmp": False, "checks": [
        {"proto": "tcp", "port": web.ports["web_admin"], "kind": "http_get", "path": "/lostPass.asp",
         "markers": MARKERS}]}, headers=headers)
    assert page.status_code == 200, page.json
    record = page.json["results"][f"http_get/{web.ports['web_admin']}/lostPass.asp"]
    assert (record["status"], record["markers_found"]) == (200, MARKERS)
    assert web.state.security_key not in page.get_data(as_text=True)
    assert web.web.recovery_requests[-1][0] == "GET"


def http_get(**extra):
    return {"proto": "tcp", "port": 8080, "kind": "http_get", "path": "/lostPass.asp", **extra}


@pytest.mark.parametrize("check, field", [
    ({"proto": "tcp", "port": 1723, "kind": "ftp"}, "kind"),
    ({"proto": "udp", "port": 1723, "kind": "pptp"}, "proto"),
    ({"proto": "tcp", "port": 8080, "kind": "http_get"}, "path"),
    (http_get(path="/lostPass.asp?x=1"), "path"),
    (http_get(path="lostPass.asp"), "path"),
    (http_get(markers=["w"] * 9), "markers"),
    (http_get(markers=["bad\u0007word"]), "markers"),
    ({"proto": "tcp", "port": 8080, "path": "/x"}, "path"),
    ({"proto": "tcp", "port": 1723, "kind": "pptp", "tls": True}, "tls"),
])
def test_bad_probe_kinds_are_422_naming_the_field_and_nothing_is_sent(probe_client, monkeypatch, check, field):
    sent = []
    monkeypatch.setattr(outside, "run_probes", lambda *a, **k: sent.append(a) or {})
    client, headers = probe_client
    resp = client.post("/api/v1/probe", json={"target": "127.0.0.1", "checks": [check]}, headers=headers)
    assert resp.status_code == 422, resp.json
    assert field in resp.json["errors"]["json"]["checks"]["0"], resp.json
    assert sent == []


def test_more_http_gets_than_the_bound_are_refused(probe_client, monkeypatch):
    monkeypatch.setattr(outside, "run_probes", lambda *a, **k: pytest.fail("nothing may be sent"))
    client, headers = probe_client
    checks = [http_get(port=8000 + i) for i in range(outside.MAX_HTTP_GETS + 1)]
    resp = client.post("/api/v1/probe", json={"target": "127.0.0.1", "checks": checks}, headers=headers)
    assert resp.status_code == 422
    assert set(resp.json["errors"]["json"]["checks"]) == {str(outside.MAX_HTTP_GETS)}
    assert "at most 8 http_get" in resp.json["message"]


def test_outside_the_probe_role_it_is_404_whatever_the_kinds(tmp_path):
    client, headers = make_app(tmp_path)
    resp = client.post("/api/v1/probe", json={"target": "127.0.0.1", "checks": [
        {"proto": "udp", "port": 1723, "kind": "pptp"}]}, headers=headers)
    assert resp.status_code == 404
