"""Raw wire helpers for the simulator tests: exact bytes, no client library in between."""
from __future__ import annotations

import socket
from urllib.parse import urlencode


def http(address: str, port: int, path: str = "/", method: str = "GET", form: dict | None = None,
         cookie: str = "") -> bytes:
    body = urlencode(form or {}).encode()
    head = f"{method} {path} HTTP/1.0\r\nHost: {address}\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    if method == "POST":
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    with socket.create_connection((address, port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def cookie_of(reply: bytes) -> str:
    for line in reply.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"set-cookie:"):
            return line.split(b":", 1)[1].split(b";")[0].strip().decode()
    return ""


def greeting(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as sock:
        return sock.makefile("rb").readline().decode().rstrip("\r\n")


def sip(address: str, port: int, method: str) -> str:
    msg = (f"{method} sip:{address}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKtest1\r\n"
           f"From: <sip:t@127.0.0.1>;tag=abc\r\nTo: <sip:{address}>\r\nCall-ID: test-call-1\r\n"
           f"CSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(msg.encode(), (address, port))
        return sock.recv(65535).decode()
