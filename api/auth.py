"""Bearer-token authentication, ordered scopes, and failed-auth rate limiting.

Tokens are random 256-bit values shown once; only their SHA-256 is stored (a fast hash is right for
high-entropy tokens: there is nothing to brute-force). Failed attempts are counted per client address
in the database so that every gunicorn worker sees the same count; beyond the limit failures get 429,
valid tokens never (the address is the real client's behind TRUSTED_PROXY_HOPS proxies).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import bindparam, select

from store.db import PreparedRead, dbapi_connection, get_db
from store.models import ApiToken, AuthFailure, utcnow

SCOPES = ("read", "audit", "remediate", "admin")
# Statements built once: every authenticated request runs TOKEN_LOOKUP, a refused one FAILURES_LOOKUP
FAILURES_LOOKUP = PreparedRead(select(AuthFailure.window_start, AuthFailure.count)
                               .where(AuthFailure.remote_addr == bindparam("addr")))
TOKEN_LOOKUP = PreparedRead(select(
    ApiToken.id, ApiToken.name, ApiToken.scope, ApiToken.token_hash, ApiToken.revoked_at, ApiToken.last_used_at
).where(ApiToken.token_hash == bindparam("token_hash")))
TOKEN_PREFIX = "awxh_"
LAST_USED_RESOLUTION = timedelta(minutes=1)     # avoid a DB write on every read request


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scope_allows(granted: str, required: str) -> bool:
    return SCOPES.index(granted) >= SCOPES.index(required)


def new_token(sess, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create and add (not commit) a token; returns the row and the plaintext shown once."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, scope=scope, token_hash=hash_token(plaintext), prefix=plaintext[:12])
    sess.add(row)
    return row, plaintext


def require(scope: str):
    """Authenticate the request and check its scope; aborts 401/403/429. Returns the token's row.

    Only failures are limited: a valid token is served whatever others sent from its address (behind a
    proxy, or NAT, every client may share one), and guessing a 256-bit token is not a threat to slow down."""
    addr = request.remote_addr or "unknown"
    header = request.headers.get("Authorization", "")
    kind, _, presented = header.partition(" ")
    if kind.lower() != "bearer" or not presented.strip():
        _refuse(addr, "Missing bearer token (Authorization: Bearer <token>).")
    presented_hash = hash_token(presented.strip())
    token = TOKEN_LOOKUP.first(dbapi_connection(), {"token_hash": presented_hash})
    if token is None:
        _refuse(addr, "Invalid or revoked token.")
    if token.revoked_at is not None or not hmac.compare_digest(token.token_hash, presented_hash):
        _refuse(addr, "Invalid or revoked token.")
    g.token = token
    if not scope_allows(token.scope, scope):
        abort(403, message=f"This operation needs scope '{scope}'; the token has '{token.scope}'.")
    _touch(token)
    return token


def _refuse(addr: str, message: str):
    """A request without a valid token: 429 while its address is over the limit, else counted and 401."""
    failures = FAILURES_LOOKUP.first(dbapi_connection(), {"addr": addr})
    if failures is not None and _limited(failures.window_start, failures.count):
        _too_many()
    _record_failure(addr)
    abort(401, message=message, headers={"WWW-Authenticate": "Bearer"})


def _too_many():
    abort(429, message="Too many failed authentication attempts; try again later.",
          headers={"Retry-After": str(current_app.config["AUTH_FAILURE_WINDOW_SECONDS"])})


def _touch(token) -> None:
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        with get_db().session() as sess:
            row = sess.get(ApiToken, token.id)
            row.last_used_at = now
            sess.commit()


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["AUTH_FAILURE_WINDOW_SECONDS"])


def _limited(window_start: datetime | None, count: int | None) -> bool:
    return (window_start is not None and utcnow() - window_start < _window()
            and count >= current_app.config["AUTH_FAILURE_LIMIT"])


def _record_failure(addr: str) -> None:
    now: datetime = utcnow()
    with get_db().session() as sess:
        row = sess.get(AuthFailure, addr)
        if row is None:
            sess.add(AuthFailure(remote_addr=addr, window_start=now, count=1))
        elif now - row.window_start >= _window():
            row.window_start, row.count = now, 1
        else:
            row.count += 1
        sess.commit()


def actor_name() -> str:
    token = g.get("token")
    return f"token:{token.name}" if token is not None else "anonymous"
