"""The outside vantage point: the same software in the `probe` role, asked over HTTPS with a token.

The probe checks the target against its own allow-list before sending anything (it must never become
a general-purpose scanner), and bounds the number of probes and every timeout. An audit asks it about
the site's WAN address (AuditProbe); a probe that cannot be asked, or leaves a port unanswered, gives
an explicit error record (hardening.model.probes.failure), never a silent "closed". Besides TCP/UDP
ports it asks a PPTP handshake (NET-VPN-001) and GETs the admin UI's password-recovery page (AWX-SRV-009).
"""
from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable

import requests

from device_drivers import probe
from device_drivers.inventory import DeviceSpec
from firewall.site_context import port_ranges
from hardening.model.site import SiteInfo

MAX_CHECKS = 64
MAX_HTTP_GETS = 8          # http_get probes in one request (each reads at most probe.HTTP_MAX_BYTES)
# Probe kinds: "connect" (TCP connect / SIP OPTIONS over UDP, keyed "tcp/8080"), "pptp" (a PPTP
# Start-Control-Connection-Request, keyed "pptp/1723"), "http_get" (one GET of a path, keyed
# "http_get/8080/lostPass.asp"; it returns which marker phrases the page shows, never the page).
KINDS = ("connect", "pptp", "http_get")
HTTP_PATH_PATTERN, MAX_MARKERS, MAX_MARKER_CHARS = probe.HTTP_PATH.pattern, probe.MAX_MARKERS, probe.MAX_MARKER_CHARS
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


def probe_key(check: dict[str, Any]) -> str:
    """Where a probe's answer is filed: 'tcp/8080', 'udp/5060', 'pptp/1723', 'http_get/8080/lostPass.asp'."""
    kind = check.get("kind") or "connect"
    if kind == "pptp":
        return f"pptp/{check['port']}"
    if kind == "http_get":
        return f"http_get/{check['port']}{check.get('path') or '/'}"
    return f"{check['proto']}/{check['port']}"


def check_kinds(checks: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """What is wrong with the probe kinds asked, by check index and field ({} when nothing): pptp and
    http_get are TCP, http_get needs a path (probe.check_http_get) and at most MAX_HTTP_GETS are asked,
    path/markers/tls belong to http_get only."""
    errors: dict[int, dict[str, str]] = {}
    gets = 0
    for index, check in enumerate(checks):
        kind = check.get("kind") or "connect"
        wrong: dict[str, str] = {}
        if kind in ("pptp", "http_get") and check.get("proto") != "tcp":
            wrong["proto"] = f"a {kind} probe runs over tcp"
        if kind == "http_get":
            gets += 1
            if gets > MAX_HTTP_GETS:
                wrong["kind"] = f"at most {MAX_HTTP_GETS} http_get probes in one request"
            try:
                probe.check_http_get(check.get("path"), check.get("markers") or [])
            except ValueError as exc:
                wrong["markers" if str(exc).startswith("markers") else "path"] = str(exc)
        else:
            wrong.update({name: f"only an http_get probe takes {name}" for name in ("path", "markers", "tls")
                          if check.get(name) not in (None, [], False)})
        if wrong:
            errors[index] = wrong
    return errors


def run_probes(target: str, checks: list[dict[str, Any]], icmp: bool, timeout: float) -> dict[str, Any]:
    """Probe one address: TCP connect, SIP OPTIONS over connected UDP, a PPTP control handshake, one HTTP
    GET (at most MAX_HTTP_GETS), ICMP echo; keyed by probe_key ('tcp/8080', 'pptp/1723', ...)."""
    out: dict[str, Any] = {}
    gets = 0
    for check in checks[:MAX_CHECKS]:
        key, kind = probe_key(check), check.get("kind") or "connect"
        if kind == "pptp":
            out[key] = probe.pptp_start_control(target, check["port"], timeout=timeout)
        elif kind == "http_get":
            gets += 1
            out[key] = probe.http_get(target, check["port"], check["path"], timeout=timeout,
                                      markers=check.get("markers") or (), tls=bool(check.get("tls"))) \
                if gets <= MAX_HTTP_GETS else {"state": "error", "reason": f"over {MAX_HTTP_GETS} http_get probes"}
        elif check["proto"] == "tcp":
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
        if key == "admin_ports":        # the password-recovery page (AWX-SRV-009) right after them
            checks.extend(c for c in recovery_page_checks(policy, servers) if len(checks) < MAX_CHECKS)
    for rng in port_ranges((policy.get("pptp") or {}).get("ports", [1723])):     # NET-VPN-001
        for port in range(rng.lo, min(rng.hi, rng.lo + MAX_CHECKS) + 1):
            if len(checks) < MAX_CHECKS and {"proto": "tcp", "port": port, "kind": "pptp"} not in checks:
                checks.append({"proto": "tcp", "port": port, "kind": "pptp"})
    for server in servers:
        for service, proto in SERVER_PORTS.items():
            if service in server.ports:
                add(proto, int(server.ports[service]))
    return checks


def recovery_page_checks(policy: Any, servers: Iterable[DeviceSpec]) -> list[dict[str, Any]]:
    """http_get probes of the password-recovery page (policy lost_password_page) on the admin ports and
    the servers' own web admin ports, at most MAX_HTTP_GETS: a GET only, never a POST."""
    page = policy.get("lost_password_page") or {}
    admin = (p for rng in port_ranges(policy.get("admin_ports", [8080])) for p in range(rng.lo, rng.hi + 1))
    ports = list(itertools.islice(admin, MAX_HTTP_GETS))
    ports += [int(s.ports["web_admin"]) for s in servers if "web_admin" in s.ports]
    tls = port_ranges(page.get("tls_ports", []))
    found: list[dict[str, Any]] = []
    for port in dict.fromkeys(ports):
        for path in page.get("paths", []):
            found.append({"proto": "tcp", "port": port, "kind": "http_get", "path": path,
                          "markers": list(page.get("markers", [])), "tls": any(port in r for r in tls)})
    return found[:MAX_HTTP_GETS]


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
        return [probe_key(c) for c in self.checks] + (["icmp"] if self.icmp else [])

    def failed(self, why: str) -> dict[str, Any]:
        """Every key asked as undecided ({"state": "error", "reason"}), and "error": why beside them."""
        return {"error": why, **{key: {"state": "error", "reason": why} for key in self.keys}}

    def run(self) -> dict[str, Any]:
        """The probe's answers keyed "tcp/8080", "udp/5060", "icmp", one per key asked. Whatever goes wrong
        gives error records (undecided: hardening.model.probes.failure), never a silent "closed": every
        key when the probe cannot be asked or answers nonsense, the keys it left unanswered otherwise."""
        unanswered = {"state": "error", "reason": "the outside probe gave no answer about it"}
        try:
            try:
                results = self._ask(self.checks)
            except requests.HTTPError as exc:      # a probe of an older release refuses the new kinds (422):
                plain = [c for c in self.checks if (c.get("kind") or "connect") == "connect"]
                if exc.response is None or exc.response.status_code != 422 or len(plain) == len(self.checks):
                    raise
                results = self._ask(plain)          # ask again without them; they stay unanswered (errors)
                unanswered = {"state": "error", "reason": "the outside probe refused the pptp/http_get probe "
                              "kinds (HTTP 422: an older probe release?)"}
        except Exception as exc:           # the probe being down is reported, never a silent "closed"
            return self.failed(f"outside probe failed: {type(exc).__name__}: {exc}"[:300])
        return {key: results.get(key, unanswered) for key in self.keys}

    def _ask(self, checks: list[dict[str, Any]]) -> dict[str, Any]:
        results = ask(self.endpoint.url, self.endpoint.token, self.endpoint.ca, self.target, checks, self.icmp)
        if not isinstance(results, dict):
            raise ValueError(f"it answered {type(results).__name__}, not results by port")
        return results
