"""LAN probes of one device: open ports, greetings (mail), HTTP Server header and title, SIP Server.

The socket work is device_drivers.probe (shared with the outside prober); this module decides
what to ask each port and turns the answers into facts.
"""
from __future__ import annotations

import http.client
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from device_drivers import probe
from device_drivers.facts import Fact

HTTP_PORTS = {80, 443, 8000, 8008, 8080, 8443}       # ask these with GET / at once
TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)
PROBE_THREADS = 64        # one process-wide pool: each probe is short and bounded by its timeout

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass
class PortProbe:
    port: str                 # "tcp/8080", "udp/5060"
    state: str                # open | closed | filtered | error
    banner: str = ""          # greeting line, or "HTTP/1.0 403 Forbidden | Server: IST OIS | title: ..."
    server: str = ""          # HTTP Server header, or SIP Server / User-Agent
    title: str = ""
    status: str = ""          # HTTP or SIP status line
    detail: str = ""


def probe_tcp(address: str, port: int, timeout: float, ask_http: bool | None = None) -> PortProbe:
    """Connect; take a greeting (mail services speak first); if none, or an HTTP port, ask GET /."""
    want_http = port in HTTP_PORTS if ask_http is None else ask_http
    if not want_http:
        seen = probe.tcp_connect(address, port, timeout, banner_wait=min(timeout, 1.0))
        if seen["state"] != "open" or seen["banner"]:
            return _result(f"tcp/{port}", seen, seen["banner"].split("\n")[0].strip())
    return _http(address, port, timeout)


def _http(address: str, port: int, timeout: float) -> PortProbe:
    """GET / and keep the status line, the Server header and the page title."""
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.connect()
    except ConnectionRefusedError:
        return PortProbe(f"tcp/{port}", "closed", detail="connection refused")
    except (TimeoutError, OSError) as exc:
        state = "filtered" if isinstance(exc, TimeoutError) else "error"
        return PortProbe(f"tcp/{port}", state, detail=exc.__class__.__name__)
    try:
        conn.request("GET", "/", headers={"User-Agent": probe.USER_AGENT})
        resp = conn.getresponse()
        body = resp.read(16384).decode("latin-1")
    except (OSError, http.client.HTTPException) as exc:
        return PortProbe(f"tcp/{port}", "open", detail=f"no HTTP answer ({exc.__class__.__name__})")
    finally:
        conn.close()
    status = f"HTTP/{resp.version // 10}.{resp.version % 10} {resp.status} {resp.reason}"
    server = resp.getheader("Server", "")
    match = TITLE.search(body)
    title = match.group(1).strip() if match else ""
    parts = [status, f"Server: {server}" if server else "", f"title: {title}" if title else ""]
    return PortProbe(f"tcp/{port}", "open", banner=" | ".join(p for p in parts if p), server=server,
                     title=title, status=status)


def probe_sip(address: str, port: int, timeout: float) -> PortProbe:
    """One SIP OPTIONS; an answer of any status means a SIP stack listens there."""
    seen = probe.sip_options(address, port, timeout)
    return PortProbe(f"udp/{port}", seen["state"], banner=seen.get("status", ""), server=seen.get("server", ""),
                     status=seen.get("status", ""), detail=seen.get("reason", ""))


def _result(name: str, seen: dict[str, Any], banner: str) -> PortProbe:
    return PortProbe(name, seen["state"], banner=banner if seen["state"] == "open" else "",
                     detail=seen.get("reason", ""))


def probe_all(address: str, targets: list[tuple[str, int]], timeout: float) -> list[PortProbe]:
    """targets: (kind, port) pairs probed in parallel, results in target order. kind: "http" (ask
    GET / at once), "tcp" (wait for a greeting, then try HTTP) or "sip" (OPTIONS over UDP)."""
    def one(target: tuple[str, int]) -> PortProbe:
        kind, port = target
        if kind == "sip":
            return probe_sip(address, port, timeout)
        return probe_tcp(address, port, timeout, ask_http=True if kind == "http" else None)

    return list(_shared_pool().map(one, targets))


def _shared_pool() -> ThreadPoolExecutor:
    """The pool is shared, not made per device: starting threads while a hundred device gathers hold
    the GIL cost more than the probes themselves (measured in bench/site_audit.py)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=PROBE_THREADS, thread_name_prefix="probe")
        return _pool


def to_facts(results: list[PortProbe]) -> dict[str, Fact]:
    """open_ports, banners and sip_server_header, each quoting what the probe saw."""
    opened = [r for r in results if r.state == "open"]
    facts = {"open_ports": Fact(sorted(r.port for r in opened), "observed", "probe",
                                "; ".join(f"{r.port} {r.state}" for r in results))}
    banners = {r.port: r.banner for r in opened if r.banner}
    if banners:
        facts["banners"] = Fact(banners, "observed", "probe", "; ".join(f"{k}: {v}" for k, v in banners.items()))
    sip = next((r for r in opened if r.port.startswith("udp/") and r.server), None)
    if sip:
        facts["sip_server_header"] = Fact(sip.server, "observed", f"probe:{sip.port}",
                                          f"{sip.status} Server: {sip.server}")
    return facts
