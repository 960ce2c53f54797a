"""HTTP plumbing shared by every simulated web UI: HTTP/1.0, `Server: IST OIS`, latency and faults."""
from __future__ import annotations

import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

SERVER_HEADER = "IST OIS"       # [C-3p] nmap lines 8548, 9220, 9221, 10504
GARBAGE = "<html><bo\x00\x1b\x7f dy><<<%%Mx\x01 ?? </t"   # what a 'garbled' fault serves
MAX_BODY = 64 * 1024
# An idle loop wakes this often; stop() pokes it awake at once. A hundred phones polling every 50 ms
# cost the simulator 15% of a core doing nothing, which bench/site_audit.py then charged to the appliance.
IDLE_POLL = 0.5


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    client: str


@dataclass
class Response:
    status: int
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    bare: bool = False           # headers only (Server), no body: nmap's "bare 403"


class WebApp(Protocol):
    latency_ms: float
    fault: str | None

    def handle(self, request: Request) -> Response: ...


def bare_403() -> Response:
    return Response(403, bare=True)


def redirect(location: str, cookie: str | None = None) -> Response:
    headers = [("Location", location)]
    if cookie:
        headers.append(("Set-Cookie", cookie))
    return Response(302, "", headers)


class OisHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: "OisHttpServer"

    def version_string(self) -> str:
        return SERVER_HEADER

    def log_message(self, format: str, *args: object) -> None:   # noqa: A002 (stdlib signature)
        return                                                    # quiet: tests read state, not logs

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        app = self.server.app
        if app.latency_ms:
            time.sleep(app.latency_ms / 1000.0)
        if app.fault == "reset":          # drop the connection without an answer
            self.close_connection = True
            return
        response = app.handle(self._request(method))
        if app.fault == "garbled" and response.status == 200:
            response = Response(200, GARBAGE)
        self._write(response)

    def _request(self, method: str) -> Request:
        parts = urlsplit(self.path)
        form: dict[str, str] = {}
        if method == "POST":
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
        cookies = SimpleCookie()
        cookies.load(self.headers.get("Cookie", ""))
        return Request(method, parts.path, dict(parse_qsl(parts.query)), form,
                       {k: m.value for k, m in cookies.items()}, self.client_address[0])

    def _write(self, response: Response) -> None:
        self.send_response_only(response.status)
        self.send_header("Server", SERVER_HEADER)
        if not response.bare:
            body = response.body.encode("utf-8", "replace")
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        else:
            self.end_headers()


class OisHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: WebApp):
        self.app = app
        super().__init__(address, OisHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn() for a reverse DNS name: for 127.0.0.x that is a
        # query to the host's resolver (traffic off loopback) and, in a lab namespace, a 5 s timeout each
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def serve(address: str, port: int, app: WebApp) -> tuple[OisHttpServer, threading.Thread]:
    """Bind and serve `app` in a daemon thread; returns the server (its port may be ephemeral)."""
    httpd = OisHttpServer((address, port), app)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": IDLE_POLL},
                              name=f"http-{address}:{httpd.server_address[1]}", daemon=True)
    thread.start()
    return httpd, thread


def stop(httpd: OisHttpServer) -> None:
    """Stop a serve loop without waiting out its poll interval (a connection wakes its select), then close."""
    stopping = threading.Thread(target=httpd.shutdown, daemon=True)
    stopping.start()
    while stopping.is_alive():
        try:
            socket.create_connection(httpd.server_address[:2], timeout=0.2).close()
        except OSError:
            pass
        stopping.join(0.05)
    httpd.server_close()
