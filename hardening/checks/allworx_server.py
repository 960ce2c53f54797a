"""Server checks: software level, WAN services, mail ports, admin credentials, VPN, WAN mode."""
from __future__ import annotations

import ipaddress

from hardening.checks._device import fact_evidence, missing, per_device, result, strength_check
from hardening.facts import DeviceFacts, Fact, SiteFacts
from hardening.registry import register_check
from hardening.results import CheckResult, Evidence

NO_SERVER = "no Allworx server in the inventory"
SERVER = ("allworx_server",)


def _servers(facts: SiteFacts) -> list[DeviceFacts]:
    return facts.of_kind(*SERVER)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(text).strip().split("."))


@register_check("AWX-SRV-001")
def software_level(facts: SiteFacts, policy) -> list[CheckResult]:
    def decide(dev: DeviceFacts, fact: Fact) -> CheckResult:
        ev = [fact_evidence(fact, f"software version {fact.value}")]
        try:
            version = _version(fact.value)
        except ValueError:
            return result("AWX-SRV-001", dev, "error", f"unreadable version {fact.value!r}", ev)
        line = ".".join(str(p) for p in version[:2])
        floor = _version(policy["min_version_floor"])
        if version[:2] < floor:
            return result("AWX-SRV-001", dev, "fail", f"{fact.value} is older than the {policy['min_version_floor']}"
                          " line, which no longer gets security fixes", ev)
        minimum = policy["min_versions"].get(line)
        if minimum is None:
            status = "pass" if policy["unknown_line_policy"] == "pass" else "manual"
            return result("AWX-SRV-001", dev, status, f"no minimum build on file for line {line}: check "
                          "hardening/data/policy.yaml min_versions against the vendor's current release", ev)
        if version < _version(minimum):
            return result("AWX-SRV-001", dev, "fail", f"{fact.value} is below the minimum {minimum} of line {line}",
                          ev, observed=fact.value, expected=f">= {minimum}")
        return result("AWX-SRV-001", dev, "pass", f"{fact.value} is at or above {minimum}", ev)
    return per_device("AWX-SRV-001", _servers(facts), "software_version", decide,
                      "software version unknown: declare it or enable SNMP/web admin reading", NO_SERVER)


def _is_required(name: str, required: set[str], policy) -> bool:
    """A service is required by name ('sip') or by any of its port specs ('udp/5060-5061')."""
    specs = (policy.get("wan_services") or {}).get(name, [])
    return name in required or any(spec in required for spec in specs)


@register_check("AWX-SRV-003")
def wan_services(facts: SiteFacts, policy) -> list[CheckResult]:
    required = set(facts.site.required_wan_services)

    def decide(dev: DeviceFacts, fact: Fact) -> CheckResult:
        enabled = sorted(name for name, on in (fact.value or {}).items() if on)
        extra = [name for name in enabled if not _is_required(name, required, policy)]
        ev = [fact_evidence(fact, f"WAN services enabled: {', '.join(enabled) or 'none'}; "
                                  f"required by the site: {', '.join(sorted(required)) or 'none'}")]
        if extra:
            return result("AWX-SRV-003", dev, "fail", f"WAN services enabled but not required: {', '.join(extra)}",
                          ev, observed=enabled, expected=sorted(required))
        return result("AWX-SRV-003", dev, "pass", "only required WAN services are enabled", ev)
    return per_device("AWX-SRV-003", _servers(facts), "wan_services", decide,
                      "WAN services unknown: read the web admin or declare them", NO_SERVER)


@register_check("AWX-SRV-004")
def mail_ports(facts: SiteFacts, policy) -> list[CheckResult]:
    out = []
    for dev in _servers(facts) or [None]:
        if dev is None:
            return [CheckResult("AWX-SRV-004", "not_applicable", NO_SERVER)]
        out.append(_mail_ports(dev, policy))
    return out


def _mail_ports(dev: DeviceFacts, policy) -> CheckResult:
    smtp, imap = dev.get("smtp_port"), dev.get("imap_port")
    if smtp is None and imap is None:
        return _mail_from_banners(dev, policy)
    evidence, bad = [], []
    for fact, name, standard in ((smtp, "SMTP", policy["standard_smtp_ports"]),
                                 (imap, "IMAP", policy["standard_imap_ports"])):
        if fact is None:
            continue
        evidence.append(fact_evidence(fact, f"voicemail {name} on port {fact.value}"))
        if fact.value in standard:
            bad.append(f"{name} on standard port {fact.value}")
    if bad:
        return result("AWX-SRV-004", dev, "fail", "; ".join(bad), evidence)
    return result("AWX-SRV-004", dev, "pass", "voicemail SMTP/IMAP are on non-standard ports", evidence)


def _mail_from_banners(dev: DeviceFacts, policy) -> CheckResult:
    banners = dev.value("banners") or {}
    standard = set(policy["standard_smtp_ports"]) | set(policy["standard_imap_ports"])
    hits = [(k, v) for k, v in banners.items() if "InSciTek OIS" in str(v) and _port(k) in standard]
    if hits:
        fact = dev.get("banners")
        return result("AWX-SRV-004", dev, "fail", "the Allworx mail service answers on a standard port",
                      [Evidence(f"{k} greets: {v[:80]}", v[:200], fact.source, fact.provenance) for k, v in hits])
    return missing("AWX-SRV-004", dev, "smtp_port", "mail ports unknown: read the web admin or declare them")


def _port(key: str) -> int:
    try:
        return int(str(key).rsplit("/", 1)[-1])
    except ValueError:
        return -1


def credential_verdict(check_id: str, dev: DeviceFacts, what: str) -> CheckResult:
    fact = dev.get("default_credential_accepted")
    test = dev.value("credential_test") or {}
    if fact is None:
        stopped = test.get("stopped_reason") or dev.errors.get("credential_test")
        if stopped:
            return result(check_id, dev, "error", f"credential test not decided: {stopped}",
                          [Evidence(f"attempts {test.get('attempts', '?')}", source="credential_test",
                                    provenance="observed")])
        return missing(check_id, dev, "default_credential_accepted",
                       f"{what} not tested: enable gentle credential tests or declare the result")
    ev = [fact_evidence(fact, f"gentle login test, {test.get('attempts', '?')} attempt(s)")]
    if fact.value:
        return result(check_id, dev, "fail", f"{what} accepts a default or trivial password", ev)
    return result(check_id, dev, "pass", f"{what} rejected every default/trivial password tried", ev)


@register_check("AWX-SRV-005")
def admin_default_credentials(facts: SiteFacts, policy) -> list[CheckResult]:
    servers = _servers(facts)
    if not servers:
        return [CheckResult("AWX-SRV-005", "not_applicable", NO_SERVER)]
    return [credential_verdict("AWX-SRV-005", dev, "the server admin login") for dev in servers]


@register_check("AWX-SRV-006")
def strong_passwords(facts: SiteFacts, policy) -> list[CheckResult]:
    def decide(dev: DeviceFacts, fact: Fact) -> CheckResult:
        checked = strength_check("AWX-SRV-006", dev, fact, "server admin password", policy)
        policy_fact = dev.get("require_strong_passwords")
        if checked.status == "pass" and policy_fact is not None and policy_fact.value is not True:
            checked.status = "fail"
            checked.message = "'Require Strong Passwords' is off, so users may set weak passwords"
            checked.evidence.append(fact_evidence(policy_fact, "Require Strong Passwords: off"))
        return checked
    return per_device("AWX-SRV-006", _servers(facts), "admin_password", decide,
                      "the admin password is not stored in the appliance: add it as a credential", NO_SERVER)


@register_check("AWX-SRV-008")
def vpn_for_maintenance(facts: SiteFacts, policy) -> list[CheckResult]:
    def decide(dev: DeviceFacts, fact: Fact) -> CheckResult:
        ev = [fact_evidence(fact, f"Allworx VPN {'configured' if fact.value else 'not configured'}")]
        if not fact.value:
            return result("AWX-SRV-008", dev, "fail", "remote maintenance has no Allworx VPN", ev)
        admin = dev.get("wan_admin_enabled")
        if admin is not None and admin.value:
            ev.append(fact_evidence(admin, "WAN Admin enabled"))
            return result("AWX-SRV-008", dev, "fail", "VPN configured, but admin is also open on the WAN", ev)
        return result("AWX-SRV-008", dev, "pass", "remote maintenance can go through the Allworx VPN", ev)
    return per_device("AWX-SRV-008", _servers(facts), "vpn_configured", decide,
                      "VPN state unknown: read the web admin or declare it", NO_SERVER)


def _internet_facing(dev: DeviceFacts, facts: SiteFacts) -> bool:
    if dev.wan_address is None:
        return False
    if dev.wan_address in facts.site.wan_addresses:
        return True
    return ipaddress.ip_address(dev.wan_address).is_global


@register_check("AWX-WAN-001")
def nat_firewall_mode(facts: SiteFacts, policy) -> list[CheckResult]:
    def decide(dev: DeviceFacts, fact: Fact) -> CheckResult:
        ev = [fact_evidence(fact, f"Network Mode: {fact.value}")]
        if fact.value == "nat_firewall":
            return result("AWX-WAN-001", dev, "pass", "the WAN port runs in NAT Firewall mode", ev)
        if fact.value == "standard_router" and not _internet_facing(dev, facts) and dev.wan_address:
            return result("AWX-WAN-001", dev, "pass", "Standard Router mode, but the WAN side is not internet-facing", ev)
        return result("AWX-WAN-001", dev, "fail", f"Network Mode is {fact.value}: no NAT and no firewall on the WAN",
                      ev, observed=fact.value, expected="nat_firewall")
    return per_device("AWX-WAN-001", _servers(facts), "network_mode", decide,
                      "network mode unknown: read the web admin or declare it", NO_SERVER)


@register_check("AWX-WAN-002")
def stealth_wan(facts: SiteFacts, policy) -> list[CheckResult]:
    out = []
    for dev in _servers(facts):
        probe = (facts.outside or {}).get("icmp")
        answered = dev.get("wan_icmp_answers")
        stealth = dev.get("stealth")
        if probe is not None:
            heard = probe.get("answered") if isinstance(probe, dict) else bool(probe)
            ev = [Evidence(f"outside ICMP echo to the WAN address: {'answered' if heard else 'no answer'}",
                           str(probe)[:200], "probe:icmp", "observed")]
            out.append(result("AWX-WAN-002", dev, "fail" if heard else "pass",
                              "the WAN answers ping" if heard else "the WAN does not answer ping", ev))
        elif answered is not None:
            out.append(result("AWX-WAN-002", dev, "fail" if answered.value else "pass",
                              "the WAN answers ping" if answered.value else "the WAN does not answer ping",
                              [fact_evidence(answered, "WAN ICMP echo")]))
        elif stealth is not None:
            out.append(result("AWX-WAN-002", dev, "pass" if stealth.value else "fail",
                              "Stealth DMZ is on" if stealth.value else "Stealth DMZ is off: the WAN answers ping",
                              [fact_evidence(stealth, f"Stealth DMZ {'on' if stealth.value else 'off'}")]))
        else:
            out.append(missing("AWX-WAN-002", dev, "stealth", "no outside probe and no stealth setting read"))
    return out or [CheckResult("AWX-WAN-002", "not_applicable", NO_SERVER)]
