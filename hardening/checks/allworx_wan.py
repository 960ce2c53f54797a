"""The server's WAN side: remote maintenance through the VPN, NAT Firewall mode, a stealthy WAN."""
from __future__ import annotations

import ipaddress

from device_drivers.facts import DeviceFacts
from firewall.site_context import lan_only_sources
from hardening.checks.common import (
    ALLWORX_ROLES,
    NO_ALLWORX,
    NO_SERVER,
    bool_setting,
    device_result,
    fact_evidence,
    forward_check,
    outside_probes,
    per_device,
    read_fact,
    undecided,
)
from hardening.checks.registry import register_check
from hardening.model.probes import answered
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
        if forwards.status == "error":
            return device_result("AWX-SRV-008", dev, "error", f"VPN configured, but router forwards unknown: "
                                 f"{forwards.message}", forwards.evidence + evidence)
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
