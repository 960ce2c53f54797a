"""The Allworx VPN's PPTP control channel (TCP 1723): a Start-Control-Connection-Request gets a
well-formed Start-Control-Connection-Reply whose vendor string is "Allworx Server VPN".

Sources: the vendor string is [C] as a fingerprint: Greenbone's PPTP OS identification
(`gb_pptp_os_detection.nasl`, mirror qweasader/gbn, after `pptp_detect.nasl`) lists "Vendor: Allworx
Server VPN" among the vendor strings seen in Start-Control-Connection-Replies (allworx-reference.md
section 8). The message layout is RFC 2637 sections 1.4 and 2.1-2.4. The reply's host name, firmware
revision, framing/bearer capabilities and channel count of a real Allworx server are [U] (made up here).
Nothing past the control handshake is simulated: no calls, no GRE, no authentication.
"""
from __future__ import annotations

import socket
import socketserver
import struct
import threading
from dataclasses import dataclass

VENDOR = "Allworx Server VPN"          # [C] fingerprint (see above)
MAGIC = 0x1A2B3C4D                     # RFC 2637 1.4: every control message carries it
CONTROL_MESSAGE = 1
START_REQUEST, START_REPLY, STOP_REQUEST, STOP_REPLY = 1, 2, 3, 4
# Start-Control-Connection-Request / -Reply, RFC 2637 2.1 / 2.2: Length, PPTP Message Type, Magic Cookie,
# Control Message Type, Reserved0, Protocol Version, then Reserved1 (request) or Result Code + Error
# Code (reply), Framing Capabilities, Bearer Capabilities, Maximum Channels, Firmware Revision,
# Host Name (64 octets), Vendor String (64 octets): 156 octets.
HEADER = struct.Struct("!HHIHH")
START = struct.Struct("!HHIHH" "H" "BB" "II" "HH" "64s64s")
STOP = struct.Struct("!HHIHH" "BBH")      # RFC 2637 2.3 / 2.4: 16 octets
READ_TIMEOUT = 2.0


@dataclass
class SeenRequest:
    source: tuple[str, int]            # who asked (address, port)
    valid: bool                        # a well-formed Start-Control-Connection-Request
    hostname: str = ""
    vendor: str = ""
    stopped: bool = False              # it sent a Stop-Control-Connection-Request afterwards


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1", "replace")


def reply(hostname: str, vendor: str = VENDOR) -> bytes:
    """A Start-Control-Connection-Reply: version 1.0, result 1 (successful channel establishment)."""
    return START.pack(START.size, CONTROL_MESSAGE, MAGIC, START_REPLY, 0, 0x0100, 1, 0,
                      1, 1,               # framing: asynchronous; bearer: analog [U]
                      1, 0x0100,          # maximum channels, firmware revision [U]
                      hostname.encode("latin-1", "replace")[:64], vendor.encode("latin-1", "replace")[:64])


def parse_request(data: bytes) -> tuple[str, str] | None:
    """(host name, vendor) of a Start-Control-Connection-Request, or None when `data` is not one."""
    if len(data) != START.size:
        return None
    length, msg_type, magic, control, _r0, version, *_rest, host, vendor = START.unpack(data)
    if (length, msg_type, magic, control) != (START.size, CONTROL_MESSAGE, MAGIC, START_REQUEST) or version >> 8 != 1:
        return None
    return _text(host), _text(vendor)


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


class _Handler(socketserver.BaseRequestHandler):
    server: "PptpResponder"

    def handle(self) -> None:
        conn = self.request
        conn.settimeout(READ_TIMEOUT)
        try:
            data = _read(conn, START.size)
        except OSError:
            data = b""
        parsed = parse_request(data)
        seen = SeenRequest(tuple(self.client_address[:2]), parsed is not None, *(parsed or ("", "")))
        self.server.record(seen)
        if parsed is None:             # not PPTP: hang up without a word, as a PPTP server does
            return
        try:
            conn.sendall(reply(self.server.hostname, self.server.vendor))
            stop = _read(conn, STOP.size)
        except OSError:
            return
        if len(stop) == STOP.size and HEADER.unpack(stop[:HEADER.size])[3] == STOP_REQUEST:
            seen.stopped = True
            try:
                conn.sendall(STOP.pack(STOP.size, CONTROL_MESSAGE, MAGIC, STOP_REPLY, 0, 1, 0, 0))
            except OSError:
                pass


class PptpResponder(socketserver.ThreadingTCPServer):
    """TCP listener answering the PPTP control handshake; `requests` records every connection."""
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: str, port: int, hostname: str, vendor: str = VENDOR):
        self.hostname, self.vendor = hostname, vendor
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        super().__init__((address, port), _Handler)
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.5},
                                        name=f"pptp-{address}:{self.port}", daemon=True)
        self._thread.start()

    def record(self, seen: SeenRequest) -> None:
        with self._lock:
            self.requests.append(seen)

    def close(self) -> None:
        """Stop serving (a connection wakes the serve loop at once) and close the socket."""
        stopping = threading.Thread(target=self.shutdown, daemon=True)
        stopping.start()
        while stopping.is_alive():
            try:
                socket.create_connection(self.server_address[:2], timeout=0.2).close()
            except OSError:
                pass
            stopping.join(0.05)
        self.server_close()
