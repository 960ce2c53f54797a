"""Bearer-token authentication, ordered scopes, and failed-auth rate limiting.

Tokens are random 256-bit values shown once; only their SHA-256 is stored (a fast hash is right for
high-entropy tokens: there is nothing to brute-force). Failed attempts are counted per client address
in the database so that every gunicorn worker sees the same count.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import select

from store.db import get_db, session
from store.models import ApiToken, AuthFailure, utcnow

SCOPES = ("read", "audit", "remediate", "admin")
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


def require(scope: str) -> ApiToken:
    """Authenticate the request and check its scope; aborts 401/403/429."""
    addr = request.remote_addr or "unknown"
    if _rate_limited(addr):
        abort(429, message="Too many failed authentication attempts; try again later.",
              headers={"Retry-After": str(current_app.config["AUTH_FAILURE_WINDOW_SECONDS"])})
    header = request.headers.get("Authorization", "")
    kind, _, presented = header.partition(" ")
    if kind.lower() != "bearer" or not presented.strip():
        _record_failure(addr)
        abort(401, message="Missing bearer token (Authorization: Bearer <token>).",
              headers={"WWW-Authenticate": "Bearer"})
    token = session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(presented.strip())))
    if token is None or token.revoked_at is not None or not hmac.compare_digest(
            token.token_hash, hash_token(presented.strip())):
        _record_failure(addr)
        abort(401, message="Invalid or revoked token.", headers={"WWW-Authenticate": "Bearer"})
    g.token = token
    if not scope_allows(token.scope, scope):
        abort(403, message=f"This operation needs scope '{scope}'; the token has '{token.scope}'.")
    _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        with get_db().session() as sess:
            row = sess.get(ApiToken, token.id)
            row.last_used_at = now
            sess.commit()


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["AUTH_FAILURE_WINDOW_SECONDS"])


def _rate_limited(addr: str) -> bool:
    with get_db().session() as sess:
        row = sess.get(AuthFailure, addr)
        return (row is not None and utcnow() - row.window_start < _window()
                and row.count >= current_app.config["AUTH_FAILURE_LIMIT"])


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
