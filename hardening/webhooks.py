"""Webhooks: events after each audit, HMAC-signed deliveries, retries with backoff, a delivery log.

Signature: X-AWXH-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), with the
timestamp in X-AWXH-Timestamp, so a receiver can reject replays. Targets are checked twice: the URL
when it is stored (scheme, no credentials, no control characters) and the resolved address when a
delivery is sent (public addresses only, unless an operator allows a network), and
redirects are never followed: a webhook cannot be turned against the appliance's own network.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import timedelta
from typing import Any, Iterable
from urllib.parse import urlsplit

import requests
from sqlalchemy import select

from store.audit_models import Webhook, WebhookDelivery
from store.models import utcnow

log = logging.getLogger(__name__)
EVENTS = ("new_failures", "resolved", "audit_error")
BACKOFF = (30, 120, 600, 1800, 7200)            # seconds before attempt 2, 3, ...; then it is failed
TIMEOUT = 5.0


class UnsafeTarget(ValueError):
    pass


def check_url(url: str) -> str:
    """Refuse URLs that could smuggle headers or credentials, or are not http(s)."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UnsafeTarget("URL must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UnsafeTarget("URL must not carry credentials; the body is signed with the webhook secret")
    return url


def check_address(host: str, port: int, allowed: Iterable[str] = ()) -> str:
    """Resolve and vet the target address at send time (DNS can change after the URL was stored)."""
    nets = [ipaddress.ip_network(n) for n in allowed]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if any(addr in n for n in nets):
            continue
        if not addr.is_global:       # loopback, link-local (cloud metadata), private LAN, reserved ...
            raise UnsafeTarget(f"{host} resolves to {addr}, a non-public address; allow it explicitly with "
                               "WEBHOOK_ALLOWED_NETWORKS if the receiver really lives there")
    return infos[0][4][0]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def enqueue(sess, site_id: int, event: str, payload: dict[str, Any]) -> int:
    """Queue a delivery per enabled webhook subscribed to the event (site's own or global)."""
    hooks = sess.scalars(select(Webhook).where(Webhook.enabled.is_(True))).all()
    count = 0
    for hook in hooks:
        if event in (hook.events or []) and hook.site_id in (None, site_id):
            sess.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=payload))
            count += 1
    sess.commit()
    return count


def deliver_due(db, box, allowed_networks: Iterable[str] = (), now=None, limit: int = 50) -> int:
    """Send deliveries whose time has come; returns how many were attempted."""
    now = now or utcnow()
    with db.session() as sess:
        due = sess.scalars(select(WebhookDelivery).where(WebhookDelivery.state == "pending",
                                                         WebhookDelivery.next_attempt_at <= now)
                           .order_by(WebhookDelivery.id).limit(limit)).all()
        for delivery in due:
            _attempt(sess, delivery, box, list(allowed_networks))
            sess.commit()
        return len(due)


def _attempt(sess, delivery: WebhookDelivery, box, allowed: list[str]) -> None:
    hook = sess.get(Webhook, delivery.webhook_id)
    delivery.attempts += 1
    try:
        parts = urlsplit(check_url(hook.url))
        check_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), allowed)
        body = json.dumps({"event": delivery.event, "delivery_id": delivery.id, **delivery.payload},
                          sort_keys=True).encode()
        timestamp = str(int(time.time()))
        secret = box.decrypt(hook.secret_enc)["secret"].encode()
        resp = requests.post(hook.url, data=body, timeout=TIMEOUT, allow_redirects=False, headers={
            "Content-Type": "application/json", "User-Agent": "allworx-hardening-appliance",
            "X-AWXH-Event": delivery.event, "X-AWXH-Delivery": str(delivery.id),
            "X-AWXH-Timestamp": timestamp, "X-AWXH-Signature": sign(secret, timestamp, body)})
        delivery.last_status_code = resp.status_code
        if 200 <= resp.status_code < 300:
            delivery.state, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), ""
            return
        delivery.last_error = f"HTTP {resp.status_code}"
    except UnsafeTarget as exc:
        delivery.state, delivery.last_error = "failed", str(exc)          # never retried
        return
    except (requests.RequestException, OSError) as exc:
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
    _reschedule(delivery)


def _reschedule(delivery: WebhookDelivery) -> None:
    if delivery.attempts > len(BACKOFF):
        delivery.state = "failed"
    else:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=BACKOFF[delivery.attempts - 1])


def audit_events(summary: dict[str, Any], state: str, error: str = "") -> list[tuple[str, dict]]:
    """Which events a finished audit raises, with their payloads (summary from hardening.auditdata)."""
    if state != "completed":
        return [("audit_error", {"state": state, "error": error})]
    since = ((summary.get("drift") or {}).get("since_previous")) or {}
    events = []
    base = {"overall": summary.get("overall"), "score": summary.get("score")}
    if since.get("new_failures"):
        events.append(("new_failures", {**base, "new_failures": since["new_failures"]}))
    if since.get("resolved"):
        events.append(("resolved", {**base, "resolved": since["resolved"]}))
    return events
