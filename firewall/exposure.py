"""Exposure geometry over the router model: which forwards reach an address on which ports, and how.

Vendor-neutral and free of checks and policy: pure functions of a RouterConfig, addresses and port
ranges. Ports are matched on the external and the internal side separately, so "external 8080 ->
internal 80" and "external 80 -> internal 8080" both involve 8080. Disabled rules and rules bound to a
LAN interface or limited to LAN sources (NAT reflection) are reported but never counted as exposures;
a rule restricted to outside sources still counts, noted as restricted. Which check a forward trips and
how the verify endpoint classifies it are hardening's (hardening.model.exposure).
"""
from __future__ import annotations

import ipaddress
import weakref
from dataclasses import dataclass
from functools import lru_cache

from firewall.model import PortForward, PortRange, RouterConfig
from firewall.site_context import address_matches, internet_routable, lan_only_sources, port_ranges, restriction_within

_FORWARD_ALL_PROTOS = ("tcp", "udp", "tcp_udp", "any")
__all__ = ["address_matches", "lan_only_sources", "port_ranges", "restriction_within", "Reach", "reach",
           "reaching", "inside_reason", "internet_facing", "external_addresses", "is_forward_all", "is_restricted",
           "is_rtp", "ports_text", "interface_name"]


# --- matching one forward ------------------------------------------------------------------------

@lru_cache(maxsize=1 << 17)
def _span(text: str) -> tuple[int, int, int] | None:
    """(IP version, first, last) of an address, network or 'a-b' pool as integers; None when not one."""
    try:
        if "-" in text:
            lo, hi = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            return (lo.version, int(lo), int(hi)) if lo.version == hi.version else None
        net = ipaddress.ip_network(text, strict=False)
        return net.version, int(net.network_address), int(net.broadcast_address)
    except ValueError:
        return None


def _address_matches(internal_ip: str | None, address: str) -> bool:
    """address_matches over integers parsed once per distinct address: every check asks it again for each
    (forward, device) pair, and a memo of the pairs overflowed on large configurations (the cost jumped)."""
    if not internal_ip or not address:
        return False
    target, wanted = _span(internal_ip), _span(address)
    if target is None or wanted is None or "/" in address or "-" in address:
        return address_matches(internal_ip, address)           # names, odd forms: the reference rules
    return target[0] == wanted[0] and target[1] <= wanted[1] <= target[2]


def _intersect(have: list[PortRange] | None, wanted: tuple[PortRange, ...] | None) -> list[PortRange] | None:
    """Ports in both; None means every port, [] means no overlap."""
    if wanted is None:
        return have
    if have is None:
        return list(wanted)
    return [PortRange(max(a.lo, b.lo), min(a.hi, b.hi)) for a in have for b in wanted
            if max(a.lo, b.lo) <= min(a.hi, b.hi)]


def ports_text(ranges: list[PortRange] | None) -> str:
    return "all ports" if ranges is None else ",".join(str(r) for r in ranges)


def interface_name(fwd: PortForward) -> str | None:
    if fwd.external_if:
        return fwd.external_if
    if fwd.external_ip and fwd.external_ip.startswith("interface:"):
        return fwd.external_ip.split(":", 1)[1]
    return None


@dataclass(frozen=True)
class InterfaceIndex:
    """A configuration's interfaces by name, built once: every check asks about every forward, and a scan
    of all interfaces per question made the analysis grow with forwards x interfaces."""
    lan_names: frozenset[str]
    addresses: dict[str, list[str]]


_INDEXES: dict[int, tuple[tuple[int, int], InterfaceIndex]] = {}


def interface_index(config: RouterConfig) -> InterfaceIndex:
    """The cached index of `config`, rebuilt when its interface list is replaced or grows/shrinks
    (a role changed in place on an existing Interface is not seen: parsers fill roles before returning)."""
    key, signature = id(config), (id(config.interfaces), len(config.interfaces))
    hit = _INDEXES.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    if hit is None:
        weakref.finalize(config, _INDEXES.pop, key, None)      # ids are reused once the config is gone
    addresses: dict[str, list[str]] = {}
    for iface in config.interfaces:
        addresses.setdefault(iface.name, []).extend(iface.addresses)
    index = InterfaceIndex(frozenset(i.name for i in config.interfaces if i.role == "lan"), addresses)
    _INDEXES[key] = (signature, index)
    return index


def inside_reason(fwd: PortForward, config: RouterConfig | None) -> str:
    """Why the rule cannot be used from the internet ('' when it can): LAN-bound or LAN-only sources."""
    name = interface_name(fwd)
    if name and config is not None and name in interface_index(config).lan_names:
        return f"bound to LAN interface {name}"
    if lan_only_sources(fwd.source_restriction):     # e.g. NAT reflection (hairpin) rules for LAN clients
        return f"only LAN sources ({', '.join(fwd.source_restriction or [])})"
    return ""


def internet_facing(fwd: PortForward, config: RouterConfig | None) -> bool:
    return not inside_reason(fwd, config)


def external_addresses(fwd: PortForward, config: RouterConfig | None) -> list[str]:
    """The internet-reachable external address(es): the literal one, or those of the interface it is bound
    to. Link-local, loopback, private (RFC1918, ULA), CGNAT, multicast and unspecified addresses are never
    listed (site_context.internet_routable); a bound interface without any address gives its
    'interface:NAME' token, one whose every address is non-routable gives none."""
    if fwd.external_ip and not fwd.external_ip.startswith("interface:"):
        return [fwd.external_ip] if internet_routable(fwd.external_ip) else []
    name = interface_name(fwd)
    found = interface_index(config).addresses.get(name or "", []) if config else []
    if found:
        return [a for a in found if internet_routable(a)]
    return [fwd.external_ip] if fwd.external_ip else []


def is_forward_all(fwd: PortForward) -> bool:
    """DMZ host, 1:1 NAT, or a rule that sends every port of the external address to one host."""
    return fwd.kind in ("dmz", "static_1to1") or (
        fwd.external_ports is None and fwd.proto in _FORWARD_ALL_PROTOS)


def is_restricted(fwd: PortForward) -> bool:
    return bool(fwd.source_restriction)


@dataclass
class Reach:
    """A forward that reaches an address on some of the wanted ports, matched per side."""
    forward: PortForward
    external: list[PortRange] | None          # wanted ports on the external side (None = every port)
    internal: list[PortRange] | None          # wanted ports on the internal side
    inside: str = ""                          # why it is not internet-facing ('' = it is)

    @property
    def exposed(self) -> bool:
        return self.forward.enabled and not self.inside

    @property
    def restricted(self) -> bool:
        return is_restricted(self.forward)

    def describe(self) -> str:
        fwd = self.forward
        into = "same ports" if fwd.internal_ports is None else ports_text(fwd.internal_ports)
        text = (f"{fwd.kind} {fwd.proto} {ports_text(fwd.external_ports)} -> {fwd.internal_ip} ({into})")
        sides = [f"{ports_text(ports)} on the {side} side"
                 for side, ports in (("external", self.external), ("internal", self.internal)) if ports != []]
        text += "; involves " + " and ".join(sides)
        sources = ", ".join(fwd.source_restriction or [])
        text += f"; restricted to {sources}" if self.restricted else "; from any source"
        if not fwd.enabled:
            text += "; rule is disabled"
        text += f"; {self.inside}" if self.inside else ""
        return text


def reach(fwd: PortForward, address: str | None, ports: tuple[PortRange, ...] | None = None,
          proto: str | None = None, config: RouterConfig | None = None) -> Reach | None:
    """How `fwd` reaches `address` (None = any address) on `ports`/`proto` (None = any), or None."""
    if address is not None and not _address_matches(fwd.internal_ip, address):
        return None
    if proto is not None and not fwd.matches_proto(proto):
        return None
    ext = _intersect(fwd.external_ports, ports)
    internal = _intersect(fwd.internal_port_set(), ports)
    if ext == [] and internal == []:
        return None
    return Reach(fwd, ext, internal, inside_reason(fwd, config))


def reaching(config: RouterConfig, address: str, ports: tuple[PortRange, ...] | None = None,
             proto: str | None = None) -> list[Reach]:
    """Every forward (enabled or not) reaching `address`; filter on Reach.exposed for live exposures."""
    found = (reach(fwd, address, ports, proto, config) for fwd in config.forwards)
    return [r for r in found if r is not None]


def is_rtp(fwd: PortForward, known: tuple[PortRange, ...] | list[PortRange], min_size: int) -> bool:
    """A UDP-capable forward of a wide high-port range (>= `min_size` ports), or one of at least two
    ports overlapping a `known` PBX RTP range (all above 1023)."""
    if not fwd.matches_proto("udp"):
        return False
    for ranges in (fwd.external_ports, fwd.internal_port_set()):
        if ranges is None:
            return True
        for rng in ranges:
            wide = rng.size >= min_size
            overlaps = rng.size >= 2 and _intersect([rng], tuple(known)) != []
            if rng.lo >= 1024 and (wide or overlaps):
                return True
    return False
