"""How bad an internet-facing forward is by the service it reaches: policy `exposed_services` (NET-EXP-001).

The table (hardening/data/policy.yaml) maps a service name to a severity and its ports ("proto/ports" in
the grammar of hardening.model.services). A forward is rated by the worst service it reaches on its
external or internal side (external 65001 -> internal 3389 is RDP); a forward of every port (DMZ, 1:1 NAT,
no port given) reaches them all; one reaching none is `default_severity`. A forward limited to named
outside networks is still an exposure, rated `restricted_lowers_by` steps lower (never below low); a
restriction to named lists ("sip-peers") cannot be shown to be narrower than "any" and is not lowered.
Which forwards are rated at all (not disabled, LAN-bound, allow-listed or another check's) is
hardening.model.exposure.forward_exposure's answer.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from firewall.exposure import is_forward_all, ports_text
from firewall.model import PortForward, PortRange, RouterConfig
from hardening.model.policy import Policy
from hardening.model.services import parse_declaration

SEVERITIES = ("low", "medium", "high", "critical")          # ascending; NET-EXP-001's catalog severity is the top
__all__ = ["SEVERITIES", "ExposedService", "ExposurePolicy", "Exposure", "forward_text", "own_addresses",
           "provable_restriction", "rate"]


@dataclass(frozen=True)
class ExposedService:
    """One row of policy `exposed_services.services`: a service name, its severity and its ports."""
    name: str
    severity: str
    ports: tuple[tuple[str, PortRange], ...]                 # (tcp | udp, range)


@dataclass(frozen=True)
class ExposurePolicy:
    """Policy `exposed_services`, read once; a malformed value is replaced or skipped with a note, never raises."""
    services: tuple[ExposedService, ...] = ()
    default: str = "medium"
    restricted_lowers_by: int = 1
    notes: tuple[str, ...] = ()
    rows: tuple[tuple[str, int, int, ExposedService, str], ...] = ()    # (proto, lo, hi, service, "tcp/3389")

    @classmethod
    def from_policy(cls, policy: Any) -> ExposurePolicy:
        table = (Policy() if policy is None else policy).get("exposed_services") or {}
        table = table if isinstance(table, dict) else {}
        notes: list[str] = []
        default = table.get("default_severity", "medium")
        if default not in SEVERITIES:
            notes.append(f"policy exposed_services.default_severity {default!r} is not one of "
                         f"{', '.join(SEVERITIES)}: medium is used")
            default = "medium"
        lowers = table.get("restricted_lowers_by", 1)
        if not isinstance(lowers, int) or isinstance(lowers, bool) or lowers < 0:
            notes.append(f"policy exposed_services.restricted_lowers_by {lowers!r} is not a count: 1 is used")
            lowers = 1
        rows = table.get("services") or {}
        services = []
        for name, row in (rows.items() if isinstance(rows, dict) else ()):
            row = row if isinstance(row, dict) else {}
            specs = row.get("ports")
            parsed = [parse_declaration(spec) for spec in specs] if isinstance(specs, list) and specs else [None]
            if row.get("severity") not in SEVERITIES or any(p is None for p in parsed):
                notes.append(f"policy exposed_services.services.{name} is not {{severity: one of "
                             f"{', '.join(SEVERITIES)}, ports: [proto/ports, ...]}}: skipped, its forwards count as "
                             f"{default}")
                continue
            services.append(ExposedService(str(name), row["severity"], tuple(x for p in parsed if p for x in p)))
        rows = tuple((proto, rng.lo, rng.hi, svc, f"{proto}/{rng}") for svc in services for proto, rng in svc.ports)
        return cls(tuple(services), default, lowers, tuple(notes), rows)


@dataclass(frozen=True)
class Exposure:
    """NET-EXP-001 on one forward: "fail" with its severity and the services it reaches, or "note"."""
    status: str
    reason: str
    severity: str | None = None
    services: tuple[str, ...] = ()


def forward_text(fwd: PortForward) -> str:
    """'dnat tcp 65001 -> 192.168.1.231 (3389)': the rule in one line, with its comment or name."""
    into = "same ports" if fwd.internal_ports is None else ports_text(fwd.internal_ports)
    text = f"{fwd.kind} {fwd.proto} {ports_text(fwd.external_ports)} -> {fwd.internal_ip} ({into})"
    return text + (f" {fwd.comment!r}" if fwd.comment else "")


def provable_restriction(fwd: PortForward) -> list[str] | None:
    """The restriction when every entry is an address or network narrower than "any"; None otherwise
    (a named list or a negation limits nothing that can be shown)."""
    try:
        nets = [ipaddress.ip_network(entry, strict=False) for entry in fwd.source_restriction or ()]
    except ValueError:                    # a named list or a negation: not provably narrower than "any"
        return None
    return list(fwd.source_restriction or ()) if nets and all(n.prefixlen for n in nets) else None


def own_addresses(config: RouterConfig | None) -> frozenset[str]:
    """The router's own interface addresses, canonical (parse once per configuration; pass to rate)."""
    found = set()
    for address in (a for iface in (config.interfaces if config else []) for a in iface.addresses):
        try:
            found.add(str(ipaddress.ip_interface(address).ip))
        except ValueError:
            continue
    return frozenset(found)


def _to_router(fwd: PortForward, own: frozenset[str]) -> bool:
    """The forward lands on the router itself (one of its interface addresses, or loopback)."""
    text = str(fwd.internal_ip)
    if text in own or text.startswith("127."):          # parsers write IPv4 in canonical dotted form
        return True
    if ":" not in text:
        return False
    try:
        target = ipaddress.ip_address(text)
    except ValueError:
        return False
    return target.is_loopback or str(target) in own


def rate(fwd: PortForward, xp: ExposurePolicy, config: RouterConfig | None = None,
         own: frozenset[str] | None = None) -> Exposure:
    """The fail for an internet-facing forward nothing allows: severity, services reached, and why.
    `own`: own_addresses(config), when the caller rates many forwards of one configuration."""
    sides = (fwd.external_ports, fwd.internal_port_set())
    every = any(side is None for side in sides)         # a side of every port meets every service
    ranges = [(r.lo, r.hi) for side in sides if side is not None for r in side]
    carried = {proto for proto in ("tcp", "udp") if fwd.matches_proto(proto)}
    hits = [(svc, label) for proto, lo, hi, svc, label in xp.rows
            if proto in carried and (every or any(a <= hi and lo <= b for a, b in ranges))]
    names = tuple(dict.fromkeys(svc.name for svc, _ in hits))
    worst = max((SEVERITIES.index(svc.severity) for svc, _ in hits), default=SEVERITIES.index(xp.default))
    outside = provable_restriction(fwd)
    rank = max(0, worst - xp.restricted_lowers_by) if outside else worst
    severity = SEVERITIES[rank]
    if is_forward_all(fwd):
        listed = f"{len(names)} listed services: {', '.join(names[:3])}{', ...' if len(names) > 3 else ''}"
        what = f"every {fwd.proto} port ({listed if names else 'no listed service'})"
    elif hits:
        what = ", ".join(f"{name} ({', '.join(p for s, p in hits if s.name == name)})" for name in names)
    else:
        what = f"{fwd.proto} {ports_text(fwd.external_ports)} (no listed service)"
    mine = own_addresses(config) if own is None else own
    whom = f"{fwd.internal_ip} (the router itself: management)" if _to_router(fwd, mine) else fwd.internal_ip
    if outside:
        lowered = f" (lowered from {SEVERITIES[worst]})" if rank != worst else ""
        scope = f"restricted to {', '.join(outside)}{lowered}"
    elif fwd.source_restriction:
        scope = (f"restricted to {', '.join(fwd.source_restriction)} (not provably narrower than any source: "
                 "not lowered)")
    else:                                 # negated sources leave every other address of the internet in
        scope = "from any source" + (f" but {', '.join(fwd.source_exclusions)}" if fwd.source_exclusions else "")
    dynamic = "; a UPnP/NAT-PMP mapping made by a LAN host" if fwd.kind == "upnp_dynamic" else ""
    return Exposure("fail", f"{severity}: {what} forwarded to {whom}, {scope}{dynamic}: {forward_text(fwd)}",
                    severity, names)
