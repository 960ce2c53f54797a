"""Outside-vantage probes: what the internet sees of a site's WAN address (TCP, SIP over UDP, ICMP).

Every probe is bounded by its timeout and sends one small request. States follow nmap's
meaning: open (answered), closed (actively refused: TCP RST or ICMP port-unreachable),
filtered (silence until the timeout, or an ICMP "prohibited"/"unreachable" from a filter).
Our SIP OPTIONS says User-Agent "allworx-hardening-probe": never "friendly-scanner", which
PBXs and fail2ban rules blacklist on sight.
"""
from __future__ import annotations

import errno
import ipaddress
import re
import secrets
import socket
import subprocess
import time
from typing import Any

USER_AGENT = "allworx-hardening-probe"
_FILTERED_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM}


def _check(host: str, port: int | None, timeout: float) -> str:
    """Validate arguments; return the host's IPv4/IPv6 address (resolving a name once)."""
    if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
        raise ValueError(f"port {port!r} is not in 1..65535")
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        raise ValueError(f"timeout {timeout!r} must be a number of seconds in (0, 60]")
    if not isinstance(host, str) or not host or host.startswith("-"):
        raise ValueError(f"host {host!r} is not an address or host name")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)[0][4][0]
    except socket.gaierror as exc:
        raise ValueError(f"host {host!r} does not resolve: {exc.strerror}") from None


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def _reason(exc: OSError, timeout: float) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    return exc.strerror or type(exc).__name__


def _error_state(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "closed"
    if isinstance(exc, (socket.timeout, TimeoutError)) or exc.errno in _FILTERED_ERRNOS:
        return "filtered"
    return "error"


def tcp_connect(host: str, port: int, timeout: float = 1.0, payload: bytes | None = None,
                banner_wait: float = 0.3) -> dict[str, Any]:
    """Connect to host:port; read a banner (or the reply to `payload`, e.g. an HTTP HEAD)."""
    address = _check(host, port, timeout)
    start = time.perf_counter()
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        return {"state": _error_state(exc), "banner": "", "rtt_ms": None,
                "reason": _reason(exc, timeout)}
    rtt = _ms(start)
    with sock:
        banner = _read_banner(sock, payload, min(banner_wait, timeout))
    return {"state": "open", "banner": banner, "rtt_ms": rtt, "reason": ""}


def _read_banner(sock: socket.socket, payload: bytes | None, wait: float) -> str:
    """What the service says first (or answers to payload) within `wait` seconds, as text."""
    sock.settimeout(wait)
    try:
        if payload:
            sock.sendall(payload)
        return sock.recv(4096).decode("utf-8", "replace").strip()
    except OSError:                     # silent services (HTTP without a request) time out
        return ""


def sip_options(host: str, port: int = 5060, timeout: float = 1.0) -> dict[str, Any]:
    """Send one SIP OPTIONS over UDP from a fresh ephemeral port; report open/closed/filtered."""
    address = _check(host, port, timeout)
    # connect() makes ICMP port-unreachable surface as ECONNREFUSED (closed vs filtered), and a
    # fresh source port avoids a stale conntrack entry still forwarding an old flow
    with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        start = time.perf_counter()
        try:
            sock.connect((address, port))
            call_id = secrets.token_hex(12)
            sock.send(_options_request(address, port, sock.getsockname(), call_id))
            reply = _await_reply(sock, call_id, start + timeout)
        except OSError as exc:
            return {"state": _error_state(exc), "status": "", "server": "", "rtt_ms": None,
                    "reason": _reason(exc, timeout)}
    if reply is None:
        return {"state": "filtered", "status": "", "server": "", "rtt_ms": None,
                "reason": f"no SIP reply within {timeout:g} s"}
    status, headers = reply
    return {"state": "open", "status": status, "rtt_ms": _ms(start), "reason": "",
            "server": headers.get("server") or headers.get("user-agent", "")}


def _options_request(address: str, port: int, local: tuple[Any, ...], call_id: str) -> bytes:
    host = f"[{address}]" if ":" in address else address
    me = f"[{local[0]}]:{local[1]}" if ":" in local[0] else f"{local[0]}:{local[1]}"
    lines = [
        f"OPTIONS sip:{host}:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP {me};branch=z9hG4bK{secrets.token_hex(8)};rport",
        "Max-Forwards: 70",
        f"From: <sip:probe@{me}>;tag={secrets.token_hex(4)}",
        f"To: <sip:{host}:{port}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        f"Contact: <sip:probe@{me}>",
        "Accept: application/sdp",
        f"User-Agent: {USER_AGENT}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _await_reply(sock: socket.socket, call_id: str, deadline: float) -> tuple[str, dict] | None:
    """The first SIP response carrying our Call-ID before the deadline, else None."""
    while (left := deadline - time.perf_counter()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except (socket.timeout, TimeoutError):
            return None
        status, headers = _parse_response(data)
        if status and headers.get("call-id", headers.get("i")) == call_id:
            return status, headers
    return None


def _parse_response(data: bytes) -> tuple[str, dict[str, str]]:
    text = data.decode("utf-8", "replace")
    head, _, _ = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    if not re.match(r"SIP/2\.0 \d{3}", lines[0]):
        return "", {}
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    return lines[0].strip(), headers


def icmp_echo(host: str, timeout: float = 1.0) -> dict[str, Any]:
    """One ICMP echo request (`ping -c1 -W`); answered, or why not (silence vs an ICMP error)."""
    address = _check(host, None, timeout)
    command = ["ping", "-6" if ":" in address else "-4", "-n", "-c1", f"-W{timeout:g}", address]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 2)
    except FileNotFoundError:
        raise RuntimeError("icmp_echo needs 'ping' (Debian package iputils-ping)") from None
    except subprocess.TimeoutExpired:
        return {"answered": False, "rtt_ms": None, "reason": "ping did not finish"}
    match = re.search(r"time[=<]([\d.]+) ms", done.stdout)
    if done.returncode == 0 and match:
        return {"answered": True, "rtt_ms": float(match.group(1)), "reason": ""}
    if "error" in done.stdout or "Unreachable" in done.stdout or "prohibited" in done.stdout:
        return {"answered": False, "rtt_ms": None, "reason": "ICMP error (rejected)"}
    if done.returncode == 1:
        return {"answered": False, "rtt_ms": None, "reason": f"no reply within {timeout:g} s"}
    detail = (done.stderr or done.stdout).strip().splitlines()
    return {"answered": False, "rtt_ms": None,
            "reason": detail[-1] if detail else f"ping exited {done.returncode}"}
