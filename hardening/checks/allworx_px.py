"""Px Expander checks: default and weak admin passwords (exposure is a network check)."""
from __future__ import annotations

from hardening.checks._device import per_device, strength_check
from hardening.checks.allworx_server import credential_verdict
from hardening.facts import SiteFacts
from hardening.registry import register_check
from hardening.results import CheckResult

NO_PX = "no Px Expanders in the inventory"


@register_check("AWX-PX-001")
def px_default_password(facts: SiteFacts, policy) -> list[CheckResult]:
    pxs = facts.of_kind("px_expander")
    if not pxs:
        return [CheckResult("AWX-PX-001", "not_applicable", NO_PX)]
    return [credential_verdict("AWX-PX-001", dev, "the Px Expander admin login") for dev in pxs]


@register_check("AWX-PX-002")
def px_strong_password(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PX-002", facts.of_kind("px_expander"), "admin_password",
                      lambda dev, fact: strength_check("AWX-PX-002", dev, fact, "Px Expander admin password", policy),
                      "the Px admin password is not stored in the appliance: add it as a credential", NO_PX)
