"""Px Expander checks: default and weak admin passwords (web exposure is the router check AWX-PX-003)."""
from __future__ import annotations

from hardening.checks.common import login_result, per_device, prior_verdict, strength_result
from hardening.checks.registry import register_check
from hardening.model.results import CheckResult
from hardening.model.site import SiteFacts

PX = ("px_expander",)
NO_PX = "no Px Expanders in inventory"


@register_check("AWX-PX-001")
def px_default_password(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PX-001", facts, PX, NO_PX,
                      lambda dev: login_result("AWX-PX-001", dev, "the Px Expander admin login",
                                               prior_verdict(facts, "AWX-PX-001", dev)))


@register_check("AWX-PX-002")
def px_strong_password(facts: SiteFacts, policy) -> list[CheckResult]:
    return per_device("AWX-PX-002", facts, PX, NO_PX, lambda dev: strength_result(
        "AWX-PX-002", dev, "admin_password", "Px Expander admin password", policy, [facts.site.name],
        "the Px Expander admin password is not stored in the appliance: add it as a credential"))
