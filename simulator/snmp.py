"""The server's SNMP agent: snmpsim serving the real Connect 731 walk, rewritten for the preset."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"
WALK = DATA / "connect731.snmprec"       # real walk [C] (see connect731.source.md)
LAUNCHER = Path(__file__).parent / "snmp_launcher.py"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
APPL_VERSION = "1.3.6.1.2.1.27.1.1.4.1"
READY_TEXT = "Listening at UDP/IPv4 endpoint"


class SnmpAgentError(RuntimeError):
    """snmpsim did not come up."""


def walk_for(software_version: str, model: str, latency_ms: float = 0.0) -> str:
    """The real walk with this preset's version (and model) in it; latency via snmpsim's delay module."""
    out = []
    for line in WALK.read_text(encoding="utf-8").splitlines():
        oid, tag, value = line.split("|", 2)
        if oid == APPL_VERSION:
            value = software_version
        elif oid == SYS_DESCR:
            value = model                 # [I] only when a preset names another model than the walk
            if latency_ms:                # one injected delay per request that reads sysDescr
                tag, value = f"{tag}:delay", f"value={value},wait={latency_ms:g}"
        out.append(f"{oid}|{tag}|{value}")
    return "\n".join(out) + "\n"


def _tlv(tag: int, body: bytes) -> bytes:
    if len(body) > 127:
        raise ValueError("short-form BER only")
    return bytes([tag, len(body)]) + body


def get_request(community: str, oid: str) -> bytes:
    """A minimal SNMPv2c GetRequest (BER by hand, so the simulator needs no SNMP library)."""
    arcs = [int(a) for a in oid.split(".")]
    encoded = bytes([40 * arcs[0] + arcs[1]]) + bytes(a for a in arcs[2:] if a < 128)
    if len(encoded) != len(arcs) - 1:
        raise ValueError(f"OID {oid} has an arc >= 128; not needed here")
    varbind = _tlv(0x30, _tlv(0x06, encoded) + b"\x05\x00")
    pdu = _tlv(0xA0, _tlv(0x02, b"\x01") + _tlv(0x02, b"\x00") + _tlv(0x02, b"\x00") + _tlv(0x30, varbind))
    return _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x04, community.encode()) + pdu)


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


class SnmpAgent:
    """One snmpsim process on address:port serving `walk` to `community`."""

    def __init__(self, address: str, port: int, community: str, walk: str):
        self.address, self.port, self.community, self.walk = address, port, community, walk
        self.proc: subprocess.Popen | None = None
        self.workdir = ""

    def start(self, timeout: float = 15.0) -> None:
        self.workdir = tempfile.mkdtemp(prefix="awx-snmpsim-")
        data, cache = Path(self.workdir, "data"), Path(self.workdir, "cache")
        data.mkdir()
        cache.mkdir()
        (data / f"{self.community}.snmprec").write_text(self.walk, encoding="utf-8")
        # snmpsim drops to nobody when run as root: it must read the data and write its index
        for path, mode in ((self.workdir, 0o755), (data, 0o755), (data / f"{self.community}.snmprec", 0o644),
                           (cache, 0o777)):
            os.chmod(path, mode)
        for _attempt in range(3):
            port = self.port or free_udp_port(self.address)
            if self._launch(port, data, cache, timeout) and self._warm_up(port, timeout):
                self.port = port
                return
        self.stop()
        raise SnmpAgentError(f"snmpsim did not start on {self.address}: {self.log_tail()}")

    def _launch(self, port: int, data: Path, cache: Path, timeout: float) -> bool:
        args = [sys.executable, str(LAUNCHER), f"--data-dir={data}", f"--cache-dir={cache}",
                f"--agent-udpv4-endpoint={self.address}:{port}", "--log-level=info"]
        if os.geteuid() == 0:
            args += ["--process-user=nobody", "--process-group=nogroup"]
        with open(Path(self.workdir, "snmpsim.log"), "w", encoding="utf-8") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_TEXT in self.log_tail(4000):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        self._terminate()
        return False

    def _warm_up(self, port: int, timeout: float) -> bool:
        """GET sysDescr until it answers: snmpsim drops its first request while it loads MIBs
        (about a second); pay that at start, not inside a measured audit."""
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.3)
            while time.monotonic() < deadline and self.proc and self.proc.poll() is None:
                try:
                    sock.sendto(get_request(self.community, SYS_DESCR), (self.address, port))
                    if sock.recv(4096):
                        return True
                except OSError:
                    continue
        self._terminate()
        return False

    def log_tail(self, size: int = 800) -> str:
        try:
            return Path(self.workdir, "snmpsim.log").read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""

    def _terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=3)

    def stop(self) -> None:
        self._terminate()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
