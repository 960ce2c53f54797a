"""Find Allworx devices on given hosts and propose inventory entries; bounded in concurrency, rate and time."""
from __future__ import annotations

import ipaddress
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from device_drivers.allworx import fingerprint, probes, snmp
from device_drivers.allworx.errors import ChannelError
from device_drivers.allworx.fingerprint import HostFindings

MAX_HOSTS = 4096
DEFAULT_TCP = (8080, 80, 25, 110, 143)       # admin [C], phone web [I], mail [I]


@dataclass
class DiscoveryReport:
    entries: list[dict[str, Any]] = field(default_factory=list)   # proposed inventory entries
    unscanned: list[str] = field(default_factory=list)            # hosts cut short by the time limit
    probes_sent: int = 0
    elapsed_seconds: float = 0.0


class RateLimiter:
    """At most `per_second` starts per second across all workers."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic):
        if per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0, got {per_second}")
        self.interval, self.clock = 1.0 / per_second, clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


def expand_hosts(hosts: Iterable[str] | str, allow_public: bool = False) -> list[str]:
    """Addresses and CIDR blocks -> addresses; only private/loopback unless allow_public."""
    items = [hosts] if isinstance(hosts, str) else list(hosts)
    out: list[str] = []
    for item in items:
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"not an address or CIDR block: {item!r}") from None
        if not allow_public and not (net.is_private or net.is_loopback):
            raise ValueError(f"{item} is not a private or loopback range (pass allow_public=True to scan it)")
        if net.num_addresses > MAX_HOSTS:
            raise ValueError(f"{item} holds {net.num_addresses} addresses; at most {MAX_HOSTS} per discovery")
        out.extend(str(a) for a in (net.hosts() if net.num_addresses > 2 else net))
        if len(out) > MAX_HOSTS:
            raise ValueError(f"more than {MAX_HOSTS} hosts in one discovery")
    return list(dict.fromkeys(out))


def discover(hosts: Iterable[str] | str, tcp_ports: Iterable[int] = DEFAULT_TCP, sip_ports: Iterable[int] = (5060,),
             snmp_ports: Iterable[int] = (161,), *, community: str = "public", concurrency: int = 16,
             rate_per_second: float = 50.0, total_seconds: float = 30.0, timeout: float = 1.0,
             allow_public: bool = False, fingerprints: dict[str, Any] | None = None) -> DiscoveryReport:
    """Probe every host on the given ports (TCP banner/HTTP, SIP OPTIONS, SNMP get) and propose an
    inventory entry for each host that shows an Allworx sign (IST OIS, InSciTek OIS, enterprise 38516,
    OUI 00:0A:DD, a known SIP string)."""
    if not 1 <= concurrency <= 256:
        raise ValueError(f"concurrency must be 1..256, got {concurrency}")
    addresses = expand_hosts(hosts, allow_public)
    data = fingerprint.rules(fingerprints)
    units = [(a, kind, int(p)) for a in addresses for kind, ports in
             (("tcp", tcp_ports), ("sip", sip_ports), ("snmp", snmp_ports)) for p in ports]
    found = {a: HostFindings(a) for a in addresses}
    report, limiter = DiscoveryReport(), RateLimiter(rate_per_second)
    started = time.monotonic()
    deadline, lock = started + total_seconds, threading.Lock()

    def run(unit: tuple[str, str, int]) -> None:
        address, kind, port = unit
        if time.monotonic() >= deadline:
            with lock:
                report.unscanned.append(address)
            return
        limiter.wait()
        result = _probe(address, kind, port, timeout, community)
        with lock:
            report.probes_sent += 1
            _record(found[address], kind, port, result, data)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(run, units))
    report.unscanned = sorted(set(report.unscanned), key=ipaddress.ip_address)
    report.entries = [proposal(f, data) for f in found.values() if f.is_allworx]
    report.elapsed_seconds = round(time.monotonic() - started, 3)
    return report


def _probe(address: str, kind: str, port: int, timeout: float, community: str) -> Any:
    if kind == "tcp":
        return probes.probe_tcp(address, port, timeout)
    if kind == "sip":
        return probes.probe_sip(address, port, timeout)
    try:
        return snmp.read(address, port, community, timeout, retries=0)
    except ChannelError:
        return None


def _record(found: HostFindings, kind: str, port: int, result: Any, data: dict[str, Any]) -> None:
    if kind == "snmp":
        if result is not None:
            fingerprint.classify_snmp(found, result, port, data)
        return
    if result.state != "open":
        return
    if kind == "sip":
        fingerprint.classify_sip(found, result, data)
    elif result.server:
        fingerprint.classify_http(found, result, data)
    elif result.banner:
        fingerprint.classify_banner(found, result, data)


def proposal(found: HostFindings, data: dict[str, Any]) -> dict[str, Any]:
    """An inventory entry for review: kind may be None when only generic Allworx signs were seen."""
    mac = found.mac or fingerprint.arp_mac(found.address)
    if mac and fingerprint.mac_is_allworx(mac, data) and not found.mac:
        found.vote("allworx", f"ARP: {mac} (OUI 00:0A:DD)")
    kind = found.kind()
    wanted = {"allworx_server": ("web_admin", "smtp", "pop3", "imap", "sip")}.get(kind, ("web", "sip"))
    entry = {"kind": kind, "name": f"{kind or 'allworx'}-{found.address.replace('.', '-')}",
             "address": found.address, "model": found.model,
             "ports": {k: v for k, v in found.ports.items() if k in wanted},
             "snmp": {"version": "2c", "port": found.snmp_port} if found.snmp_port else {},
             "mac": mac, "evidence": list(found.evidence),
             "confidence": "high" if sum(found.votes.values()) >= 2 and kind else ("medium" if kind else "low")}
    return entry
