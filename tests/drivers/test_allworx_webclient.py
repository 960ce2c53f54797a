"""The web channel's own HTTP handling: cookies, redirects, hostile answers (a local server on loopback)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from device_drivers.allworx.errors import ChannelError, Garbled
from device_drivers.allworx.web import MAX_BODY, WebClient

LOGIN = {"path": "/login", "password_field": "pw", "cookie": "sid"}


class Device(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    seen: list[tuple[str, str, str]] = []

    def log_message(self, *args):
        return

    def do_GET(self):
        self.seen.append(("GET", self.path, self.headers.get("Cookie", "")))
        routes = {
            "/home": (200, [], "<html><title>Home</title></html>"),
            "/elsewhere": (302, [("Location", "http://127.0.0.99:80/steal")], ""),
            "/loop": (302, [("Location", "/loop")], ""),
            "/relative/start": (302, [("Location", "next")], ""),
            "/relative/next": (200, [], "<title>next</title>"),
            "/huge": (200, [], "x" * (MAX_BODY + 10)),
            "/latin": (200, [("Content-Type", "text/html; charset=iso-8859-1")], "caf\xe9"),
        }
        self._send(*routes.get(self.path.split("?")[0], (404, [], "")))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.seen.append(("POST", self.path, body))
        if body == "pw=right":
            self._send(302, [("Location", "/home"), ("Set-Cookie", "sid=abc123; Path=/")], "")
        else:
            self._send(200, [], "<p>Too many failed attempts: account locked</p>")

    def _send(self, status, headers, body):
        data = body.encode("latin-1" if "charset=iso" in str(headers) else "utf-8")
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def device() -> Iterator[int]:
    Device.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Device)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_login_keeps_the_session_cookie_and_sends_it(device: int):
    client = WebClient("127.0.0.1", device, 2.0)
    assert client.try_login(LOGIN, "right") == "ok"
    # the POST was followed by a GET of the landing page carrying the new session cookie
    assert Device.seen[-1] == ("GET", "/home", "sid=abc123")
    page, _ = client.fetch("/home")
    assert page.title == "Home"


def test_lockout_sign_in_the_answer_is_reported(device: int):
    client = WebClient("127.0.0.1", device, 2.0, lockout_signs=["account locked"])
    assert client.try_login(LOGIN, "wrong") == "locked"
    assert WebClient("127.0.0.1", device, 2.0).try_login(LOGIN, "wrong") == "bad"


def test_redirect_to_another_host_is_refused(device: int):
    with pytest.raises(ChannelError, match=r"redirect to another host \(127.0.0.99:80\) not followed"):
        WebClient("127.0.0.1", device, 2.0).fetch("/elsewhere")
    assert [s[1] for s in Device.seen] == ["/elsewhere"]        # nothing was sent anywhere else


def test_redirect_loop_stops(device: int):
    with pytest.raises(ChannelError, match="more than 5 redirects"):
        WebClient("127.0.0.1", device, 2.0).fetch("/loop")


def test_relative_redirect_resolves_against_the_current_path(device: int):
    page, _ = WebClient("127.0.0.1", device, 2.0).fetch("/relative/start")
    assert page.title == "next"


def test_oversized_answer_is_garbled_not_read_whole(device: int):
    with pytest.raises(Garbled, match="larger than"):
        WebClient("127.0.0.1", device, 2.0).fetch("/huge")


def test_declared_charset_is_honoured(device: int):
    _page, text = WebClient("127.0.0.1", device, 2.0).fetch("/latin")
    assert text == "caf\xe9"


def test_http_errors_name_the_status(device: int):
    with pytest.raises(ChannelError, match="HTTP 404 on /missing"):
        WebClient("127.0.0.1", device, 2.0).fetch("/missing")


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme"):
        WebClient("127.0.0.1", 80, 1.0, scheme="ftp")
