"""The router-side checks: forwards to Allworx devices, SIP ALG, UPnP and the voice VLAN (checks.md)."""
from __future__ import annotations

import ipaddress

from firewall.model import FeatureState
from hardening.checks.common import (
    ALLWORX_ROLES,
    NO_ALLWORX,
    NO_ROUTER,
    Verdict,
    finish,
    forward_check,
    is_offline,
    not_applicable,
    readable_routers,
    ref_evidence,
)
from hardening.checks.registry import register_check
from hardening.model.exposure import PortPolicy, SiteContext, forward_triggers
from hardening.model.probes import answered
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts, is_private


@register_check("AWX-SRV-002")
def server_lan_not_public(facts: SiteFacts, policy) -> list[CheckResult]:
    extra = Verdict()
    for server in facts.of_kind("allworx_server"):
        if server.address and not is_private(server.address):
            extra.fails.append(Evidence(f"server LAN address {server.address} is not a private address",
                                        server.address, f"device:{server.name}", "declared"))
    return [forward_check("AWX-SRV-002", facts, policy, ("server_lan",),
                          "no Allworx server LAN address in inventory",
                          "no DMZ host, 1:1 NAT or forward reaches the server's LAN address", extra)]


def _admin_inputs(facts: SiteFacts, pp: PortPolicy) -> Verdict:
    """WAN Admin device facts and outside probes of the admin ports, as fail or note evidence."""
    verdict = Verdict()
    for dev in facts.allworx_devices():
        fact = dev.get("wan_admin_enabled")
        if fact is not None:
            state = "enabled" if fact.value is True else "disabled"
            ev = Evidence(f"WAN Admin is {state} on {dev.name or dev.address}", fact.excerpt, fact.source,
                          fact.provenance)
            (verdict.fails if fact.value is True else verdict.notes).append(ev)
        elif "web" in dev.errors:            # asked for and not read: WAN Admin is unknown, never "off"
            verdict.errors.append(Evidence(f"WAN Admin not read on {dev.name or dev.address}: web: "
                                           f"{dev.errors['web']}", source="device:web", provenance="device"))
    ports = [p for rng in pp.admin for p in range(rng.lo, rng.hi + 1)][:64]
    for port in ports:
        key = f"tcp/{port}"
        if facts.outside is not None and key in facts.outside:
            heard = answered(facts.outside[key])       # None: the probe could not decide: never a pass
            said = {True: "answered", False: "no answer"}.get(heard, "undecided (not evidence)")
            ev = Evidence(f"outside probe of the WAN address on TCP {port}: {said}",
                          str(facts.outside[key])[:200], f"probe:{key}", "observed")
            (verdict.fails if heard is True else verdict.errors if heard is None else verdict.notes).append(ev)
    return verdict


@register_check("AWX-SRV-007")
def admin_not_exposed(facts: SiteFacts, policy) -> list[CheckResult]:
    extra = _admin_inputs(facts, PortPolicy.from_policy(policy))
    return [forward_check("AWX-SRV-007", facts, policy, ALLWORX_ROLES, NO_ALLWORX,
                          "no forward reaches an admin port of an Allworx device", extra)]


@register_check("AWX-PHN-003")
def phone_web_not_exposed(facts: SiteFacts, policy) -> list[CheckResult]:
    return [forward_check("AWX-PHN-003", facts, policy, ("phone",), "no phones in inventory",
                          "no forward reaches a phone's web UI port")]


@register_check("AWX-PX-003")
def px_web_not_exposed(facts: SiteFacts, policy) -> list[CheckResult]:
    return [forward_check("AWX-PX-003", facts, policy, ("px",), "no Px Expanders in inventory",
                          "no forward reaches a Px Expander's web UI port")]


@register_check("NET-NAT-001")
def no_dmz_to_allworx(facts: SiteFacts, policy) -> list[CheckResult]:
    return [forward_check("NET-NAT-001", facts, policy, ALLWORX_ROLES, NO_ALLWORX,
                          "no DMZ host, 1:1 NAT or forward-all rule points at an Allworx device")]


@register_check("NET-NAT-002")
def no_mail_forward_to_allworx(facts: SiteFacts, policy) -> list[CheckResult]:
    return [forward_check("NET-NAT-002", facts, policy, ALLWORX_ROLES, NO_ALLWORX,
                          "no mail port is forwarded to an Allworx device")]


@register_check("NET-SIP-001")
def sip_forwards_restricted(facts: SiteFacts, policy) -> list[CheckResult]:
    return [forward_check("NET-SIP-001", facts, policy, ALLWORX_ROLES, NO_ALLWORX,
                          "every SIP/BLF/RTP forward to an Allworx device is limited to allowed SIP peers")]


def _feature_evidence(router, state: FeatureState, what: str, verdict: Verdict) -> None:
    """Sort one router's feature state (on / off / not shown) into the verdict, with the parser's why."""
    if state.enabled is None:
        offline = is_offline(router)
        reason = "not in the input" if offline else "could not be read from the device"
        detail = f"{what} state {reason}: {state.detail}".rstrip(": ")
        evidence = ref_evidence(router, state.source_ref, detail)
        (verdict.unknown if offline else verdict.errors).append(evidence)
        return
    detail = f"{what} {'enabled' if state.enabled else 'disabled'}: {state.detail}".rstrip(": ")
    (verdict.fails if state.enabled else verdict.notes).append(ref_evidence(router, state.source_ref, detail))


@register_check("NET-ALG-001")
def sip_alg_off(facts: SiteFacts, policy) -> list[CheckResult]:
    if not facts.routers:
        return [not_applicable("NET-ALG-001", facts, NO_ROUTER)]
    verdict = Verdict()
    for router in readable_routers(facts, verdict):
        _feature_evidence(router, router.config.sip_alg, "SIP ALG", verdict)
    return [finish("NET-ALG-001", facts, verdict, "SIP ALG is off", "SIP ALG state not in the input")]


def _upnp_router(router, ctx: SiteContext, pp: PortPolicy, allow_unmapped: bool, verdict: Verdict) -> None:
    dynamic = [f for f in router.config.forwards if f.kind == "upnp_dynamic" and f.enabled]
    mapped = [(f, t) for f in dynamic for t in forward_triggers(f, ctx, pp) if t.check_id == "NET-UPNP-001"]
    for fwd, trigger in mapped:
        verdict.fails.append(ref_evidence(router, fwd.source_ref, trigger.reason))
    state = router.config.upnp
    if state.enabled is None and dynamic:     # dynamic mappings exist, so UPnP is on whatever the config said
        state = FeatureState(True, f"{len(dynamic)} UPnP dynamic mapping(s) in the runtime table",
                             dynamic[0].source_ref)
    if state.enabled and allow_unmapped and not mapped:
        detail = f"UPnP enabled but maps nothing to Allworx devices: {state.detail}"
        verdict.notes.append(ref_evidence(router, state.source_ref, detail))
        return
    _feature_evidence(router, state, "UPnP/NAT-PMP", verdict)


@register_check("NET-UPNP-001")
def upnp_off(facts: SiteFacts, policy) -> list[CheckResult]:
    if not facts.routers:
        return [not_applicable("NET-UPNP-001", facts, NO_ROUTER)]
    verdict = Verdict()
    ctx, pp = SiteContext.from_site_facts(facts), PortPolicy.from_policy(policy)
    allow_unmapped = bool(policy.get("upnp_allowed_if_unmapped", False)) if policy is not None else False
    for router in readable_routers(facts, verdict):
        _upnp_router(router, ctx, pp, allow_unmapped, verdict)
    return [finish("NET-UPNP-001", facts, verdict, "UPnP / NAT-PMP is off or maps nothing to Allworx devices",
                   "UPnP state not in the input")]


def _networks(cidrs: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for cidr in cidrs:
        try:
            nets.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    return nets


def _in_network(address: str, net) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:      # an unreadable phone address cannot be shown to sit in the voice subnet
        return False
    return ip.version == net.version and ip in net


def _voice_subnets(routers, vlans, voice: set[int], facts: SiteFacts) -> list:
    """Subnets of the voice VLAN(s): from the VLANs, their L3 interfaces, else the site's declared one."""
    cidrs = [v.subnet for _, v in vlans if v.vlan_id in voice and v.subnet]
    cidrs += [a for r in routers for i in r.config.interfaces if i.vlan_id in voice for a in i.addresses]
    if not cidrs and facts.site.voice_subnet:
        cidrs = [facts.site.voice_subnet]
    return _networks(cidrs)


def _phone_placement(routers, vlans, voice: set[int], facts: SiteFacts, verdict: Verdict) -> None:
    nets = _voice_subnets(routers, vlans, voice, facts)
    for router, vlan in vlans:
        if vlan.vlan_id in voice:
            continue
        overlap = [n for n in nets for d in _networks([vlan.subnet or ""]) if n.overlaps(d)]
        if overlap:
            detail = f"voice subnet {overlap[0]} overlaps data VLAN {vlan.vlan_id} subnet {vlan.subnet}"
            verdict.fails.append(ref_evidence(router, vlan.source_ref, detail))
    phones = [d for d in facts.of_kind("allworx_phone") if d.address]
    if phones and not nets:
        verdict.notes.append(Evidence("voice VLAN subnet unknown: phone addresses not checked"))
        return
    outside = [p for p in phones if not any(_in_network(p.address, n) for n in nets)]
    if outside:
        names = ", ".join(f"{p.name or 'phone'} ({p.address})" for p in outside)
        verdict.fails.append(Evidence(f"phones outside the voice subnet {', '.join(map(str, nets))}: {names}",
                                      names, "inventory", "declared"))


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


def _voice_vlan(routers, facts: SiteFacts, verdict: Verdict) -> bool:
    """Fill the verdict; False when the input holds no VLAN information at all."""
    vlans = [(r, v) for r in routers for v in r.config.vlans]
    ports = [(r, p) for r in routers for p in r.config.switchports]
    if not vlans and not ports:
        return False
    declared = facts.site.voice_vlan_id
    voice = {v.vlan_id for _, v in vlans if v.voice or v.vlan_id == declared}
    voice |= {p.voice_vlan for _, p in ports if p.voice_vlan}
    if not voice:
        seen = ", ".join(sorted({f"{v.vlan_id} {v.name}".strip() for _, v in vlans})) or "none"
        missing = f"; the declared voice VLAN {declared} is not configured" if declared else ""
        detail = f"no voice VLAN in the configuration (VLANs seen: {seen}){missing}"
        router, item = vlans[0] if vlans else ports[0]
        verdict.fails.append(ref_evidence(router, item.source_ref, detail))
        return True
    for router, vlan in vlans:
        if vlan.vlan_id in voice:
            detail = f"voice VLAN {vlan.vlan_id} {vlan.name} subnet {vlan.subnet or 'unknown'}"
            verdict.notes.append(ref_evidence(router, vlan.source_ref, detail))
    _phone_placement(routers, vlans, voice, facts, verdict)
    _access_ports(ports, voice, verdict)
    return True


@register_check("NET-VLAN-001")
def phones_on_voice_vlan(facts: SiteFacts, policy) -> list[CheckResult]:
    if not facts.routers:
        return [not_applicable("NET-VLAN-001", facts, NO_ROUTER)]
    verdict = Verdict()
    routers = readable_routers(facts, verdict)
    if not _voice_vlan(routers, facts, verdict) and not verdict.errors:
        return [not_applicable("NET-VLAN-001", facts, "no VLAN information in the input")]
    return [finish("NET-VLAN-001", facts, verdict, "phones sit on a voice VLAN separate from the data VLAN")]
