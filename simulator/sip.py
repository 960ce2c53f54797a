"""A SIP responder on UDP: OPTIONS -> 200 with a configurable Server header, REGISTER -> 401 digest."""
from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from typing import Callable

COPIED = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, NOTIFY, REFER"     # [I]


def parse_request(data: bytes) -> tuple[str, dict[str, list[str]]] | None:
    """(method, headers by lower-case name) of a SIP request; None for responses and junk."""
    text = data.decode("utf-8", "replace")
    # any line break ends a line: a bare CR or LF inside a value must not reach the reply's headers
    lines = re.split(r"\r\n|\r|\n", text)
    parts = lines[0].split()
    if len(parts) != 3 or not parts[2].startswith("SIP/2.0") or parts[0].startswith("SIP/"):
        return None
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return parts[0].upper(), headers


def build_response(method: str, headers: dict[str, list[str]], server_header: str, realm: str) -> str:
    status = {"OPTIONS": "200 OK", "REGISTER": "401 Unauthorized"}.get(method, "501 Not Implemented")
    out = [f"SIP/2.0 {status}"]
    for name, shown in COPIED.items():
        for value in headers.get(name, []):
            if name == "to" and ";tag=" not in value:
                value += f";tag={secrets.token_hex(4)}"
            out.append(f"{shown}: {value}")
    out.append(f"Server: {server_header}")
    if method == "OPTIONS":
        out.append(f"Allow: {ALLOW}")
    if method == "REGISTER":
        out.append(f'WWW-Authenticate: Digest realm="{realm}", nonce="{secrets.token_hex(16)}", algorithm=MD5')
    out.append("Content-Length: 0")
    return "\r\n".join(out) + "\r\n\r\n"


class SipResponder:
    """One UDP socket served by a daemon thread; `server_header` may be changed while running."""

    def __init__(self, address: str, port: int, server_header: str, realm: Callable[[], str],
                 latency_ms: float = 0.0):
        self.server_header, self.realm, self.latency_ms = server_header, realm, latency_ms
        self.requests: list[str] = []          # methods seen, for tests
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(1.0)            # idle wake-ups only as a fallback: shutdown() wakes it at once
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"sip-{address}:{self.port}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            parsed = parse_request(data)
            if parsed is None:
                continue
            method, headers = parsed
            self.requests.append(method)
            if self.latency_ms:
                time.sleep(self.latency_ms / 1000.0)
            if method != "ACK":
                reply = build_response(method, headers, self.server_header, self.realm())
                self.sock.sendto(reply.encode("utf-8"), peer)

    def shutdown(self) -> None:
        self._stop.set()
        try:
            self.sock.sendto(b"", self.sock.getsockname())      # wakes the blocked recvfrom
        except OSError:
            pass
        self.thread.join(timeout=2)
        self.sock.close()
