"""Phone-side checks: the server's phone admin password and PnP key and switches, phone web logins."""
from __future__ import annotations

from hardening.checks._device import fact_evidence, per_device, result, strength_check
from hardening.checks.allworx_server import NO_SERVER, credential_verdict
from hardening.facts import DeviceFacts, Fact, SiteFacts
from hardening.registry import register_check
from hardening.results import CheckResult


@register_check("AWX-PHN-001")
def phone_admin_password(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PHN-001", facts.of_kind("allworx_server"), "phone_admin_password",
                      lambda dev, fact: strength_check("AWX-PHN-001", dev, fact, "phone administration password",
                                                       policy),
                      "phone administration password not read: give the appliance the server's admin login",
                      NO_SERVER)


@register_check("AWX-PHN-002")
def pnp_secret_key(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PHN-002", facts.of_kind("allworx_server"), "pnp_secret_key",
                      lambda dev, fact: strength_check("AWX-PHN-002", dev, fact, "Plug 'n' Play secret key", policy),
                      "Plug 'n' Play secret key not read: give the appliance the server's admin login", NO_SERVER)


def _pnp_check(check_id: str, key: str, label: str, facts: SiteFacts) -> list[CheckResult]:
    def decide(dev: DeviceFacts, fact: Fact) -> CheckResult:
        ev = [fact_evidence(fact, f"{label}: {'allowed' if fact.value else 'disabled'}")]
        if not fact.value:
            return result(check_id, dev, "pass", f"{label} are disabled", ev)
        if facts.install_window_open:
            return result(check_id, dev, "pass", f"{label} are allowed inside an open install window", ev)
        return result(check_id, dev, "fail", f"{label} are allowed outside an install window", ev)
    return per_device(check_id, facts.of_kind("allworx_server"), key, decide,
                      f"{label} unknown: read the web admin or declare it", NO_SERVER)


@register_check("AWX-PHN-004")
def lan_pnp_creates(facts: SiteFacts, policy) -> list[CheckResult]:
    return _pnp_check("AWX-PHN-004", "pnp_lan_creates_enabled", "phone creates via LAN Plug 'n' Play", facts)


@register_check("AWX-PHN-005")
def wan_pnp_creates(facts: SiteFacts, policy) -> list[CheckResult]:
    return _pnp_check("AWX-PHN-005", "pnp_wan_creates_enabled", "phone creates via WAN Plug 'n' Play", facts)


@register_check("AWX-PHN-006")
def phone_default_logins(facts: SiteFacts, policy) -> list[CheckResult]:
    phones = facts.of_kind("allworx_phone")
    if not phones:
        return [CheckResult("AWX-PHN-006", "not_applicable", "no phones in the inventory")]
    return [credential_verdict("AWX-PHN-006", dev, "the phone web UI") for dev in phones]
