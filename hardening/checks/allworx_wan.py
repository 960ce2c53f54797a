"""The server's WAN side: remote maintenance through the VPN, NAT Firewall mode, a stealthy WAN, and the
VPN's protocol (NET-VPN-001: the Allworx VPN is PPTP)."""
from __future__ import annotations

import ipaddress
from typing import Any

from device_drivers.facts import DeviceFacts
from firewall.exposure import reach
from firewall.site_context import lan_only_sources, port_ranges
from hardening.checks.common import (
    ALLWORX_ROLES,
    NO_ALLWORX,
    NO_SERVER,
    Verdict,
    bool_setting,
    device_result,
    fact_evidence,
    forward_check,
    outside_probes,
    per_device,
    read_fact,
    readable_routers,
    ref_evidence,
    router_device_id,
    router_provenance,
    strongest_provenance,
    undecided,
)
from hardening.checks.registry import register_check
from hardening.model.exposed_services import provable_restriction
from hardening.model.exposure import SiteContext
from hardening.model.probes import answered, failure
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts

SERVER = ("allworx_server",)


# --- AWX-SRV-008: remote maintenance through the Allworx VPN ------------------------------------

def _admin_forwards(facts: SiteFacts, policy) -> CheckResult:
    """Router forwards reaching an admin port of an Allworx device, judged as AWX-SRV-007 judges them."""
    return forward_check("AWX-SRV-007", facts, policy, ALLWORX_ROLES, NO_ALLWORX,
                         "no router forward reaches an admin port of an Allworx device")


@register_check("AWX-SRV-008")
def maintenance_through_vpn(facts: SiteFacts, policy) -> list[CheckResult]:
    forwards = _admin_forwards(facts, policy)

    def one(dev: DeviceFacts) -> CheckResult:
        vpn, undecided_result = bool_setting("AWX-SRV-008", dev, "vpn_configured", "Allworx VPN state")
        if vpn is None:
            return undecided_result
        evidence = [fact_evidence(vpn, f"Allworx VPN {'configured' if vpn.value else 'not configured'}")]
        if not vpn.value:
            return device_result("AWX-SRV-008", dev, "fail", "no Allworx VPN: remote maintenance needs another "
                                 "way in", evidence)
        admin = dev.get("wan_admin_enabled")
        if admin is not None and admin.value is True:
            evidence.insert(0, fact_evidence(admin, "WAN Admin is enabled: admin reachable without the VPN"))
            return device_result("AWX-SRV-008", dev, "fail", evidence[0].detail, evidence)
        if forwards.status == "fail":
            return device_result("AWX-SRV-008", dev, "fail", f"admin forward on the router: {forwards.message}",
                                 forwards.evidence + evidence)
        if forwards.status in ("error", "manual"):
            return device_result("AWX-SRV-008", dev, forwards.status, f"VPN configured, but router forwards "
                                 f"unknown: {forwards.message}", forwards.evidence + evidence)
        checked = "" if forwards.status == "pass" else f" (router forwards not checked: {forwards.message})"
        return device_result("AWX-SRV-008", dev, "pass", f"Allworx VPN configured and no admin forward{checked}",
                             evidence + forwards.evidence)
    return per_device("AWX-SRV-008", facts, SERVER, NO_SERVER, one)


# --- AWX-WAN-001: NAT Firewall mode -------------------------------------------------------------

def wan_faces_internet(dev: DeviceFacts, facts: SiteFacts) -> tuple[bool | None, str]:
    """Whether the server's WAN port faces the internet, and why (None: cannot tell)."""
    if dev.value("pppoe") is True:
        return True, "the WAN uses PPPoE (a direct ISP link)"
    if not dev.wan_address:
        return None, "the server's WAN address is unknown"
    if dev.wan_address in facts.site.wan_addresses:
        return True, f"WAN address {dev.wan_address} is one of the site's internet addresses"
    try:
        ipaddress.ip_address(dev.wan_address)
    except ValueError:
        return None, f"WAN address {dev.wan_address!r} is not an IP address"
    if not lan_only_sources([dev.wan_address]):     # RFC 1918, ULA, link-local: behind another router
        return True, f"WAN address {dev.wan_address} is a public address"
    return False, f"WAN address {dev.wan_address} is private (behind another firewall)"


@register_check("AWX-WAN-001")
def nat_firewall_mode(facts: SiteFacts, policy) -> list[CheckResult]:
    def one(dev: DeviceFacts) -> CheckResult:
        fact, instead = read_fact("AWX-WAN-001", dev, "network_mode", "network mode unknown: read the web admin "
                                  "or declare network_mode", str, "is not a mode name")
        if fact is None:
            return instead
        mode = fact.value.strip().lower().replace(" ", "_")
        evidence = [fact_evidence(fact, f"Network Mode: {fact.value}")]
        if mode == "nat_firewall":
            return device_result("AWX-WAN-001", dev, "pass", "the WAN port runs in NAT Firewall mode", evidence,
                                 mode, "nat_firewall")
        if mode != "standard_router":
            return device_result("AWX-WAN-001", dev, "manual", f"network mode {fact.value!r} is not one this "
                                 "check knows: a person must judge it", evidence, mode, "nat_firewall")
        facing, why = wan_faces_internet(dev, facts)
        evidence.append(Evidence(why, dev.wan_address or "", "inventory", "declared"))
        if facing is None:
            return device_result("AWX-WAN-001", dev, "manual", f"Standard Router mode (no NAT, no firewall) and {why}:"
                                 " a person must confirm the WAN does not face the internet", evidence, mode)
        if facing:
            return device_result("AWX-WAN-001", dev, "fail", f"Standard Router mode (no NAT, no firewall) with an "
                                 f"internet-facing WAN: {why}", evidence, mode, "nat_firewall")
        return device_result("AWX-WAN-001", dev, "pass", f"Standard Router mode, but {why}", evidence, mode)
    return per_device("AWX-WAN-001", facts, SERVER, NO_SERVER, one)


# --- AWX-WAN-002: stealthy WAN ------------------------------------------------------------------

def _ping_evidence(dev: DeviceFacts, facts: SiteFacts) -> tuple[list[Evidence], list[Evidence], list[Evidence]]:
    """(fails, passes, notes): the outside echo, the wan_icmp_answers fact and the Stealth DMZ setting;
    an echo that could not decide (answered None) is a note, never a pass."""
    fails: list[Evidence] = []
    passes: list[Evidence] = []
    notes: list[Evidence] = []
    probe = outside_probes(dev, facts).get("icmp")
    if probe is not None:
        heard = answered(probe)
        said = {True: "answered", False: "no answer"}.get(heard, "undecided (not evidence)")
        evidence = Evidence(f"outside ICMP echo to the WAN address: {said}", str(probe)[:200], "probe:icmp",
                            "observed")
        (fails if heard is True else passes if heard is False else notes).append(evidence)
    for key, bad, wording in (("wan_icmp_answers", True, ("the WAN answers ping", "the WAN does not answer ping")),
                              ("stealth", False, ("Stealth DMZ is off", "Stealth DMZ is on"))):
        fact = dev.get(key)
        if fact is not None and isinstance(fact.value, bool):
            failed = fact.value is bad
            (fails if failed else passes).append(fact_evidence(fact, wording[0] if failed else wording[1]))
    return fails, passes, notes


@register_check("AWX-WAN-002")
def stealthy_wan(facts: SiteFacts, policy) -> list[CheckResult]:
    def one(dev: DeviceFacts) -> CheckResult:
        fails, passes, notes = _ping_evidence(dev, facts)
        if fails:
            return device_result("AWX-WAN-002", dev, "fail", f"the WAN is not stealthy: {fails[0].detail}",
                                 fails + passes + notes)
        if notes:              # the outside echo could not decide (the probe failed): never a pass
            return device_result("AWX-WAN-002", dev, "error", f"could not decide: {notes[0].detail}",
                                 notes + passes)
        if passes:
            return device_result("AWX-WAN-002", dev, "pass", f"the WAN is stealthy: {passes[0].detail}",
                                 passes + notes)
        return undecided("AWX-WAN-002", dev, "stealth", "no outside ping of the WAN address and no Stealth DMZ "
                         "setting: probe from outside, read the web admin, or declare stealth", evidence=notes)
    return per_device("AWX-WAN-002", facts, SERVER, NO_SERVER, one)


# --- NET-VPN-001: the VPN the internet reaches, and its protocol --------------------------------

WEAK = ("PPTP is a weak protocol (its MS-CHAPv2 login can be cracked offline from one captured handshake, "
        "its MPPE encryption is weak)")
ADVICE = ("the vendor advises its VPN for remote maintenance (AWX-SRV-008), so keep it only with TCP 1723 and "
          "GRE limited to your own source addresses on the router, or terminate a current VPN (WireGuard, IPsec "
          "IKEv2, OpenVPN) on the router and stop forwarding PPTP")


def _probe_evidence(record: Any, key: str, vendors: list[str], verdict: Verdict, passes: list[Evidence]) -> None:
    """One outside PPTP probe: a Start-Control-Connection-Reply fails; silence or another protocol passes;
    a failed probe, or an open port that said nothing, is an error (never a pass)."""
    port, source, excerpt = key.split("/", 1)[1], f"probe:{key}", str(record)[:300]
    if failure(record) is not None or answered(record) is None:
        verdict.errors.append(Evidence(f"outside PPTP probe of TCP {port}: {failure(record) or 'unreadable'}",
                                       excerpt, source, "observed"))
    elif answered(record) is False:
        passes.append(Evidence(f"outside probe: TCP {port} does not answer from the internet", excerpt, source,
                               "observed"))
    elif isinstance(record, dict) and record.get("pptp") is True:
        vendor = str(record.get("vendor", ""))
        which = "the Allworx VPN" if vendor in vendors else "a PPTP VPN"
        verdict.fails.append(Evidence(
            f"{which} answers PPTP on TCP {port} of the WAN address from the internet (vendor {vendor!r})",
            f"Start-Control-Connection-Reply: protocol {record.get('protocol_version')}, result "
            f"{record.get('result')}, vendor {vendor!r}, host name {str(record.get('hostname', ''))[:64]!r}",
            source, "observed"))
    elif isinstance(record, dict) and record.get("pptp") is False:
        passes.append(Evidence(f"outside probe: TCP {port} answers, but not as PPTP", excerpt, source, "observed"))
    else:
        verdict.errors.append(Evidence(f"outside probe: TCP {port} is open but gave no PPTP reply: cannot tell "
                                       "which protocol answers", excerpt, source, "observed"))


def _forward_evidence(facts: SiteFacts, ports: tuple, verdict: Verdict, passes: list[Evidence], policy) -> bool:
    """PPTP forwards (TCP on the policy's ports, to any host): from any source fails, limited to named
    outside addresses passes (a negation or an unresolved list name limits nothing provable); returns
    whether a router was read."""
    names = {t.address: t.label for t in SiteContext.from_site_facts(facts).targets}
    routers = readable_routers(facts, verdict, "NET-VPN-001", policy)
    for router in routers:
        failed = len(verdict.fails)
        for fwd in router.config.forwards:
            into = names.get(fwd.internal_ip or "", fwd.internal_ip or "?")
            if fwd.proto in ("other:gre", "other:47"):
                verdict.notes.append(ref_evidence(router, fwd.source_ref, f"GRE (PPTP's data channel) to {into}"))
            hit = reach(fwd, None, ports, "tcp", router.config)
            if hit is None:
                continue
            if not hit.exposed:
                verdict.notes.append(ref_evidence(router, fwd.source_ref, f"ignored PPTP forward to {into}: "
                                                  f"{hit.describe()}"))
            elif provable_restriction(fwd):
                passes.append(ref_evidence(router, fwd.source_ref, f"PPTP forward to {into} limited to named "
                                           f"sources: {hit.describe()}"))
            else:
                verdict.fails.append(ref_evidence(router, fwd.source_ref, f"PPTP forward to {into} from any "
                                                  f"internet address: {hit.describe()}"))
        if len(verdict.fails) == failed:
            passes.append(Evidence(f"router {router.name or router.source}: no PPTP forward (TCP "
                                   f"{', '.join(map(str, ports))}) from any internet source", "",
                                   f"router:{router.name}" if router.name else router.source,
                                   router_provenance(router)))
    return bool(routers)


def _server_vpn(facts: SiteFacts, verdict: Verdict, passes: list[Evidence]) -> list[Evidence]:
    """The servers' own VPN setting: on with a WAN port facing the internet directly fails, off passes;
    returns what stays undecided (on, but where the WAN port faces is not known)."""
    unknown: list[Evidence] = []
    for dev in facts.of_kind("allworx_server"):
        services, configured = dev.get("wan_services"), dev.get("vpn_configured")
        if services is not None and isinstance(services.value, dict) and isinstance(services.value.get("vpn"), bool):
            fact, on = services, services.value["vpn"]
        elif configured is not None and isinstance(configured.value, bool):
            fact, on = configured, configured.value
        else:
            continue
        label = dev.name or dev.address
        if not on:
            passes.append(fact_evidence(fact, f"the Allworx VPN is disabled on {label}'s WAN side"))
            continue
        facing, why = wan_faces_internet(dev, facts)
        evidence = fact_evidence(fact, f"the Allworx VPN (PPTP) is enabled on {label}'s WAN side and {why}")
        asked = [r for k, r in outside_probes(dev, facts).items() if k.startswith("pptp/")]
        if facing and asked and all(answered(r) is False or (isinstance(r, dict) and r.get("pptp") is False)
                                    for r in asked):
            evidence.detail += ", but the outside probe of that address gets no PPTP answer"   # what was seen wins
            passes.append(evidence)
            continue
        (verdict.fails if facing else unknown).append(evidence)
    return unknown


@register_check("NET-VPN-001")
def vpn_protocol(facts: SiteFacts, policy) -> list[CheckResult]:
    settings = policy.get("pptp") or {}
    vendors = [str(v) for v in settings.get("allworx_vendors", [])]
    verdict, passes, probed = Verdict(), [], Verdict()
    for key, record in (facts.outside or {}).items():
        if key.startswith("pptp/"):
            _probe_evidence(record, key, vendors, probed, passes)
    read = _forward_evidence(facts, port_ranges(settings.get("ports", [1723])), verdict, passes, policy)
    limited = [e for e in passes if e.detail.startswith("PPTP forward")]
    if probed.fails and limited and not verdict.fails and not verdict.errors and not verdict.manual:
        # the router lets only named sources in: the probe answering means it is one of them
        passes += [Evidence(e.detail + ": the outside probe must be one of the forward's allowed sources",
                            e.excerpt, e.source, e.provenance) for e in probed.fails]
        probed.fails = []
    verdict.fails += probed.fails
    verdict.errors += probed.errors
    unknown = _server_vpn(facts, verdict, passes)
    target = ", ".join(facts.site.wan_addresses) or ", ".join(r.name for r in facts.routers if r.name)
    if verdict.fails:
        first = verdict.fails[0].detail + (f" (+{len(verdict.fails) - 1} more)" if len(verdict.fails) > 1 else "")
        status, message, decisive = "fail", f"{first}. {WEAK}: {ADVICE}", verdict.fails
    elif verdict.errors:
        status, message, decisive = "error", "could not decide: " + verdict.errors[0].detail, verdict.errors
    elif verdict.manual:
        status, message, decisive = "manual", "a person must decide: " + verdict.manual[0].detail, verdict.manual
    elif passes and (read or any(e.source.startswith("probe:") for e in passes) or not unknown):
        status, decisive = "pass", passes
        message = "no PPTP VPN reachable from the internet from any source: " + passes[0].detail
    elif unknown:
        status, decisive = "manual", unknown
        message = (f"{unknown[0].detail}: whether the internet reaches it is not known; add the router or configure "
                   f"the outside probe. {WEAK}")
    else:
        return [CheckResult("NET-VPN-001", "not_applicable", "no outside PPTP probe, no router and no server VPN "
                            "setting: nothing to judge", router_device_id(facts), target, verdict.notes)]
    evidence = decisive + [e for e in verdict.errors + verdict.manual if e not in decisive] + \
        [e for e in passes + unknown if e not in decisive] + verdict.notes
    return [CheckResult("NET-VPN-001", status, message, router_device_id(facts), target, evidence,
                        strongest_provenance(decisive))]
