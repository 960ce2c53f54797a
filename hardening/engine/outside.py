"""The outside vantage point: the same software in the `probe` role, asked over HTTPS with a token.

The probe checks the target against its own allow-list before sending anything (it must never become
a general-purpose scanner), and bounds the number of probes and every timeout. An audit asks it about
the site's WAN address (AuditProbe); a probe that cannot be asked, or leaves a port unanswered, gives
an explicit error record (hardening.model.probes.failure), never a silent "closed".
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable

import requests

from device_drivers import probe
from device_drivers.inventory import DeviceSpec
from firewall.site_context import port_ranges
from hardening.model.site import SiteInfo

MAX_CHECKS = 64
# (policy key, protocols, default) of the ports the outside-facing checks judge: admin ports (AWX-SRV-007)
# first, so a long policy list can never push them past MAX_CHECKS; then what AWX-SRV-003 would find
# answering on the WAN (SIP, BLF, mail, the phones' and Px Expanders' web UIs).
AUDIT_PORTS = (("admin_ports", ("tcp",), [8080]), ("sip_ports", ("udp", "tcp"), [[5060, 5061]]),
               ("blf_ports", ("udp",), [[2088, 2088]]), ("mail_ports", ("tcp",), [25, 110, 143, 465, 587, 993, 995]),
               ("phone_web_ports", ("tcp",), [80, 443]), ("px_web_ports", ("tcp",), [80, 443]))
SERVER_PORTS = {"web_admin": "tcp", "smtp": "tcp", "pop3": "tcp", "imap": "tcp", "sip": "udp"}


@dataclass(frozen=True)
class ProbeEndpoint:
    """Where the outside probe listens and how the appliance authenticates to it (app config
    OUTSIDE_PROBE_URL, OUTSIDE_PROBE_TOKEN, OUTSIDE_PROBE_CA)."""
    url: str                                   # https://probe.example.net:8443
    token: str = field(repr=False)             # a token of the probe's own database (a secret)
    ca: str | bool = True                      # CA/cert file pinning its TLS certificate; True: system CAs


class ProbeRefused(ValueError):
    pass


def allowed_target(target: str, allowed: list[str]) -> str:
    addr = ipaddress.ip_address(target)
    if not any(addr in ipaddress.ip_network(net) for net in allowed):
        raise ProbeRefused(f"{target} is not in this probe's allowed targets")
    return str(addr)


def run_probes(target: str, checks: list[dict[str, Any]], icmp: bool, timeout: float) -> dict[str, Any]:
    """Probe one address: TCP connect, SIP OPTIONS over connected UDP, ICMP echo; keyed 'tcp/8080'."""
    out: dict[str, Any] = {}
    for check in checks[:MAX_CHECKS]:
        key = f"{check['proto']}/{check['port']}"
        if check["proto"] == "tcp":
            out[key] = probe.tcp_connect(target, check["port"], timeout=timeout)
        else:
            out[key] = probe.sip_options(target, check["port"], timeout=timeout)
    if icmp:
        out["icmp"] = probe.icmp_echo(target, timeout=timeout)
    return out


def ask(url: str, token: str, ca: str | bool, target: str, checks: list[dict], icmp: bool = True) -> dict[str, Any]:
    """The appliance's call to the outside probe (certificate checked against `ca`)."""
    resp = requests.post(f"{url.rstrip('/')}/api/v1/probe", json={"target": target, "checks": checks, "icmp": icmp},
                         headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=30)
    resp.raise_for_status()
    return resp.json()["results"]


def audit_target(site: SiteInfo, servers: Iterable[DeviceSpec]) -> str | None:
    """The WAN address an audit asks about: a server's WAN address the site declares, else the site's
    first WAN address; None when the site declares none (nothing is asked)."""
    if not site.wan_addresses:
        return None
    declared = [s.wan_address for s in servers if s.wan_address in site.wan_addresses]
    return declared[0] if declared else site.wan_addresses[0]


def audit_checks(policy: Any, servers: Iterable[DeviceSpec]) -> list[dict[str, Any]]:
    """The {"proto", "port"} probes of an audit, in AUDIT_PORTS order then the servers' own service
    ports (a moved mail or admin port), without duplicates, at most MAX_CHECKS."""
    checks: list[dict[str, Any]] = []

    def add(proto: str, port: int) -> None:
        if len(checks) < MAX_CHECKS and {"proto": proto, "port": port} not in checks:
            checks.append({"proto": proto, "port": port})
    for key, protos, default in AUDIT_PORTS:
        for rng in port_ranges(policy.get(key, default)):
            for port in range(rng.lo, min(rng.hi, rng.lo + MAX_CHECKS) + 1):
                for proto in protos:
                    add(proto, port)
    for server in servers:
        for service, proto in SERVER_PORTS.items():
            if service in server.ports:
                add(proto, int(server.ports[service]))
    return checks


@dataclass(frozen=True)
class AuditProbe:
    """One audit's question to the outside probe: the target, the ports (AUDIT_PORTS) and ICMP."""
    endpoint: ProbeEndpoint
    target: str
    checks: list[dict[str, Any]]
    icmp: bool = True

    @classmethod
    def for_site(cls, endpoint: ProbeEndpoint | None, site: SiteInfo, devices: Iterable[DeviceSpec],
                 policy: Any) -> "AuditProbe | None":
        """The question, or None when no probe is configured or the site declares no WAN address."""
        servers = [d for d in devices if d.kind == "allworx_server"]
        target = audit_target(site, servers)
        if endpoint is None or target is None:
            return None
        return cls(endpoint, target, audit_checks(policy, servers))

    @property
    def keys(self) -> list[str]:
        return [f"{c['proto']}/{c['port']}" for c in self.checks] + (["icmp"] if self.icmp else [])

    def failed(self, why: str) -> dict[str, Any]:
        """Every key asked as undecided ({"state": "error", "reason"}), and "error": why beside them."""
        return {"error": why, **{key: {"state": "error", "reason": why} for key in self.keys}}

    def run(self) -> dict[str, Any]:
        """The probe's answers keyed "tcp/8080", "udp/5060", "icmp", one per key asked. Whatever goes wrong
        gives error records (undecided: hardening.model.probes.failure), never a silent "closed": every
        key when the probe cannot be asked or answers nonsense, the keys it left unanswered otherwise."""
        try:
            results = ask(self.endpoint.url, self.endpoint.token, self.endpoint.ca, self.target, self.checks,
                          self.icmp)
            if not isinstance(results, dict):
                raise ValueError(f"it answered {type(results).__name__}, not results by port")
        except Exception as exc:           # the probe being down is reported, never a silent "closed"
            return self.failed(f"outside probe failed: {type(exc).__name__}: {exc}"[:300])
        unanswered = {"state": "error", "reason": "the outside probe gave no answer about it"}
        return {key: results.get(key, unanswered) for key in self.keys}
