"""The router-side checks: forwards to Allworx devices, SIP ALG and UPnP (checks.md; the voice VLAN is
hardening.checks.voice_vlan)."""
from __future__ import annotations

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
    for router in readable_routers(facts, verdict, "NET-ALG-001", policy):
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
    for router in readable_routers(facts, verdict, "NET-UPNP-001", policy):
        _upnp_router(router, ctx, pp, allow_unmapped, verdict)
    return [finish("NET-UPNP-001", facts, verdict, "UPnP / NAT-PMP is off or maps nothing to Allworx devices",
                   "UPnP state not in the input")]
