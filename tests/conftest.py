"""Shared fixtures: an app on a temp data dir, a client, and one token per scope."""
from __future__ import annotations

import pytest

from api.settings import TestConfig
from app import create_app
from store.db import get_db

SCOPES = ("read", "audit", "remediate", "admin")


@pytest.fixture
def app(tmp_path):
    """A fresh appliance with its own SQLite file and key file under tmp_path."""
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(app):
    """Plaintext token per scope."""
    from api.auth import new_token
    out = {}
    with app.app_context(), get_db().session() as sess:
        for scope in SCOPES:
            _row, out[scope] = new_token(sess, f"test-{scope}", scope)
        sess.commit()
    return out


@pytest.fixture
def auth(tokens):
    """Headers for a scope: auth('admin')."""
    return lambda scope: {"Authorization": f"Bearer {tokens[scope]}"}


@pytest.fixture
def site(client, auth):
    resp = client.post("/api/v1/sites", json={"name": "HQ", "wan_addresses": ["203.0.113.10"],
                                              "lan_subnets": ["192.168.1.0/24"]}, headers=auth("admin"))
    assert resp.status_code == 201, resp.json
    return resp.json
