"""Webhook URL and address guards, HMAC signatures, delivery against a real HTTP receiver, backoff."""
import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from hardening.jobs import webhooks
from store.audit_models import Webhook, WebhookDelivery
from store.models import Site, utcnow


class Receiver:
    """A loopback HTTP server recording what it was sent; answers with a configurable status."""

    def __init__(self, status=200):
        self.status, self.requests = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://user:pw@example.com/", "http://example.com/a\r\nX: y",
                                 "http://exa mple.com/", "https:///nohost", "javascript:alert(1)"])
def test_unsafe_urls_are_refused(url):
    with pytest.raises(webhooks.UnsafeTarget):
        webhooks.check_url(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.0.0.5", "::1", "0.0.0.0"])
def test_non_public_targets_are_refused_unless_allowed(host):
    with pytest.raises(webhooks.UnsafeTarget):
        webhooks.check_address(host, 80)
    assert webhooks.check_address("127.0.0.1", 80, ["127.0.0.0/8"]) == "127.0.0.1"


def _hook(app, url, events=("new_failures",), status="pending"):
    box = app.extensions["secret_box"]
    with app.extensions["db"].session() as sess:
        site = Site(name="S")
        sess.add(site)
        sess.flush()
        hook = Webhook(url=url, events=list(events), secret_enc=box.encrypt({"secret": "k" * 32}))
        sess.add(hook)
        sess.commit()
        return site.id, hook.id


def test_delivery_is_signed_and_logged(app, receiver):
    site_id, hook_id = _hook(app, receiver.url)
    with app.extensions["db"].session() as sess:
        assert webhooks.enqueue(sess, site_id, "new_failures", {"new_failures": [{"check_id": "AWX-SRV-007"}]}) == 1
        assert webhooks.enqueue(sess, site_id, "resolved", {}) == 0          # not subscribed
    db, box = app.extensions["db"], app.extensions["secret_box"]
    assert webhooks.deliver_due(db, box, ["127.0.0.0/8"]) == 1
    headers, body = receiver.requests[0]
    expected = hmac.new(b"k" * 32, headers["X-AWXH-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-AWXH-Signature"] == f"sha256={expected}"
    assert json.loads(body)["new_failures"][0]["check_id"] == "AWX-SRV-007"
    with db.session() as sess:
        delivery = sess.query(WebhookDelivery).one()
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_failed_delivery_backs_off_then_gives_up(app):
    failing = Receiver(status=500)
    try:
        site_id, _ = _hook(app, failing.url)
        db, box = app.extensions["db"], app.extensions["secret_box"]
        with db.session() as sess:
            webhooks.enqueue(sess, site_id, "new_failures", {})
        now = utcnow()
        for attempt in range(1, len(webhooks.BACKOFF) + 2):
            assert webhooks.deliver_due(db, box, ["127.0.0.0/8"], now=now) == 1
            with db.session() as sess:
                d = sess.query(WebhookDelivery).one()
                assert d.attempts == attempt and d.last_error == "HTTP 500"
                if attempt <= len(webhooks.BACKOFF):
                    assert d.state == "pending"
                    assert d.next_attempt_at > now           # not retried before its backoff
                    assert webhooks.deliver_due(db, box, ["127.0.0.0/8"], now=now) == 0
                    now = d.next_attempt_at + timedelta(seconds=1)
                else:
                    assert d.state == "failed"
        assert len(failing.requests) == len(webhooks.BACKOFF) + 1
    finally:
        failing.close()


def test_delivery_to_a_forbidden_address_fails_without_retry(app, receiver):
    site_id, _ = _hook(app, receiver.url)
    db, box = app.extensions["db"], app.extensions["secret_box"]
    with db.session() as sess:
        webhooks.enqueue(sess, site_id, "new_failures", {})
    webhooks.deliver_due(db, box, [])                 # loopback not allowed
    with db.session() as sess:
        d = sess.query(WebhookDelivery).one()
        assert d.state == "failed" and "non-public" in d.last_error
    assert receiver.requests == []
