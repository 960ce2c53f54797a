"""NET-VLAN-001: phones sit on a voice VLAN separate from the data VLAN (checks.md).

One rule on every platform, whatever VLANs the router happens to have: a phone whose address lies in a
data-side subnet of a device read (an L3 interface that is not the WAN, a VLAN that carries no voice)
fails; so does a LAN described without any voice VLAN. `manual` only where nothing read holds the
phones' subnet: the switch (or L3 device) that carries their VLAN is not in the inventory, and the
message says so. A router without VLANs and one with unrelated VLANs therefore answer alike.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hardening.checks.common import (
    NO_ROUTER,
    Verdict,
    finish,
    not_applicable,
    readable_routers,
    ref_evidence,
    router_provenance,
)
from hardening.checks.registry import register_check
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts

CHECK = "NET-VLAN-001"
NOT_HELD = ("the switch or L3 device holding their VLAN is not in the inventory: add it (router_config) or "
            "declare the site's voice_subnet")


@dataclass(frozen=True)
class DataNet:
    """A data-side subnet of a device read, and where it was seen."""
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    where: str
    router: object
    evidence: Evidence


def _network(cidr: str | None):
    try:
        return ipaddress.ip_network(cidr or "", strict=False)
    except ValueError:
        return None


def _networks(cidrs) -> list:
    return [n for n in map(_network, cidrs) if n is not None]


def _in(address: str, net) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:      # an unreadable phone address cannot be shown to sit anywhere
        return False
    return ip.version == net.version and ip in net


def _lan_side(net) -> bool:
    """A private subnet wider than one host: where LAN devices (phones) can sit."""
    return net.is_private and not net.is_loopback and not net.is_link_local and net.num_addresses > 1


def _interface_nets(router, voice: set[int]) -> list[DataNet]:
    found = []
    for iface in router.config.interfaces:
        if iface.role == "wan" or iface.vlan_id in voice:
            continue
        for net in _networks(iface.addresses):
            if _lan_side(net):
                detail = f"data LAN subnet {net} on interface {iface.name}"
                ev = Evidence(detail, f"{iface.name} {', '.join(iface.addresses)}", f"router:{router.name}",
                              router_provenance(router))
                found.append(DataNet(net, f"interface {iface.name}", router, ev))
    return found


def _data_nets(routers, vlans, voice: set[int]) -> list[DataNet]:
    found = [d for r in routers for d in _interface_nets(r, voice)]
    for router, vlan in vlans:
        net = _network(vlan.subnet) if vlan.vlan_id not in voice and vlan.subnet else None
        if net is not None:
            ev = ref_evidence(router, vlan.source_ref, f"data VLAN {vlan.vlan_id} {vlan.name} subnet {net}")
            found.append(DataNet(net, f"data VLAN {vlan.vlan_id}", router, ev))
    return found


def _voice_nets(routers, vlans, voice: set[int], facts: SiteFacts) -> list:
    """Subnets of the voice VLAN(s): from the VLANs, their L3 interfaces, else the site's declared one."""
    cidrs = [v.subnet for _, v in vlans if v.vlan_id in voice and v.subnet]
    cidrs += [a for r in routers for i in r.config.interfaces if i.vlan_id in voice for a in i.addresses]
    if not cidrs and facts.site.voice_subnet:
        cidrs = [facts.site.voice_subnet]
    return _networks(cidrs)


def _label(phones) -> str:
    return ", ".join(f"{p.name or 'phone'} ({p.address})" for p in phones)


def _place_phones(phones, voice_nets, data: list[DataNet], has_voice: bool, verdict: Verdict) -> None:
    """Each phone on a voice subnet, on a data subnet (fail), or on none of the devices read."""
    elsewhere = []
    for phone in phones:
        if any(_in(phone.address, n) for n in voice_nets):
            continue
        holder = next((d for d in data if _in(phone.address, d.network)), None)
        if holder is not None:
            detail = (f"phone {_label([phone])} sits in the {holder.evidence.detail}, not on a voice VLAN")
            verdict.fails.append(Evidence(detail, holder.evidence.excerpt, holder.evidence.source,
                                          holder.evidence.provenance))
        else:
            elsewhere.append(phone)
    if not elsewhere:
        return
    if has_voice and voice_nets:
        verdict.fails.append(Evidence(f"phones outside the voice subnet {', '.join(map(str, voice_nets))}: "
                                      f"{_label(elsewhere)}", _label(elsewhere), "inventory", "declared"))
        return
    what = "the voice VLAN's subnet is on no device read" if has_voice else "no voice VLAN on the devices read"
    verdict.manual.append(Evidence(f"phones in no subnet of the routers and switches read ({what}): "
                                   f"{_label(elsewhere)}: {NOT_HELD}", _label(elsewhere), "inventory", "declared"))


def _overlaps(vlans, voice: set[int], voice_nets, verdict: Verdict) -> None:
    for router, vlan in vlans:
        if vlan.vlan_id in voice:
            continue
        overlap = [n for n in voice_nets for d in _networks([vlan.subnet or ""]) if n.overlaps(d)]
        if overlap:
            detail = f"voice subnet {overlap[0]} overlaps data VLAN {vlan.vlan_id} subnet {vlan.subnet}"
            verdict.fails.append(ref_evidence(router, vlan.source_ref, detail))


def _access_ports(ports, voice: set[int], verdict: Verdict) -> None:
    access = [(r, p) for r, p in ports if "access" in p.mode.lower()]
    carrying = [p.name for _, p in access if p.voice_vlan in voice]
    if access and not carrying:
        router, port = access[0]
        verdict.fails.append(ref_evidence(router, port.source_ref, f"no access port carries voice VLAN "
                                          f"{', '.join(map(str, sorted(voice)))} as voice VLAN "
                                          f"({len(access)} access ports seen)"))
    elif carrying:
        verdict.notes.append(Evidence(f"access ports carrying the voice VLAN: {', '.join(carrying)}"))


def _no_voice_vlan(vlans, ports, data: list[DataNet], facts: SiteFacts) -> Evidence:
    seen = ", ".join(sorted({f"{v.vlan_id} {v.name}".strip() for _, v in vlans})) or "none"
    declared = facts.site.voice_vlan_id
    missing = f"; the declared voice VLAN {declared} is not configured" if declared else ""
    detail = f"no voice VLAN in the configuration (VLANs seen: {seen}){missing}"
    if vlans:
        return ref_evidence(vlans[0][0], vlans[0][1].source_ref, detail)
    if ports:
        return ref_evidence(ports[0][0], ports[0][1].source_ref, detail)
    first = data[0].evidence
    return Evidence(f"{detail}; LAN: {first.detail}", first.excerpt, first.source, first.provenance)


def _voice_vlan(routers, facts: SiteFacts, verdict: Verdict) -> bool:
    """Fill the verdict; False when the input describes no LAN at all (no VLAN, port or LAN subnet)."""
    vlans = [(r, v) for r in routers for v in r.config.vlans]
    ports = [(r, p) for r in routers for p in r.config.switchports]
    declared = facts.site.voice_vlan_id
    voice = {v.vlan_id for _, v in vlans if v.voice or v.vlan_id == declared}
    voice |= {p.voice_vlan for _, p in ports if p.voice_vlan}
    data = _data_nets(routers, vlans, voice)
    if not vlans and not ports and not data:
        return False
    voice_nets = _voice_nets(routers, vlans, voice, facts)
    phones = [d for d in facts.of_kind("allworx_phone") if d.address]
    placed = Verdict()
    _place_phones(phones, voice_nets, data, bool(voice), placed)
    verdict.fails += placed.fails                                         # the phones named first
    verdict.manual += placed.manual
    if not voice:
        missing = _no_voice_vlan(vlans, ports, data, facts)
        # phones on no device read: the missing voice VLAN may be on the switch that is not in the inventory
        (verdict.notes if placed.manual and not placed.fails else verdict.fails).append(missing)
    for router, vlan in vlans:
        if vlan.vlan_id in voice:
            detail = f"voice VLAN {vlan.vlan_id} {vlan.name} subnet {vlan.subnet or 'unknown'}"
            verdict.notes.append(ref_evidence(router, vlan.source_ref, detail))
    if voice:
        _overlaps(vlans, voice, voice_nets, verdict)
        _access_ports(ports, voice, verdict)
    return True


@register_check(CHECK)
def phones_on_voice_vlan(facts: SiteFacts, policy) -> list[CheckResult]:
    if not facts.routers:
        return [not_applicable(CHECK, facts, NO_ROUTER)]
    verdict = Verdict()
    routers = readable_routers(facts, verdict, CHECK, policy)
    if not _voice_vlan(routers, facts, verdict) and not verdict.errors and not verdict.manual:
        return [not_applicable(CHECK, facts, "no VLAN, switch port or LAN subnet in the input")]
    return [finish(CHECK, facts, verdict, "phones sit on a voice VLAN separate from the data VLAN")]
