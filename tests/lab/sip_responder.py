"""Stand-in SIP endpoint for the lab PBX: OPTIONS/INVITE get 200, REGISTER 401, others 405.

Usage: sip_responder.py HOST PORT [LOGFILE]. Every request is logged with its source and
User-Agent, so tests can see who probed (our probe must never call itself friendly-scanner).
"""
from __future__ import annotations

import socket
import sys
from typing import TextIO

SERVER = "Allworx Connect 536/8.4.11.3"          # a fake banner in the Allworx format
ECHOED = ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")
STATUS = {"OPTIONS": "200 OK", "INVITE": "200 OK", "REGISTER": "401 Unauthorized"}


def answer(data: bytes, source: tuple[str, int], log: TextIO) -> bytes | None:
    """The response to one datagram, or None when it is not a SIP request."""
    lines = data.decode("utf-8", "replace").split("\r\n")
    if not lines or not lines[0] or lines[0].startswith("SIP/2.0"):
        return None
    method, headers, keep = lines[0].split(" ", 1)[0], {}, []
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
        if name.strip().lower() in ECHOED:
            keep.append(line)
    log.write(f"{source[0]}:{source[1]} {lines[0]!r} UA={headers.get('user-agent')!r}\n")
    out = [f"SIP/2.0 {STATUS.get(method, '405 Method Not Allowed')}", *keep,
           f"Server: {SERVER}", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER"]
    if method == "REGISTER":
        out.append('WWW-Authenticate: Digest realm="allworx", nonce="abc123"')
    return "\r\n".join(out + ["Content-Length: 0", "", ""]).encode()


def main(argv: list[str]) -> None:
    host, port = argv[1], int(argv[2])
    log = open(argv[3], "a", buffering=1) if len(argv) > 3 else sys.stdout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    while True:
        data, source = sock.recvfrom(65535)
        reply = answer(data, source, log)
        if reply:
            sock.sendto(reply, source)


if __name__ == "__main__":
    main(sys.argv)
