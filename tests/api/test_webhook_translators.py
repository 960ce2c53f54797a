"""A webhook target must be a plain address: every IPv6 range that embeds or stands for an IPv4 address
(mapped, SIIT, NAT64, 6to4, Teredo, compatible) is refused, also when the embedded IPv4 is public or allowed,
at store time and at send time."""
from __future__ import annotations

import socket

import pytest

from api.settings import TestConfig
from app import create_app
from hardening.jobs import webhooks

# (address, the range it lies in); the embedded IPv4 of each is public (8.8.8.8) unless said otherwise
TRANSLATED = [("::ffff:808:808", "IPv4-mapped"), ("::ffff:0:808:808", "SIIT"), ("::ffff:0:a00:1", "SIIT"),
              ("64:ff9b::808:808", "NAT64 well-known"), ("64:ff9b:1::808:808", "NAT64 local-use"),
              ("2002:808:808::1", "6to4"), ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "Teredo"),
              ("::808:808", "IPv4-compatible")]


def _app(tmp_path, **config):
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATA_DIR": str(tmp_path / "data"), **config})
    from api.auth import new_token
    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "admin", "admin")
        sess.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}

    def post(host):
        return client.post("/api/v1/webhooks", json={"url": f"https://[{host}]/hook" if ":" in host else
                                                     f"https://{host}/hook", "events": ["resolved"],
                                                     "secret": "k" * 32}, headers=headers)
    return post


@pytest.mark.parametrize("address,range_name", TRANSLATED)
def test_translator_addresses_are_refused_when_stored(tmp_path, address, range_name):
    resp = _app(tmp_path)(address)
    assert resp.status_code == 422
    message = resp.json["errors"]["json"]["url"][0]
    assert range_name in message and "not a plain address" in message


def test_plain_public_addresses_are_still_accepted(tmp_path):
    post = _app(tmp_path)
    assert [post(h).status_code for h in ("8.8.8.8", "2001:4860:4860::8888", "2a00:1450:4001::1")] == [201] * 3


def test_allowing_the_ipv4_network_does_not_admit_it_through_a_translator(tmp_path):
    post = _app(tmp_path, WEBHOOK_ALLOWED_NETWORKS=["10.0.5.0/24"])
    assert post("10.0.5.7").status_code == 201
    assert [post(h).status_code for h in ("::ffff:10.0.5.7", "::ffff:0:a00:507", "64:ff9b::a00:507")] == [422] * 3


def test_an_operator_may_allow_a_translator_range_itself(tmp_path):
    post = _app(tmp_path, WEBHOOK_ALLOWED_NETWORKS=["64:ff9b::/96"])
    assert post("64:ff9b::808:808").status_code == 201
    assert post("::ffff:0:808:808").status_code == 422


@pytest.mark.parametrize("address,range_name", TRANSLATED)
def test_a_name_resolving_to_a_translator_address_is_refused_at_send_time(monkeypatch, address, range_name):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, 443, 0, 0))])
    with pytest.raises(webhooks.UnsafeTarget, match=range_name):
        webhooks.check_address("hooks.example.net", 443, ["0.0.0.0/0"])
