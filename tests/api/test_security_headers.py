"""Every answer says nosniff and cannot be framed; API answers carry a CSP that loads nothing; an answer to a
token is never cached (it may carry a token or a generated secret)."""
from __future__ import annotations


def _common(resp):
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_authenticated_answers_are_not_stored(client, auth):
    resp = client.get("/api/v1/sites", headers=auth("read"))
    _common(resp)
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert resp.headers["Cache-Control"] == "no-store"


def test_a_new_token_answer_is_not_stored(client, auth):
    resp = client.post("/api/v1/tokens", json={"name": "rmm", "scope": "read"}, headers=auth("admin"))
    assert resp.status_code == 201 and resp.json["token"].startswith("awxh_")
    _common(resp)
    assert resp.headers["Cache-Control"] == "no-store"


def test_refusals_and_public_answers_carry_the_headers_too(client):
    refused = client.get("/api/v1/sites", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    _common(refused)
    assert refused.headers["Cache-Control"] == "no-store"
    for path in ("/api/v1/health", "/api/v1/openapi.json", "/no/such/page"):
        _common(client.get(path))


def test_the_docs_page_may_run_only_its_own_scripts(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    _common(resp)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp and "default-src 'none'" in csp
    assert "http" not in csp                                  # nothing from another origin
