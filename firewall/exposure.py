"""Exposure analysis over the router model: which forwards reach which Allworx address, and why it matters.

Pure functions of a RouterConfig plus a SiteContext (the Allworx addresses and the site's declared
needs). Ports are matched on the external and the internal side separately, so "external 8080 ->
internal 80" and "external 80 -> internal 8080" both involve 8080. Disabled rules and rules bound to a
LAN interface or limited to LAN sources (NAT reflection) are reported but never counted as exposures;
a rule restricted to outside sources still counts, noted as restricted. `forward_triggers` is the one
place that says which check a forward trips: the network checks and `classify_forwards` (the live
"verify" answer) both read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from firewall.model import PortForward, PortRange, RouterConfig, to_jsonable
from firewall.site_context import (
    PortPolicy,
    SiteContext,
    Target,
    address_matches,
    lan_only_sources,
    port_ranges,
    restriction_within,
)

_FORWARD_ALL_PROTOS = ("tcp", "udp", "tcp_udp", "any")
__all__ = ["PortPolicy", "SiteContext", "Target", "address_matches", "restriction_within", "Reach", "reach",
           "reaching", "inside_reason", "internet_facing", "external_addresses", "is_forward_all", "is_rtp",
           "Trigger", "forward_triggers", "classify_forward", "classify_forwards"]


# --- matching one forward ------------------------------------------------------------------------

@lru_cache(maxsize=65536)
def _address_matches(internal_ip: str | None, address: str) -> bool:
    """address_matches, memoised: every check asks it again for each (forward, device) pair, and
    re-parsing the addresses was most of the analysis time on a 2,000-forward config."""
    return address_matches(internal_ip, address)


def _intersect(have: list[PortRange] | None, wanted: tuple[PortRange, ...] | None) -> list[PortRange] | None:
    """Ports in both; None means every port, [] means no overlap."""
    if wanted is None:
        return have
    if have is None:
        return list(wanted)
    return [PortRange(max(a.lo, b.lo), min(a.hi, b.hi)) for a in have for b in wanted
            if max(a.lo, b.lo) <= min(a.hi, b.hi)]


def _ports_text(ranges: list[PortRange] | None) -> str:
    return "all ports" if ranges is None else ",".join(str(r) for r in ranges)


def interface_name(fwd: PortForward) -> str | None:
    if fwd.external_if:
        return fwd.external_if
    if fwd.external_ip and fwd.external_ip.startswith("interface:"):
        return fwd.external_ip.split(":", 1)[1]
    return None


def inside_reason(fwd: PortForward, config: RouterConfig | None) -> str:
    """Why the rule cannot be used from the internet ('' when it can): LAN-bound or LAN-only sources."""
    name = interface_name(fwd)
    if name and config is not None and any(i.name == name and i.role == "lan" for i in config.interfaces):
        return f"bound to LAN interface {name}"
    if lan_only_sources(fwd.source_restriction):     # e.g. NAT reflection (hairpin) rules for LAN clients
        return f"only LAN sources ({', '.join(fwd.source_restriction or [])})"
    return ""


def internet_facing(fwd: PortForward, config: RouterConfig | None) -> bool:
    return not inside_reason(fwd, config)


def external_addresses(fwd: PortForward, config: RouterConfig | None) -> list[str]:
    """The external address(es): the literal one, or the addresses of the interface it is bound to."""
    if fwd.external_ip and not fwd.external_ip.startswith("interface:"):
        return [fwd.external_ip]
    name = interface_name(fwd)
    found = [a for i in (config.interfaces if config else []) if i.name == name for a in i.addresses]
    return found or ([fwd.external_ip] if fwd.external_ip else [])


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
        into = "same ports" if fwd.internal_ports is None else _ports_text(fwd.internal_ports)
        text = (f"{fwd.kind} {fwd.proto} {_ports_text(fwd.external_ports)} -> {fwd.internal_ip} ({into})")
        sides = [f"{_ports_text(ports)} on the {side} side"
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


def is_rtp(fwd: PortForward, pp: PortPolicy) -> bool:
    """A UDP-capable forward of a wide high-port range, or one overlapping a known PBX RTP range."""
    if not fwd.matches_proto("udp"):
        return False
    for ranges in (fwd.external_ports, fwd.internal_port_set()):
        if ranges is None:
            return True
        for rng in ranges:
            wide = rng.size >= pp.rtp_min_size
            known = rng.size >= 2 and _intersect([rng], pp.rtp_known) != []
            if rng.lo >= 1024 and (wide or known):
                return True
    return False


# --- which checks a forward trips ----------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    check_id: str
    reason: str
    target: Target
    passed: bool = False           # relevant to the check but satisfies it (evidence for a pass)


def _signalling(fwd: PortForward, target: Target, pp: PortPolicy) -> list[str]:
    """SIP / BLF / RTP parts of a forward to `target`, described."""
    parts = [r.describe() for proto in ("udp", "tcp")
             if (r := reach(fwd, target.address, pp.sip, proto)) is not None]
    blf = reach(fwd, target.address, pp.blf, "udp")
    parts += [f"BLF: {blf.describe()}"] if blf else []
    parts += ["RTP range"] if is_rtp(fwd, pp) else []
    return parts


def _target_triggers(fwd: PortForward, target: Target, ctx: SiteContext, pp: PortPolicy) -> list[Trigger]:
    found: list[Trigger] = []

    def add(check_id: str, why: str, passed: bool = False) -> None:
        found.append(Trigger(check_id, f"{target.label}: {why}", target, passed))

    def ports(check_id: str, wanted: tuple[PortRange, ...], what: str) -> None:
        hit = reach(fwd, target.address, wanted, "tcp")
        if hit:
            add(check_id, f"{what} {_ports_text(list(wanted))}: {hit.describe()}")

    whole = reach(fwd, target.address)
    if whole is None:
        return found
    if target.role == "server_lan":
        add("AWX-SRV-002", f"forward to the server's LAN address: {whole.describe()}")
    if is_forward_all(fwd):
        add("NET-NAT-001", f"{fwd.kind} rule forwards every {fwd.proto} port: {whole.describe()}")
    ports("AWX-SRV-007", pp.admin, "admin port")
    if target.role == "phone":
        ports("AWX-PHN-003", pp.phone_web, "phone web port")
    if target.role == "px":
        ports("AWX-PX-003", pp.px_web, "Px web port")
    ports("NET-NAT-002", pp.mail, "mail port")
    signalling = _signalling(fwd, target, pp)
    outside = restriction_within(fwd.source_restriction, ctx.allowed_sip_peers)
    if signalling:
        opened = f"open to {', '.join(outside)}" if outside else "restricted to allowed SIP peers"
        peers = ", ".join(ctx.allowed_sip_peers) or "none declared"
        add("NET-SIP-001", f"SIP/BLF/RTP forward {opened} (allowed peers: {peers}): " + "; ".join(signalling),
            passed=not outside)
    if fwd.kind == "upnp_dynamic":
        add("NET-UPNP-001", "UPnP/NAT-PMP dynamic mapping")
    return found


def forward_triggers(fwd: PortForward, ctx: SiteContext, pp: PortPolicy) -> list[Trigger]:
    """Every (check, reason) this forward touches, ignoring enabled/interface (callers decide on those).

    Triggers with `passed` set are relevant but fine (a SIP forward limited to the allowed peers)."""
    return [t for target in ctx.targets if _address_matches(fwd.internal_ip, target.address)
            for t in _target_triggers(fwd, target, ctx, pp)]


# --- classification for the verify endpoint ------------------------------------------------------

def _service_specs(name: str, pp: PortPolicy) -> list[tuple[str, PortRange]] | None:
    """'tcp/443' or a policy service name -> [(proto, ports)]; None when the name is unknown."""
    specs = [name] if "/" in name else pp.services.get(name)
    out = []
    for spec in specs or ():
        proto, _, ports = str(spec).partition("/")
        try:
            out += [(proto, rng) for rng in port_ranges([ports])]
        except ValueError:
            return None
    return out if specs is not None else None


def _covered(fwd: PortForward, specs: list[tuple[str, PortRange]]) -> bool:
    """Every external port of every protocol the forward carries is inside a declared service."""
    if fwd.external_ports is None or fwd.proto.startswith("other:"):
        return False
    protos = ("tcp", "udp") if fwd.proto in ("any", "tcp_udp") else (fwd.proto,)
    for proto in protos:
        wanted = _merge([rng for p, rng in specs if p == proto])
        for rng in fwd.external_ports:
            if sum(r.size for r in _intersect([rng], wanted)) < rng.size:
                return False
    return True


def _merge(ranges: list[PortRange]) -> tuple[PortRange, ...]:
    """Overlapping or touching ranges joined, so sizes of intersections add up honestly."""
    merged: list[PortRange] = []
    for rng in sorted(ranges, key=lambda r: r.lo):
        if merged and rng.lo <= merged[-1].hi + 1:
            merged[-1] = PortRange(merged[-1].lo, max(merged[-1].hi, rng.hi))
        else:
            merged.append(rng)
    return tuple(merged)


def _expected(fwd: PortForward, ctx: SiteContext, pp: PortPolicy) -> tuple[bool, list[str]]:
    specs, notes = [], []
    for name in ctx.required_wan_services:
        if name == "rtp" and is_rtp(fwd, pp):
            return True, ["matches required WAN service 'rtp'"]
        found = _service_specs(name, pp)
        if found is None and name != "rtp":
            notes.append(f"unknown or malformed service {name!r}; declare it as proto/port (e.g. 'udp/5060')")
        specs += found or []
    if _covered(fwd, specs):
        return True, [f"matches required WAN services {', '.join(ctx.required_wan_services)}"] + notes
    return False, notes


def classify_forward(fwd: PortForward, ctx: SiteContext, pp: PortPolicy,
                     config: RouterConfig | None = None) -> dict[str, Any]:
    """One forward as the verify endpoint reports it: the model fields plus classification and reasons."""
    triggers = [t for t in forward_triggers(fwd, ctx, pp) if not t.passed]
    inside = inside_reason(fwd, config)
    reasons: list[str] = []
    if not fwd.enabled:
        verdict, reasons = "disabled", ["rule is disabled: not an exposure"]
    elif inside:
        verdict, reasons = "internal", [f"{inside}: not internet-facing"]
    elif triggers:
        verdict, reasons = "dangerous", [t.reason for t in triggers]
    elif is_forward_all(fwd):
        verdict, reasons = "dangerous", [f"{fwd.kind} rule forwards every port to {fwd.internal_ip}"]
    else:
        ok, notes = _expected(fwd, ctx, pp)
        verdict = "expected" if ok else "unexpected"
        reasons = notes if ok else ["not among the site's required WAN services"] + notes
        if fwd.kind == "upnp_dynamic":
            reasons.append("UPnP/NAT-PMP dynamic mapping: made by a LAN host, not in the configuration")
    live = fwd.enabled and not inside
    return {**to_jsonable(fwd), "classification": verdict, "reasons": reasons,
            "check_ids": sorted({t.check_id for t in triggers}) if live else [],
            "targets": sorted({t.target.label for t in triggers}), "restricted": is_restricted(fwd),
            "internet_facing": not inside, "external_addresses": external_addresses(fwd, config)}


def classify_forwards(config: RouterConfig, site: Any, policy: Any = None) -> list[dict[str, Any]]:
    """Every forward of `config` classified expected / unexpected / dangerous (disabled and
    LAN-bound rules are "disabled" / "internal": reported, never exposures).

    `site` is a SiteContext or a hardening SiteFacts; `policy` a hardening Policy (default policy if None).
    """
    ctx = site if isinstance(site, SiteContext) else SiteContext.from_site_facts(site)
    pp = PortPolicy.from_policy(policy)
    return [{"index": i, **classify_forward(fwd, ctx, pp, config)} for i, fwd in enumerate(config.forwards)]
