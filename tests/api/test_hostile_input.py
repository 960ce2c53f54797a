"""Hostile input at the API's edges: path traversal, header injection, SSRF, oversized and odd JSON.

tests/api/test_bad_input.py covers field validation of sites and devices (and one oversized and one
nested body); tests/jobs/test_webhooks.py the webhook URL/address guards as functions. Here: every
field or parameter that names something file-ish, webhook URLs through the API and through a real
delivery, the outside probe's targets, and every write operation of the spec against bodies that
are too big, too deep, too long a number, not valid Unicode, or the wrong JSON type. Only loopback
traffic: DNS names are ones /etc/hosts answers (localhost), or resolution is replaced.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from api.settings import TestConfig
from app import create_app
from hardening.jobs import webhooks
from hardening.model.profiles import PROFILE_DIR, UnknownProfile, load_profile
from store.audit_models import Audit, Schedule, Waiver, Webhook, WebhookDelivery
from store.db import get_db
from store.models import ApiToken, Device, Site

SPEC = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())


# --- files touched during a request (audit hook: sees every open(), os.open, listdir, scandir) ----

_TOUCHED: list[str] | None = None
_FILE_EVENTS = {"open", "os.listdir", "os.scandir", "os.remove", "os.rename", "shutil.copyfile", "glob.glob"}


def _audit(event: str, args: tuple) -> None:
    if _TOUCHED is not None and event in _FILE_EVENTS and args:
        _TOUCHED.append(os.fsdecode(args[0]) if isinstance(args[0], (str, bytes, os.PathLike)) else repr(args[0]))


sys.addaudithook(_audit)          # cannot be removed; does nothing outside touched_files()


@contextlib.contextmanager
def touched_files():
    global _TOUCHED
    _TOUCHED = seen = []
    try:
        yield seen
    finally:
        _TOUCHED = None


# --- apps and clients -----------------------------------------------------------------------------

def _make_app(tmp_path, **config):
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATA_DIR": str(tmp_path / "data"), "PROPAGATE_EXCEPTIONS": False, **config})
    from api.auth import new_token
    with app.app_context(), get_db().session() as sess:
        _row, token = new_token(sess, "hostile", "admin")
        sess.commit()
    return app, {"Authorization": f"Bearer {token}"}


def _env(tmp_path):
    app, headers = _make_app(tmp_path, MAX_CONTENT_LENGTH=256 * 1024)
    client = app.test_client()
    site = client.post("/api/v1/sites", json={"name": "HQ"}, headers=headers).json
    client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "device_type": "linux",
                                         "name": "edge", "address": "127.0.0.9"}, headers=headers)
    return app, client, headers, site


@pytest.fixture
def env(tmp_path):
    """App (exceptions become 500s, as in production), admin headers, a site with a router."""
    return _env(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The same, shared by the tests whose hostile requests must change nothing (each checks that)."""
    return _env(tmp_path_factory.mktemp("shared"))


def _rows(app) -> dict[str, int]:
    with app.app_context(), get_db().session() as sess:
        return {m.__name__: sess.query(m).count()
                for m in (Site, Device, ApiToken, Audit, Schedule, Waiver, Webhook, WebhookDelivery)}


def _json_error(resp, status: int | tuple[int, ...]):
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.is_json and resp.json["code"] == resp.status_code
    assert resp.json.get("message") or resp.json.get("errors"), resp.json
    return resp.json


# --- (a) path traversal in file-ish fields --------------------------------------------------------

@pytest.fixture
def canary(tmp_path):
    """A profile-shaped file outside the profile directory; payloads point at it."""
    folder = tmp_path / "awxh-canary"
    folder.mkdir()
    (folder / "evil.yaml").write_text("checks: ['*']\n")
    return folder / "evil"


def traversal_payloads(canary: Path) -> list[str]:
    relative = os.path.relpath(canary, PROFILE_DIR)
    return [relative, str(canary), str(canary) + ".yaml", "../../../../../../etc/passwd", "/etc/passwd",
            "baseline\x00" + relative, "baseline/../" + relative, relative.replace("/", "\\"),
            relative.replace("/", "%2f"), relative.replace("..", "%2e%2e"), "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "..", ".", "", "baseline/", "./baseline", "BASELINE", "baseline.yaml"]


def _no_canary_touched(touched: list[str]) -> None:
    bad = [p for p in touched if "awxh-canary" in p or "passwd" in p or "%2e" in p.lower() or "\x00" in p]
    assert not bad, bad


def test_profile_names_are_never_paths(shared, canary):
    app, client, headers, site = shared
    before = _rows(app)
    for payload in traversal_payloads(canary):
        with touched_files() as touched:
            audit = client.post(f"/api/v1/sites/{site['id']}/audits", json={"profile": payload}, headers=headers)
            schedule = client.post(f"/api/v1/sites/{site['id']}/schedules", json={"cron": "0 3 * * *",
                                                                                   "profile": payload}, headers=headers)
        for resp in (audit, schedule):
            assert "profile" in _json_error(resp, 422)["errors"]["json"], payload
        _no_canary_touched(touched)
    assert _rows(app) == before


def test_load_profile_refuses_a_path_before_reading_it(canary):
    for payload in traversal_payloads(canary):
        with touched_files() as touched, pytest.raises(UnknownProfile):
            load_profile(payload)
        _no_canary_touched(touched)
        assert not [p for p in touched if p.endswith(".yaml") and not p.startswith(str(PROFILE_DIR))]
    assert load_profile("baseline").name == "baseline"          # the refusal is not of everything


def test_rerun_of_an_audit_with_a_stored_bad_profile_is_409_not_500(env, canary):
    """Data already in the database (an old row, a removed profile) takes the same path as input."""
    app, client, headers, site = env
    with app.app_context(), get_db().session() as sess:
        audit = Audit(site_id=site["id"], profile=os.path.relpath(canary, PROFILE_DIR), requested_by="old",
                      state="failed", progress={})
        sess.add(audit)
        sess.commit()
        audit_id = audit.id
    with touched_files() as touched:
        resp = client.post(f"/api/v1/audits/{audit_id}/rerun", headers=headers)
    assert "unknown profile" in _json_error(resp, 409)["message"]
    _no_canary_touched(touched)


def test_a_schedule_with_a_stored_bad_profile_does_not_stop_the_others(env, canary):
    from datetime import timedelta

    from hardening.jobs import schedules
    from store.models import utcnow
    app, client, headers, site = env
    other = client.post("/api/v1/sites", json={"name": "Branch"}, headers=headers).json
    with app.app_context(), get_db().session() as sess:
        due = utcnow() - timedelta(minutes=1)
        sess.add_all([Schedule(site_id=site["id"], cron="* * * * *", profile="../../etc/passwd", next_run_at=due),
                      Schedule(site_id=other["id"], cron="* * * * *", profile="baseline", next_run_at=due)])
        sess.commit()
    submitted = []
    with touched_files() as touched:
        started = schedules.tick(app.extensions["db"], submitted.append)
    assert len(started) == 1 and submitted == started
    with app.app_context(), get_db().session() as sess:
        assert sess.get(Audit, started[0]).site_id == other["id"]
        assert all(s.next_run_at > utcnow() for s in sess.query(Schedule))      # the bad one moved on too
    _no_canary_touched(touched)


@pytest.mark.parametrize("param", ["format", "check_id"])
def test_result_format_and_check_filters_are_never_paths(env, canary, param):
    app, client, headers, site = env
    with app.app_context(), get_db().session() as sess:
        audit = Audit(site_id=site["id"], profile="baseline", requested_by="t", state="completed", progress={})
        sess.add(audit)
        sess.commit()
        audit_id = audit.id
    for payload in traversal_payloads(canary)[:8] + ["sarif/../../etc/passwd", "json\x00.html"]:
        with touched_files() as touched:
            resp = client.get(f"/api/v1/audits/{audit_id}/results", query_string={param: payload}, headers=headers)
        assert param in _json_error(resp, 422)["errors"]["query"], payload
        _no_canary_touched(touched)


@pytest.mark.parametrize("field", ["platform", "device_type"])
def test_platform_names_are_never_module_or_file_paths(shared, canary, field):
    """The platform picks a parser module (importlib) and a driver: only the known names."""
    app, client, headers, site = shared
    before = _rows(app)
    for payload in traversal_payloads(canary)[:10] + ["os", "subprocess", "firewall.parsers.linux", "linux.py",
                                                      "../firewall/parsers/linux"]:
        with touched_files() as touched:
            if field == "platform":
                resp = client.post("/api/v1/router-configs/analyze", json={"platform": payload, "config": "x"},
                                   headers=headers)
            else:
                resp = client.post("/api/v1/devices", headers=headers, json={
                    "site_id": site["id"], "kind": "router", "device_type": payload, "name": "r2",
                    "address": "127.0.0.10"})
        assert field in _json_error(resp, 422)["errors"]["json"], payload
        _no_canary_touched(touched)
        assert not [p for p in touched if p.endswith(".py")], touched          # nothing imported
    assert _rows(app) == before


def test_command_names_of_pasted_outputs_are_labels_not_paths(shared, canary):
    app, client, headers, _site = shared
    for key in traversal_payloads(canary)[:6]:
        with touched_files() as touched:
            resp = client.post("/api/v1/router-configs/analyze", headers=headers,
                               json={"platform": "linux", "outputs": {key: "no such output"}})
        assert "outputs" in _json_error(resp, 422)["errors"]["json"]
        _no_canary_touched(touched)


@pytest.mark.parametrize("path", ["../../../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fpasswd",
                                  "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "..\\..\\..\\etc\\passwd",
                                  "swagger-ui.css%00.png", "%00", "....//....//etc/passwd"])
def test_swagger_assets_route_serves_only_its_directory(shared, path):
    import swagger_ui_bundle
    _app, client, _headers, _site = shared
    with touched_files() as touched:
        resp = client.get(f"/api/v1/docs/static/{path}", follow_redirects=True)   # '//' is merged: 308
    assert resp.status_code in (400, 404), resp.status_code
    assert all(r.request.path.startswith("/api/v1/docs/static/") for r in resp.history)
    assert b"root:" not in resp.get_data()
    assets = os.path.realpath(swagger_ui_bundle.swagger_ui_path)
    outside = [p for p in touched if not os.path.realpath(p).startswith(assets) and "passwd" in p]
    assert not outside, outside
    assert client.get("/api/v1/docs/static/swagger-ui.css").status_code == 200      # the route itself works


# --- (b) header injection through webhook URLs ----------------------------------------------------

INJECTIONS = ["http://hooks.example.net/a\r\nX-Injected: 1", "http://hooks.example.net/a\nX-Injected: 1",
              "http://hooks.example.net/a\rX-Injected: 1", "http://hooks.example.net/a b",
              "http://hooks.example.net/a\tb", "http://hooks.example.net/a\x00b",
              "http://hooks.example.net/a%0d%0aX-Injected:%201", "http://hooks.example.net/a%0aX-Injected:1",
              "http://hooks.example.net/a%0D%0AX-Injected:1", "http://hooks.example.net/a%20b",
              "http://hooks.example.net/a%09b", "http://hooks.example.net/a%00b",
              "http://hooks.example.net/a%250d%250aX-Injected:1",               # decoded twice by some servers
              "http://hooks.example.net/?q=1%0d%0aX-Injected:1", "http://hooks.example.net/#x%0aY:1",
              "http://hooks.example%0d%0a.net/", "http://hooks.example.net\r\n:80/",
              "http://hooks.example.net/a\u2028X-Injected:1", "http://hooks.example.net/a\x85b"]


@pytest.mark.parametrize("url", INJECTIONS)
def test_webhook_urls_with_line_breaks_or_blanks_are_refused(shared, url):
    app, client, headers, _site = shared
    before = _rows(app)
    resp = client.post("/api/v1/webhooks", json={"url": url, "events": ["new_failures"], "secret": "k" * 32},
                       headers=headers)
    assert "url" in _json_error(resp, 422)["errors"]["json"]
    assert _rows(app) == before


def test_a_plain_public_url_is_still_accepted_without_any_dns_lookup(shared, monkeypatch):
    app, client, headers, _site = shared

    def no_dns(*args, **kwargs):
        raise AssertionError(f"a DNS lookup when storing a webhook: {args}")
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    for url in ("https://hooks.example.net/awx?x=1&y=%2F", "http://93.184.216.34:8080/hook",
                "https://[2001:4860::8888]/"):
        resp = client.post("/api/v1/webhooks", json={"url": url, "events": ["resolved"], "secret": "k" * 32},
                           headers=headers)
        assert resp.status_code == 201, resp.json


class RawReceiver:
    """A loopback TCP server that records each connection's raw bytes and answers with `reply`."""

    def __init__(self, host="127.0.0.1", reply=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"):
        self.reply, self.raw, self.connections = reply, [], 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.host, self.port = host, self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(1.0)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)
                    while len(body) < length:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                    if data:
                        self.raw.append(head)
                        conn.sendall(self.reply)
                except OSError:
                    pass

    def url(self, path="/hook"):
        return f"http://{self.host}:{self.port}{path}"

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def receiver():
    r = RawReceiver()
    yield r
    r.close()


def _store_hook(app, url) -> int:
    """Straight into the database: as if the check at creation had been bypassed (old row, bug)."""
    with app.app_context(), get_db().session() as sess:
        site = sess.query(Site).first()
        hook = Webhook(url=url, events=["new_failures"], site_id=None,
                       secret_enc=app.extensions["secret_box"].encrypt({"secret": "k" * 32}))
        sess.add(hook)
        sess.commit()
        webhooks.enqueue(sess, site.id, "new_failures", {"new_failures": [{"check_id": "AWX-SRV-001\r\nX-A: 1"}]})
        return hook.id


def _deliver(app, allowed):
    return webhooks.deliver_due(app.extensions["db"], app.extensions["secret_box"], allowed)


def _delivery(app, hook_id) -> WebhookDelivery:
    with app.app_context(), get_db().session() as sess:
        return sess.query(WebhookDelivery).filter_by(webhook_id=hook_id).one()


EXPECTED_HEADERS = {"host", "content-type", "user-agent", "x-awxh-event", "x-awxh-delivery", "x-awxh-timestamp",
                    "x-awxh-signature", "content-length", "accept", "accept-encoding", "connection"}


def test_a_delivery_carries_exactly_the_appliance_headers(env, receiver):
    app, _client, _headers, _site = env
    hook_id = _store_hook(app, receiver.url("/hook?a=1"))
    assert _deliver(app, ["127.0.0.0/8"]) == 1
    assert _delivery(app, hook_id).state == "delivered"
    request_line, *lines = receiver.raw[0].decode("latin-1").split("\r\n")
    assert request_line == "POST /hook?a=1 HTTP/1.1"
    names = [line.split(":", 1)[0].lower() for line in lines]
    assert set(names) <= EXPECTED_HEADERS and len(names) == len(set(names)), names
    assert "x-a" not in names                      # a CR/LF in the payload stays in the (JSON) body


@pytest.mark.parametrize("suffix", ["/a\r\nX-Injected: 1", "/a%0d%0aX-Injected:%201", "/a\nX-Injected: 1",
                                    "/a%250d%250aX-Injected:1", "/a b"])
def test_a_stored_url_with_a_line_break_never_sends_a_request(env, receiver, suffix):
    app, _client, _headers, _site = env
    hook_id = _store_hook(app, receiver.url(suffix))
    _deliver(app, ["127.0.0.0/8"])
    delivery = _delivery(app, hook_id)
    assert delivery.state == "failed" and "control characters" in delivery.last_error    # and never retried
    assert receiver.connections == 0


# --- (c) SSRF: webhook targets and outside-probe targets ------------------------------------------

NON_PUBLIC_HOSTS = ["127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1",
                    "017700000001", "0", "0.0.0.0", "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
                    "[0:0:0:0:0:ffff:127.0.0.1]", "169.254.169.254", "2852039166", "0xa9.0xfe.0xa9.0xfe",
                    "[::ffff:169.254.169.254]", "[fe80::1]", "[fe80::1%25eth0]", "10.0.0.1", "012.0.0.1",
                    "172.16.5.4", "192.168.1.1", "[fd00::1]", "100.64.0.1", "224.0.0.1", "255.255.255.255",
                    "localhost", "LOCALHOST", "localhost.", "api.localhost", "[::ffff:10.0.0.1]",
                    # IPv4 behind a translator or tunnel: NAT64 (well-known and local-use), 6to4, compatible
                    "[64:ff9b::a00:1]", "[64:ff9b::7f00:1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b:1::a00:1]",
                    "[2002:a00:1::1]", "[2002:7f00:1::]", "[::a00:1]", "[::7f00:1]"]


@pytest.mark.parametrize("host", NON_PUBLIC_HOSTS)
def test_webhook_to_a_non_public_address_is_refused_when_stored(shared, host, monkeypatch):
    app, client, headers, _site = shared
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail(f"DNS lookup of {a[0]}"))
    before = _rows(app)
    for url in (f"http://{host}/hook", f"https://{host}:8443/hook"):
        resp = client.post("/api/v1/webhooks", json={"url": url, "events": ["new_failures"], "secret": "k" * 32},
                           headers=headers)
        message = _json_error(resp, 422)["errors"]["json"]["url"][0]
        assert "non-public" in message and "WEBHOOK_ALLOWED_NETWORKS" in message
    assert _rows(app) == before


def test_allowed_networks_admit_exactly_their_addresses(tmp_path):
    app, headers = _make_app(tmp_path, WEBHOOK_ALLOWED_NETWORKS=["10.0.5.0/24", "fd00:5::/64"])
    client = app.test_client()

    def post(host):
        return client.post("/api/v1/webhooks", json={"url": f"http://{host}/h", "events": ["resolved"],
                                                     "secret": "k" * 32}, headers=headers).status_code
    assert [post(h) for h in ("10.0.5.7", "[fd00:5::9]", "012.0.5.7")] == [201, 201, 201]
    assert [post(h) for h in ("10.0.6.1", "127.0.0.1", "169.254.169.254", "[fd00:6::1]", "localhost")] == [422] * 5
    # an address that carries an IPv4 inside (mapped, NAT64) is refused even when that IPv4 is allowed:
    # a webhook target must be a plain address (issue 14)
    assert [post(h) for h in ("[::ffff:10.0.5.7]", "[64:ff9b::a00:507]", "[64:ff9b::a00:601]")] == [422] * 3


def test_translator_addresses_are_refused_even_around_a_public_ipv4():
    """NAT64, 6to4 and SIIT forms of 8.8.8.8 are refused; a plain public IPv6 address is not."""
    for address in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:0:808:808"):
        with pytest.raises(webhooks.UnsafeTarget):
            webhooks._vet("receiver", address, [])
    webhooks._vet("receiver", "2001:4860:4860::8888", [])   # Google's resolver: plain, public


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]"])
def test_delivery_to_a_non_public_target_sends_nothing(env, receiver, host):
    """The send-time check (DNS via /etc/hosts for localhost; the legacy spellings via the resolver)."""
    app, _client, _headers, _site = env
    hook_id = _store_hook(app, f"http://{host}:{receiver.port}/hook")
    _deliver(app, ["10.9.9.0/24"])                       # something allowed, but not loopback
    delivery = _delivery(app, hook_id)
    assert delivery.state == "failed" and "non-public" in delivery.last_error, delivery.last_error
    assert receiver.connections == 0


def test_dns_rebinding_between_the_check_and_the_connect_is_caught(env, receiver, monkeypatch):
    """The name resolves to a public address for the check, then to loopback for the connect."""
    app, _client, _headers, _site = env
    real = socket.getaddrinfo
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = "93.184.216.34" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    hook_id = _store_hook(app, f"http://rebind.test:{receiver.port}/hook")
    _deliver(app, [])
    delivery = _delivery(app, hook_id)
    assert answers[:2] == ["93.184.216.34", "127.0.0.1"]
    assert delivery.state == "failed" and "connected to 127.0.0.1" in delivery.last_error, delivery.last_error
    assert receiver.raw == []                             # connected, vetted, closed: not one byte of request


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_from_an_allowed_receiver_to_a_forbidden_one_is_not_followed(env, status):
    app, _client, _headers, _site = env
    forbidden = RawReceiver("127.0.0.2")
    allowed = RawReceiver(reply=(f"HTTP/1.1 {status} Moved\r\nLocation: {forbidden.url('/internal')}\r\n"
                                 "Content-Length: 0\r\nConnection: close\r\n\r\n").encode())
    try:
        hook_id = _store_hook(app, allowed.url())
        _deliver(app, ["127.0.0.1/32"])
        delivery = _delivery(app, hook_id)
        assert len(allowed.raw) == 1 and delivery.last_status_code == status and delivery.state == "pending"
        assert forbidden.connections == 0
    finally:
        allowed.close()
        forbidden.close()


PROBE_TARGETS = ["127.0.0.1", "::1", "::ffff:127.0.0.1", "169.254.169.254", "::ffff:169.254.169.254", "10.0.0.1",
                 "192.168.1.1", "0.0.0.0", "::", "fe80::1", "224.0.0.1", "203.0.114.1", "::ffff:203.0.113.5",
                 "2130706433", "0177.0.0.1", "127.1", "0x7f000001", "localhost", "203.0.113.5/32", " 203.0.113.5x",
                 "203.0.113.005"]


@pytest.fixture(scope="module")
def probe_role(tmp_path_factory):
    from hardening.engine import outside
    app, headers = _make_app(tmp_path_factory.mktemp("probe"), ROLE="probe", PROBE_ALLOWED_TARGETS=["203.0.113.0/24"])
    sent = []
    with pytest.MonkeyPatch.context() as patch:            # nothing leaves the box, whatever the verdict
        patch.setattr(outside, "run_probes", lambda target, *a, **k: sent.append(target) or {"tcp/5060": "x"})
        yield app.test_client(), headers, sent


@pytest.fixture
def probe_app(probe_role):
    probe_role[2].clear()
    return probe_role


@pytest.mark.parametrize("target", PROBE_TARGETS)
def test_outside_probe_refuses_targets_outside_its_allow_list(probe_app, target):
    client, headers, sent = probe_app
    resp = client.post("/api/v1/probe", json={"target": target, "checks": [{"proto": "tcp", "port": 5060}]},
                       headers=headers)
    assert "target" in _json_error(resp, 422)["errors"]["json"]
    assert sent == []


def test_outside_probe_probes_an_allowed_target_and_nothing_when_unconfigured(probe_app, tmp_path):
    client, headers, sent = probe_app
    ok = client.post("/api/v1/probe", json={"target": "203.0.113.5", "checks": [{"proto": "udp", "port": 5060}]},
                     headers=headers)
    assert ok.status_code == 200 and sent == ["203.0.113.5"]
    bare, bare_headers = _make_app(tmp_path / "bare", ROLE="probe")            # no allow-list: nothing at all
    resp = bare.test_client().post("/api/v1/probe", json={"target": "203.0.113.5", "checks": []},
                                   headers=bare_headers)
    assert "target" in _json_error(resp, 422)["errors"]["json"]


# --- (d) oversized, deep and odd JSON on every write operation -------------------------------------

WRITE_OPS = sorted((method.upper(), path) for path, ops in SPEC["paths"].items() for method, op in ops.items()
                   if method in ("post", "put", "patch"))


def _url(path: str, site_id: int) -> str:
    return path.replace("{site_id}", str(site_id)).replace("{", "").replace("}", "") \
        .replace("device_id", "1").replace("audit_id", "1").replace("window_id", "1") \
        .replace("remediation_id", "1").replace("schedule_id", "1")


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _string_field(method: str, path: str) -> str | None:
    body = SPEC["paths"][path][method.lower()].get("requestBody")
    if not body:
        return None
    props = _resolve(body["content"]["application/json"]["schema"]).get("properties", {})
    return next((name for name, prop in props.items() if not prop.get("readOnly") and
                 (_resolve(prop).get("type") == "string" or "anyOf" in prop)), None)


def _send(client, method, url, body: bytes, headers, chunked=False):
    kwargs = {"content_type": "application/json", "headers": {**headers, "If-Match": "*"}}
    if chunked:
        kwargs.update(input_stream=io.BytesIO(body), environ_overrides={"wsgi.input_terminated": True})
        kwargs["headers"]["Transfer-Encoding"] = "chunked"
    else:
        kwargs["data"] = body
    return client.open(url, method=method, **kwargs)


def test_every_write_operation_is_covered():
    assert len(WRITE_OPS) >= 20 and ("POST", "/api/v1/webhooks") in WRITE_OPS
    with_body = [op for op in WRITE_OPS if "requestBody" in SPEC["paths"][op[1]][op[0].lower()]]
    assert all(_string_field(*op) for op in with_body if op[1] not in (
        "/api/v1/sites/{site_id}/port-forwards/verify", "/api/v1/remediations", "/api/v1/sites/{site_id}/baseline")), \
        [op for op in with_body if not _string_field(*op)]


@pytest.mark.parametrize("method,path", WRITE_OPS)
def test_hostile_bodies_get_a_4xx_with_a_message(shared, method, path):
    app, client, headers, site = shared
    url, limit = _url(path, site["id"]), app.config["MAX_CONTENT_LENGTH"]
    has_body = "requestBody" in SPEC["paths"][path][method.lower()]
    field = _string_field(method, path) or "name"
    before = _rows(app)

    big = b'{"%s": "' % field.encode() + b"x" * limit + b'"}'
    for chunked in (False, True):
        assert "larger than" in _json_error(_send(client, method, url, big, headers, chunked), 413)["message"]

    deep = b'{"%s": ' % field.encode() + b"[" * 5000 + b"]" * 5000 + b"}"
    for chunked in (False, True):
        assert "nested" in _json_error(_send(client, method, url, deep, headers, chunked), 400)["message"]
    deep_objects = b'{"a":' * 3000 + b"1" + b"}" * 3000
    assert "nested" in _json_error(_send(client, method, url, deep_objects, headers), 400)["message"]

    # just under the nesting limit: parsed, then refused by the schema (or ignored), never a 500
    shallow = b'{"%s": ' % field.encode() + b"[" * 30 + b"]" * 30 + b"}"
    assert _send(client, method, url, shallow, headers).status_code < 500

    for raw in (b'{"%s": 1%s}' % (field.encode(), b"0" * 5000),          # beyond int()'s 4300 digits
                b'{"%s": "\\ud800"}' % field.encode(),                      # valid JSON, not storable text
                b'{"\\udfff": 1}', b"null", b"[]", b'"text"', b"1e999", b"-", b"\xff\xfe{}", b"{}" * 2):
        resp = _send(client, method, url, raw, headers)
        assert resp.status_code < 500, (raw[:40], resp.status_code, resp.get_data(as_text=True)[:200])
        if has_body and resp.status_code not in (404, 409, 412, 428):
            _json_error(resp, (400, 413, 422))
    if has_body:
        surrogate = _send(client, method, url, b'{"%s": "a\\ud800"}' % field.encode(), headers)
        assert field in _json_error(surrogate, 422)["errors"]["json"]
        number = _send(client, method, url, b'{"%s": 1%s}' % (field.encode(), b"0" * 5000), headers)
        _json_error(number, 400)
    wide = ("{" + ", ".join(f'"k{i}": {i}' for i in range(20000)) + "}").encode()
    assert _send(client, method, url, wide, headers).status_code < 500
    assert _rows(app) == before


@pytest.mark.parametrize("body, field", [
    ({"name": "A\n"}, "name"),                                   # `$` matches before a final newline
    ({"name": "A", "required_wan_services": ["sip\n"]}, "required_wan_services"),
    ({"name": "A", "notes": "ok", "lan_subnets": ["10.0.0.0/8\n"]}, None),      # normalised: accepted
])
def test_trailing_newline_does_not_slip_past_patterns(env, body, field):
    app, client, headers, _site = env
    resp = client.post("/api/v1/sites", json=body, headers=headers)
    if field is None:
        assert resp.status_code == 201 and resp.json["lan_subnets"] == ["10.0.0.0/8"]
    else:
        assert field in _json_error(resp, 422)["errors"]["json"]


@pytest.mark.parametrize("patch, field", [
    ({"ssh_host_key": {"type": "ssh-ed25519\n", "key": "AAAA"}}, "ssh_host_key"),
    ({"ssh_host_key": {"type": "ssh-ed25519", "key": "AAAA\n"}}, "ssh_host_key"),
    ({"ports": {"ssh\n": 22}}, "ports"),
    ({"name": "pbx\n"}, "name"),
])
def test_trailing_newline_in_device_fields(shared, patch, field):
    app, client, headers, site = shared
    resp = client.post("/api/v1/devices", headers=headers, json={
        "site_id": site["id"], "kind": "router", "device_type": "linux", "name": "r9", "address": "127.0.0.11",
        **patch})
    assert field in _json_error(resp, 422)["errors"]["json"]


@pytest.mark.parametrize("cron", ["0 3 * * *\n", "0\t3 * * *", "0 3 * * * \n"])
def test_schedule_cron_must_match_its_documented_pattern(shared, cron):
    app, client, headers, site = shared
    resp = client.post(f"/api/v1/sites/{site['id']}/schedules", json={"cron": cron}, headers=headers)
    assert "cron" in _json_error(resp, 422)["errors"]["json"]
