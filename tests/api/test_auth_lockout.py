"""Failed authentications are limited, valid tokens never: a client sharing an address with someone
guessing (NAT, the TLS proxy) keeps working; behind TRUSTED_PROXY_HOPS proxies each client is itself."""
from __future__ import annotations

import pytest

from api.settings import TestConfig
from app import create_app
from store.models import AuditLogEntry


def _fail(client, times, **kwargs):
    return [client.get("/api/v1/sites", headers={"Authorization": "Bearer awxh_wrong"}, **kwargs).status_code
            for _ in range(times)]


def test_a_valid_token_is_served_after_others_failed_from_its_address(app, client, auth):
    limit = app.config["AUTH_FAILURE_LIMIT"]
    assert _fail(client, limit + 7) == [401] * limit + [429] * 7
    assert client.get("/api/v1/sites", headers=auth("read")).status_code == 200
    assert client.post("/api/v1/sites", json={"name": "S"}, headers=auth("admin")).status_code == 201
    assert _fail(client, 2) == [429, 429]                          # the failures are still limited
    assert client.get("/api/v1/sites", headers={}).status_code == 429     # so is no token at all


def _proxied_app(tmp_path, hops):
    cfg = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**cfg, "DATA_DIR": str(tmp_path / f"data{hops}"), "TRUSTED_PROXY_HOPS": hops})
    from api.auth import new_token
    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "admin", "admin")
        sess.commit()
    return app, {"Authorization": f"Bearer {token}"}


def _via_proxy(client_addr):
    # the TLS proxy on 127.0.0.1 appends the address it saw
    return {"environ_base": {"REMOTE_ADDR": "127.0.0.1"}, "headers": {"X-Forwarded-For": client_addr}}


def test_behind_a_trusted_proxy_the_limiter_sees_each_client(tmp_path):
    app, admin = _proxied_app(tmp_path, 1)
    client, limit = app.test_client(), app.config["AUTH_FAILURE_LIMIT"]
    guess = _via_proxy("198.51.100.7")
    codes = [client.get("/api/v1/sites", environ_base=guess["environ_base"],
                        headers={**guess["headers"], "Authorization": "Bearer awxh_wrong"}).status_code
             for _ in range(limit + 1)]
    assert codes == [401] * limit + [429]
    other = _via_proxy("198.51.100.8")
    assert client.get("/api/v1/sites", environ_base=other["environ_base"],
                      headers={**other["headers"], "Authorization": "Bearer awxh_wrong"}).status_code == 401
    assert client.post("/api/v1/sites", json={"name": "S"}, environ_base=other["environ_base"],
                       headers={**other["headers"], **admin}).status_code == 201
    with app.extensions["db"].session() as sess:
        assert [e.remote_addr for e in sess.query(AuditLogEntry)] == ["198.51.100.8"]


@pytest.mark.parametrize("hops", [0])
def test_without_trusted_proxies_a_forwarded_header_is_ignored(tmp_path, hops):
    app, _admin = _proxied_app(tmp_path, hops)
    client, limit = app.test_client(), app.config["AUTH_FAILURE_LIMIT"]
    for n in range(limit):       # a guesser cannot dodge the limit by writing a new X-Forwarded-For each time
        spoof = _via_proxy(f"203.0.113.{n}")
        client.get("/api/v1/sites", environ_base=spoof["environ_base"],
                   headers={**spoof["headers"], "Authorization": "Bearer awxh_wrong"})
    spoof = _via_proxy("203.0.113.200")
    assert client.get("/api/v1/sites", environ_base=spoof["environ_base"],
                      headers={**spoof["headers"], "Authorization": "Bearer awxh_wrong"}).status_code == 429
