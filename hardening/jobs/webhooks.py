"""Webhooks: events after each audit, HMAC-signed deliveries, retries with backoff, a delivery log.

Signature: X-AWXH-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), with the
timestamp (Unix seconds, new on every attempt) in X-AWXH-Timestamp, so a receiver can reject replays;
the body is the exact bytes sent (JSON, sorted keys), X-AWXH-Delivery its delivery id (the same on every
retry: receivers de-duplicate on it) and X-AWXH-Event the event (hardening.jobs.webhook_events). The
README's "Webhooks" section has a receiver's verification snippet, tested against a real delivery. Targets are checked twice: the URL
when it is stored (scheme, no credentials, no control characters raw or percent-encoded, and a host
given as an address, in any spelling, or as localhost must be public unless allowed, and plain: no IPv6
translator or tunnel address such as NAT64 or IPv4-mapped) and the address
when a delivery is sent: every resolved address, and again the address actually connected to (DNS
may answer differently the second time). Public addresses only, unless an operator allows a network;
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
from urllib.parse import unquote, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from hardening.jobs.webhook_events import EVENTS, audit_events  # noqa: F401 (what callers import from here)
from store.audit_models import Webhook, WebhookDelivery
from store.models import utcnow

log = logging.getLogger(__name__)
BACKOFF = (30, 120, 600, 1800, 7200)            # seconds before attempt 2, 3, ...; then it is failed
TIMEOUT = 5.0


class UnsafeTarget(ValueError):
    pass


def _has_blank_or_control(text: str) -> bool:
    return any(ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F or c.isspace() for c in text)


def check_url(url: str) -> str:
    """Refuse URLs that could smuggle headers or credentials, or are not http(s)."""
    if _has_blank_or_control(url):
        raise UnsafeTarget("URL must not contain spaces or control characters")
    decoded = url
    for _ in range(3):                  # %0d, and %250d for a receiver that decodes twice
        decoded = unquote(decoded)
    if _has_blank_or_control(decoded):
        raise UnsafeTarget("URL must not contain spaces or control characters, not even percent-encoded")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UnsafeTarget("URL must not carry credentials; the body is signed with the webhook secret")
    return url


# IPv6 ranges that carry (or stand for) an IPv4 address: a translator or tunnel decides where they lead,
# and whether the embedded IPv4 is public says nothing about where the gateway sends it. A webhook target
# must be a plain address; these are refused whatever their embedded address, unless an operator lists
# the IPv6 range itself in WEBHOOK_ALLOWED_NETWORKS (an IPv6-only site behind its own NAT64).
EMBEDDING_RANGES = tuple((ipaddress.ip_network(net), name) for net, name in (
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("::ffff:0:0:0/96", "SIIT IPv4-translated"),
    ("64:ff9b::/96", "NAT64 well-known prefix"),
    ("64:ff9b:1::/48", "NAT64 local-use prefix"),
    ("2002::/16", "6to4"),
    ("2001::/32", "Teredo"),
    ("::/96", "IPv4-compatible"),
))


def _embedding(addr) -> str | None:
    """The translator / tunnel range the address lies in, named, or None for a plain address (:: and ::1,
    inside ::/96, are themselves: unspecified and loopback)."""
    if addr.version != 6 or addr.is_loopback or addr.is_unspecified:
        return None
    return next((f"{name} range {net}" for net, name in EMBEDDING_RANGES if addr in net), None)


def _vet(host: str, address: str, allowed: Iterable[str], verb: str = "resolves to") -> None:
    addr = ipaddress.ip_address(address.split("%", 1)[0])          # fe80::1%eth0: the zone is no part of it
    what = host if host == str(addr) else f"{host} {verb} {addr}"
    explicitly_allowed = any(addr.version == net.version and addr in net
                             for net in (ipaddress.ip_network(n) for n in allowed))
    embedding = _embedding(addr)
    if embedding is not None and not explicitly_allowed:
        raise UnsafeTarget(f"{what}: in the {embedding}, not a plain address: refused like a non-public address "
                           "(give the receiver's own address; list the IPv6 range in WEBHOOK_ALLOWED_NETWORKS "
                           "only if the receiver is reachable through that translator alone)")
    if explicitly_allowed:
        return
    # loopback, link-local (cloud metadata), private LAN, multicast
    if not addr.is_global or addr.is_multicast:
        raise UnsafeTarget(f"{what}: a non-public address; allow it explicitly with "
                           "WEBHOOK_ALLOWED_NETWORKS if the receiver really lives there")


def literal_address(host: str) -> str | None:
    """The address a URL host names without any DNS lookup, in every spelling resolvers accept:
    IPv6, dotted quad, and the legacy inet_aton forms (2130706433, 0177.0.0.1, 0x7f.1, 127.1)."""
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def check_target(url: str, allowed: Iterable[str] = ()) -> str:
    """At store time: a URL whose host is an address (or localhost) must be public unless allowed.
    Names are looked up only when a delivery is sent (check_address)."""
    host = (urlsplit(check_url(url)).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):        # RFC 6761: always loopback
        _vet(host, "127.0.0.1", allowed, "is")
    address = literal_address(host)
    if address is not None:
        _vet(host, address, allowed, "is")
    return url


def check_address(host: str, port: int, allowed: Iterable[str] = ()) -> str:
    """Resolve and vet the target address at send time (DNS can change after the URL was stored)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        _vet(host, info[4][0], allowed)
    return infos[0][4][0]


class _PeerChecked:
    """Vets the address a connection really reached: the name is resolved again for the connect,
    and a rebinding DNS server may then answer with an internal address."""
    allowed: tuple[str, ...] = ()

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            _vet(self.host, sock.getpeername()[0], self.allowed, "connected to")
        except UnsafeTarget:
            sock.close()
            raise
        return sock


def _session(allowed: Iterable[str]) -> requests.Session:
    allowed = tuple(allowed)
    conn = {scheme: type(f"PeerChecked{base.__name__}", (_PeerChecked, base), {"allowed": allowed})
            for scheme, base in (("http", urllib3.connection.HTTPConnection),
                                 ("https", urllib3.connection.HTTPSConnection))}
    pools = {scheme: type(f"PeerChecked{base.__name__}", (base,), {"ConnectionCls": conn[scheme]})
             for scheme, base in (("http", urllib3.HTTPConnectionPool), ("https", urllib3.HTTPSConnectionPool))}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, Adapter(max_retries=0))
    return session


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
        with _session(allowed) as session:
            resp = session.post(hook.url, data=body, timeout=TIMEOUT, allow_redirects=False, headers={
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
