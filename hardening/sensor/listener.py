"""The SIP sensor loop: UDP (and optionally TCP) sockets, one thread, records batched to the event log.

By default it answers nothing, so a scanner learns nothing from it; `reply_200` (off by default)
answers '200 OK' for operators who want scanners to reveal their follow-up requests.
"""
from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from hardening.sensor import signatures
from hardening.sensor.sip import MAX_MESSAGE, SipRequest, ok_reply, parse_request
from hardening.sensor.store import EventLog, RateLimiter

log = logging.getLogger(__name__)
TCP_IDLE_SECONDS = 5.0
MAX_TCP_CONNECTIONS = 32
BATCH_SIZE = 50


@dataclass
class SensorConfig:
    data_dir: Path
    listen: list[tuple[str, int]] = field(default_factory=lambda: [("0.0.0.0", 5060)])
    tcp: bool = False
    reply_200: bool = False
    scanners_only: bool = False        # record only requests matching a scanner signature
    max_file_bytes: int = 5 * 1024 * 1024
    keep_files: int = 3
    rate: float = 1.0                  # records per second per source, after a burst of `burst`
    burst: int = 20
    total_rate: float = 50.0           # all sources together
    flush_interval: float = 0.5


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Sensor:
    """open() binds, serve(stop) runs until the event is set, close() releases everything."""

    def __init__(self, config: SensorConfig, clock: Callable[[], float] = time.monotonic):
        self.config, self.clock = config, clock
        self.log = EventLog(config.data_dir, config.max_file_bytes, config.keep_files)
        self.per_source = RateLimiter(config.rate, config.burst)
        self.total = RateLimiter(config.total_rate, max(config.burst, int(config.total_rate * 2)), 1)
        self.selector = selectors.DefaultSelector()
        self.pending: list[dict[str, Any]] = []
        self.pending_since = 0.0
        self.tcp_conns: dict[socket.socket, tuple[tuple[str, int], bytearray, float]] = {}
        self.bound: list[tuple[str, str, int]] = []

    # ---- sockets ------------------------------------------------------------------------------
    def open(self) -> list[tuple[str, str, int]]:
        """Bind every listen address; returns (proto, host, port) with the real port (0 = any free one)."""
        for host, port in self.config.listen:
            udp = socket.socket(_family(host), socket.SOCK_DGRAM)
            udp.bind((host, port))
            udp.setblocking(False)
            self.selector.register(udp, selectors.EVENT_READ, "udp")
            self.bound.append(("udp", host, udp.getsockname()[1]))
            if self.config.tcp:
                tcp = socket.socket(_family(host), socket.SOCK_STREAM)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((host, port))
                tcp.listen(16)
                tcp.setblocking(False)
                self.selector.register(tcp, selectors.EVENT_READ, "tcp-listen")
                self.bound.append(("tcp", host, tcp.getsockname()[1]))
        return self.bound

    def close(self) -> None:
        self.flush()
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
            key.fileobj.close()
        self.tcp_conns.clear()
        self.selector.close()

    # ---- one request ---------------------------------------------------------------------------
    def record(self, request: SipRequest, source: tuple[str, int], transport: str, size: int) -> dict | None:
        """The event for one request, queued for the log; None when filtered or rate-limited."""
        event = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                 "source": str(source[0]), "source_port": int(source[1]), "transport": transport,
                 "method": request.method, "uri": request.uri, "user_agent": request.header("user-agent"),
                 "from": request.header("from"), "to": request.header("to"),
                 "call_id": request.header("call-id"), "size": size}
        event["scanner"] = signatures.match(event)
        if self.config.scanners_only and event["scanner"] is None:
            return None
        now = self.clock()
        if not self.per_source.allow(event["source"], now) or not self.total.allow("*", now):
            return None
        refused = self.per_source.take_refused(event["source"])
        if refused:
            event["suppressed_before"] = refused      # how many from this source were not written
        if not self.pending:
            self.pending_since = now
        self.pending.append(event)
        return event

    def handle(self, data: bytes, source: tuple[str, int], transport: str = "udp") -> tuple[dict | None, bytes]:
        """Parse and record one message; returns (event, reply bytes or b''). Never raises on bad input."""
        request = parse_request(data)
        if request is None:
            return None, b""
        event = self.record(request, source, transport, len(data))
        reply = ok_reply(request) if self.config.reply_200 and request.method != "ACK" else b""
        return event, reply

    # ---- loop ----------------------------------------------------------------------------------
    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            try:
                self.log.append(batch)
            except OSError as exc:          # a full or read-only disk must not stop the sensor
                log.error("sip sensor: could not write %d event(s): %s", len(batch), exc)

    def _udp(self, sock: socket.socket) -> None:
        try:
            data, addr = sock.recvfrom(MAX_MESSAGE + 1)
        except (BlockingIOError, InterruptedError, ConnectionError):
            return
        _event, reply = self.handle(data, addr[:2], "udp")
        if reply:
            try:
                sock.sendto(reply, addr)
            except OSError:
                pass

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, addr = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionError):
            return
        if len(self.tcp_conns) >= MAX_TCP_CONNECTIONS:
            conn.close()
            return
        conn.setblocking(False)
        self.tcp_conns[conn] = (addr[:2], bytearray(), self.clock())
        self.selector.register(conn, selectors.EVENT_READ, "tcp")

    def _tcp_done(self, conn: socket.socket) -> None:
        addr, buffer, _started = self.tcp_conns.pop(conn)
        self.selector.unregister(conn)
        _event, reply = self.handle(bytes(buffer), addr, "tcp")
        try:
            if reply:
                conn.sendall(reply)
        except OSError:
            pass
        conn.close()

    def _tcp_read(self, conn: socket.socket) -> None:
        try:
            chunk = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        buffer = self.tcp_conns[conn][1]
        buffer += chunk[:MAX_MESSAGE + 1 - len(buffer)]
        if not chunk or b"\r\n\r\n" in buffer or b"\n\n" in buffer or len(buffer) > MAX_MESSAGE:
            self._tcp_done(conn)

    def step(self, timeout: float) -> None:
        """Wait up to `timeout` for traffic, handle it, expire idle TCP peers, flush a due batch."""
        for key, _mask in self.selector.select(timeout):
            kind = key.data
            if kind == "udp":
                self._udp(key.fileobj)
            elif kind == "tcp-listen":
                self._accept(key.fileobj)
            elif key.fileobj in self.tcp_conns:
                self._tcp_read(key.fileobj)
        now = self.clock()
        for conn in [c for c, (_a, _b, started) in self.tcp_conns.items() if now - started > TCP_IDLE_SECONDS]:
            self._tcp_done(conn)
        if self.pending and (len(self.pending) >= BATCH_SIZE or now - self.pending_since >= self.config.flush_interval):
            self.flush()

    def serve(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step(min(0.25, self.config.flush_interval))
        self.flush()
