"""Phone-side checks: the server's phone admin password, PnP key and PnP switches; phone web logins."""
from __future__ import annotations

from device_drivers.facts import DeviceFacts
from hardening.checks.common import (
    NO_SERVER,
    bool_setting,
    device_result,
    fact_evidence,
    login_result,
    per_device,
    prior_verdict,
    strength_result,
)
from hardening.checks.registry import register_check
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts

SERVER = ("allworx_server",)
NO_PHONES = "no phones in inventory"


@register_check("AWX-PHN-001")
def phone_admin_password(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PHN-001", facts, SERVER, NO_SERVER, lambda dev: strength_result(
        "AWX-PHN-001", dev, "phone_admin_password", "phone administration password", policy, [facts.site.name],
        "phone administration password unknown: read Servers > VoIP or store it as a credential"))


@register_check("AWX-PHN-002")
def pnp_secret_key(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PHN-002", facts, SERVER, NO_SERVER, lambda dev: strength_result(
        "AWX-PHN-002", dev, "pnp_secret_key", "Plug 'n' Play secret key", policy, [facts.site.name],
        "Plug 'n' Play secret key unknown: read it from the web admin or store it as a credential"))


def _window_note(facts: SiteFacts) -> str:
    until = getattr(facts, "install_window_until", None)     # optional: the audit may pass the closing time
    return f"an install window is open until {until}" if until else "an install window is open"


def _pnp_creates(check_id: str, key: str, label: str, facts: SiteFacts) -> list[CheckResult]:
    def one(dev: DeviceFacts) -> CheckResult:
        fact, undecided_result = bool_setting(check_id, dev, key, label)
        if fact is None:
            return undecided_result
        evidence = [fact_evidence(fact, f"{label}: {'allowed' if fact.value else 'disabled'}")]
        if not fact.value:
            return device_result(check_id, dev, "pass", f"{label} are disabled", evidence, False, False)
        if facts.install_window_open:
            evidence.append(Evidence(_window_note(facts), source="install window", provenance="declared"))
            return device_result(check_id, dev, "pass", f"{label} are allowed, and {_window_note(facts)}: "
                                 "disable them when it closes", evidence, True, False)
        return device_result(check_id, dev, "fail", f"{label} are allowed outside an install window", evidence,
                             True, False)
    return per_device(check_id, facts, SERVER, NO_SERVER, one)


@register_check("AWX-PHN-004")
def lan_pnp_creates(facts: SiteFacts, policy) -> list[CheckResult]:
    return _pnp_creates("AWX-PHN-004", "pnp_lan_creates_enabled", "phone creates via LAN Plug 'n' Play", facts)


@register_check("AWX-PHN-005")
def wan_pnp_creates(facts: SiteFacts, policy) -> list[CheckResult]:
    return _pnp_creates("AWX-PHN-005", "pnp_wan_creates_enabled", "phone creates via WAN Plug 'n' Play", facts)


@register_check("AWX-PHN-006")
def phone_default_logins(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PHN-006", facts, ("allworx_phone",), NO_PHONES,
                      lambda dev: login_result("AWX-PHN-006", dev, "the phone web UI",
                                               prior_verdict(facts, "AWX-PHN-006", dev)))
