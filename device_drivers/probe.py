"""Outside-vantage probes: what the internet sees of a site's WAN address (TCP, SIP over UDP, ICMP, a PPTP
Start-Control-Connection-Request, one HTTP GET).

Every probe is bounded by its timeout and sends one small request (the HTTP GET reads at most
HTTP_MAX_BYTES and reports which marker phrases the page shows, never the page itself). States follow nmap's
meaning: open (answered), closed (actively refused: TCP RST or ICMP port-unreachable),
filtered (silence until the timeout, or an ICMP "prohibited"/"unreachable" from a filter).
Our SIP OPTIONS says User-Agent "allworx-hardening-probe": never "friendly-scanner", which
PBXs and fail2ban rules blacklist on sight.
"""
from __future__ import annotations

import errno
import html
import ipaddress
import re
import secrets
import socket
import ssl
import struct
import subprocess
import time
from typing import Any, Iterable

USER_AGENT = "allworx-hardening-probe"
_FILTERED_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM}
HTTP_MAX_BYTES = 64 * 1024            # what one http_get reads at most (headers and body)
HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,199}$")     # no query, no spaces, no CR/LF
MAX_MARKERS, MAX_MARKER_CHARS = 8, 64


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


# --- PPTP (RFC 2637): one Start-Control-Connection-Request, the reply's fields -------------------

PPTP_MAGIC = 0x1A2B3C4D
_SCC = struct.Struct("!HHIHH" "HHIIHH64s64s")      # header (12 bytes) + Start-Control-Connection body: 156
_STOP = struct.Struct("!HHIHH" "BBH")              # Stop-Control-Connection-Request: 16 bytes
_SCCRQ, _SCCRP, _STOPCCRQ = 1, 2, 3
PPTP_RESULTS = {1: "success", 2: "general error", 3: "command channel already exists",
                4: "requester not authorized", 5: "protocol version not supported"}


def _printable(raw: bytes) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "?", raw.split(b"\x00", 1)[0].decode("latin-1")).strip()


def pptp_reply(data: bytes) -> dict[str, Any] | None:
    """The fields of a Start-Control-Connection-Reply (RFC 2637 section 2.2), or None if `data` is not one."""
    if len(data) < _SCC.size:
        return None
    (length, msg_type, magic, control, _r0, version, result_and_error, framing, bearer, channels, firmware,
     host, vendor) = _SCC.unpack(data[:_SCC.size])
    if (length, msg_type, magic, control) != (_SCC.size, 1, PPTP_MAGIC, _SCCRP):
        return None
    result, error = result_and_error >> 8, result_and_error & 0xFF
    return {"protocol_version": f"{version >> 8}.{version & 0xFF}", "result_code": result,
            "result": PPTP_RESULTS.get(result, "unknown"), "error_code": error, "framing": framing,
            "bearer": bearer, "max_channels": channels, "firmware": firmware, "hostname": _printable(host),
            "vendor": _printable(vendor)}


def pptp_request() -> bytes:
    """Our Start-Control-Connection-Request: protocol 1.0, asynchronous framing, analog bearer, and
    USER_AGENT as host name and vendor (so the far end's log says who asked)."""
    name = USER_AGENT.encode()
    return _SCC.pack(_SCC.size, 1, PPTP_MAGIC, _SCCRQ, 0, 0x0100, 0, 1, 1, 0, 0, name, name)


def pptp_start_control(host: str, port: int = 1723, timeout: float = 1.0) -> dict[str, Any]:
    """Connect, send one Start-Control-Connection-Request, read the reply (its vendor string names the
    server: "Allworx Server VPN"), then stop the control connection and close. Never opens a call or GRE.
    "pptp": True (a reply), False (an answer that is not PPTP), None (silence: cannot tell)."""
    address = _check(host, port, timeout)
    start = time.perf_counter()
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        return {"state": _error_state(exc), "pptp": None, "rtt_ms": None, "reason": _reason(exc, timeout)}
    rtt = _ms(start)
    with sock:
        try:
            sock.sendall(pptp_request())
            data = _read_until(sock, _SCC.size, start + timeout)
            if len(data) >= _SCC.size:
                sock.sendall(_STOP.pack(_STOP.size, 1, PPTP_MAGIC, _STOPCCRQ, 0, 1, 0, 0))
        except OSError as exc:
            return {"state": "open", "pptp": None, "rtt_ms": rtt, "reason": f"no PPTP reply: {_reason(exc, timeout)}"}
    fields = pptp_reply(data)
    if fields is not None:
        return {"state": "open", "pptp": True, "rtt_ms": rtt, "reason": "", **fields}
    if not data:
        return {"state": "open", "pptp": None, "rtt_ms": rtt, "reason": f"no PPTP reply within {timeout:g} s"}
    return {"state": "open", "pptp": False, "rtt_ms": rtt, "reason": f"answered {len(data)} byte(s) that are "
            "not a PPTP Start-Control-Connection-Reply"}


def _read_until(sock: socket.socket, wanted: int, deadline: float) -> bytes:
    """Up to `wanted` bytes, until the peer closes or the deadline passes."""
    data = b""
    while len(data) < wanted and (left := deadline - time.perf_counter()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(wanted - len(data))
        except (socket.timeout, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


# --- one bounded HTTP GET: status, Server header, which marker phrases the page shows -------------

def check_http_get(path: Any, markers: Any) -> tuple[str, list[str]]:
    """Validated (path, markers) of an http_get; ValueError naming the field otherwise."""
    if not isinstance(path, str) or not HTTP_PATH.fullmatch(path):
        raise ValueError(f"path {str(path)[:80]!r} must be an absolute path of at most 200 characters without "
                         "query, spaces or control characters")
    if not isinstance(markers, (list, tuple)) or len(markers) > MAX_MARKERS or not all(
            isinstance(m, str) and 0 < len(m.strip()) <= MAX_MARKER_CHARS and m.isprintable() for m in markers):
        raise ValueError(f"markers must be at most {MAX_MARKERS} printable phrases of 1..{MAX_MARKER_CHARS} "
                         "characters")
    return path, [m.strip() for m in markers]


def _page_text(body: bytes) -> str:
    """The page as lower-case words: tags dropped, entities (&nbsp;) decoded, whitespace collapsed."""
    text = html.unescape(re.sub(r"<[^>]*>", " ", body.decode("latin-1")))
    return " ".join(text.replace("\xa0", " ").split()).lower()


def http_get(host: str, port: int, path: str = "/", timeout: float = 1.0, markers: Iterable[str] = (),
             tls: bool = False) -> dict[str, Any]:
    """GET `path` (HTTP/1.0, never any other method, no redirects followed); read at most HTTP_MAX_BYTES
    within `timeout` after connecting. Returns the status, the Server header and which `markers` the page
    shows ("markers_found"), never the page's text (a recovery form shows values that must not travel)."""
    address = _check(host, port, timeout)
    path, wanted = check_http_get(path, list(markers))
    start = time.perf_counter()
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        return {"state": _error_state(exc), "status": None, "server": "", "markers_found": [], "rtt_ms": None,
                "reason": _reason(exc, timeout)}
    rtt = _ms(start)
    host_header = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    request = (f"GET {path} HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
               "Accept: text/html\r\nConnection: close\r\n\r\n").encode("ascii")
    try:
        if tls:             # whether the admin UI speaks TLS is unknown: look, do not verify who it is
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            sock = context.wrap_socket(sock)          # closes the socket itself when the handshake fails
        with sock:
            sock.sendall(request)
            data = _read_until(sock, HTTP_MAX_BYTES, time.perf_counter() + timeout)
    except OSError as exc:
        return {"state": "open", "status": None, "server": "", "markers_found": [], "rtt_ms": rtt,
                "reason": f"no HTTP answer: {_reason(exc, timeout)}"}
    return {"state": "open", "rtt_ms": rtt, **_http_answer(data, wanted)}


def _http_answer(data: bytes, wanted: list[str]) -> dict[str, Any]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"HTTP/\d\.\d (\d{3})(?: .*)?", lines[0].strip())
    if match is None:
        said = "nothing" if not data else f"{len(data)} byte(s) that are not an HTTP response"
        return {"status": None, "server": "", "markers_found": [], "reason": f"no HTTP answer: it sent {said}"}
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), _printable(value.encode("latin-1"))[:120])
    text = _page_text(body)
    return {"status": int(match.group(1)), "server": headers.get("server", ""),
            "location": headers.get("location", ""), "bytes": len(body), "truncated": len(data) >= HTTP_MAX_BYTES,
            "markers_found": [m for m in wanted if " ".join(m.lower().split()) in text], "reason": ""}
