"""Every operation in the spec against no token, a revoked token, and each scope.

The required scope is read from the operation's own documentation ("Requires a token with scope
`x`"), which the auth decorator writes, so a route that forgets the decorator fails here.
"""
import json
import re
from pathlib import Path

import pytest

from store.db import get_db

SPEC = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
SCOPES = ("read", "audit", "remediate", "admin")
PUBLIC = {("get", "/api/v1/health")}
OPERATIONS = [(m, p, op) for p, ops in SPEC["paths"].items() for m, op in ops.items() if m != "parameters"]


def _required(op):
    found = re.search(r"scope `(\w+)`", op.get("description", ""))
    return found.group(1) if found else None


def _url(path):
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def revoked(app, tokens):
    from api.auth import new_token
    from store.models import utcnow
    with app.app_context(), get_db().session() as sess:
        row, plaintext = new_token(sess, "revoked-admin", "admin")
        row.revoked_at = utcnow()
        sess.commit()
    return plaintext


@pytest.mark.parametrize("method, path, op", OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_operation_access(app, client, auth, revoked, method, path, op):
    app.config["AUTH_FAILURE_LIMIT"] = 10**6
    if (method, path) in PUBLIC:                     # public by design: answers without any token
        assert getattr(client, method)(_url(path)).status_code == 200
        return
    required = _required(op)
    assert required in SCOPES, f"{method.upper()} {path} documents no scope"
    call = getattr(client, method)
    url = _url(path)
    assert call(url, json={}).status_code == 401
    assert call(url, json={}, headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
    for scope in SCOPES:
        code = call(url, json={}, headers=auth(scope)).status_code
        if SCOPES.index(scope) < SCOPES.index(required):
            assert code == 403, f"{scope} got {code}"
        else:
            assert code not in (401, 403), f"{scope} got {code}"
            assert code < 500
