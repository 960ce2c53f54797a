"""Shared plumbing of the per-device Allworx checks: one result per device, fact evidence, undecided cases."""
from __future__ import annotations

from typing import Any, Callable

from device_drivers.facts import DeviceFacts, Fact
from hardening.checks.common.router import strongest_provenance
from hardening.model.results import CheckResult, Evidence
from hardening.model.site import SiteFacts

DECLARED_NOTE = " (declared by an operator, not read from the device)"
NO_SERVER = "no Allworx server in inventory"
_EXCERPT_MAX = 300

OneDevice = Callable[[DeviceFacts], CheckResult]


def target(dev: DeviceFacts) -> str:
    """The device's inventory name, else its address."""
    return dev.name or dev.address


def fact_evidence(fact: Fact, detail: str, excerpt: str | None = None) -> Evidence:
    """Evidence quoting a fact; pass `excerpt` to replace the fact's own (never for a secret's value)."""
    text = fact.excerpt if excerpt is None else excerpt
    return Evidence(detail, str(text)[:_EXCERPT_MAX], fact.source, fact.provenance)


def device_result(check_id: str, dev: DeviceFacts, status: str, message: str, evidence: list[Evidence],
                  observed: Any = None, expected: Any = None) -> CheckResult:
    """One result about `dev`; a decision resting only on declared facts says so in its message."""
    if status in ("pass", "fail") and evidence and all(e.provenance == "declared" for e in evidence):
        message += DECLARED_NOTE
    return CheckResult(check_id, status, message, dev.device_id, target(dev), evidence,
                       strongest_provenance(evidence), observed, expected)


def channel_errors(dev: DeviceFacts) -> list[Evidence]:
    return [Evidence(f"{channel} channel failed: {why}", source=f"device:{channel}", provenance="device")
            for channel, why in sorted(dev.errors.items())]


def undecided(check_id: str, dev: DeviceFacts, missing: str, silent_message: str,
              silent_status: str = "manual", evidence: list[Evidence] | None = None) -> CheckResult:
    """No fact decides. A failed channel makes it an error with the reason (never a pass); without
    any failure the check needs a person (manual) or does not apply."""
    notes = list(evidence or [])
    if dev.errors:
        reasons = "; ".join(f"{channel}: {why}" for channel, why in sorted(dev.errors.items()))
        return CheckResult(check_id, "error", f"could not decide, {missing} not read: {reasons}",
                           dev.device_id, target(dev), channel_errors(dev) + notes, "device")
    return CheckResult(check_id, silent_status, silent_message, dev.device_id, target(dev), notes,
                       strongest_provenance(notes))


def bad_value(check_id: str, dev: DeviceFacts, key: str, fact: Fact, why: str) -> CheckResult:
    """A fact whose value cannot be read as the check needs: error naming the key and the problem."""
    return CheckResult(check_id, "error", f"could not decide: fact {key} {why}", dev.device_id, target(dev),
                       [fact_evidence(fact, f"{key} = {str(fact.value)[:80]!r}")], fact.provenance)


def per_device(check_id: str, facts: SiteFacts, kinds: tuple[str, ...], none_message: str,
               one: OneDevice) -> list[CheckResult]:
    """`one(dev)` for every device of the kinds; a single site-level not_applicable when there is none."""
    devices = facts.of_kind(*kinds)
    if not devices:
        return [CheckResult(check_id, "not_applicable", none_message)]
    return [one(dev) for dev in devices]


def read_fact(check_id: str, dev: DeviceFacts, key: str, silent_message: str, kind: type | tuple = object,
              kind_words: str = "") -> tuple[Fact | None, CheckResult | None]:
    """The fact `key` when present and of the `kind` wanted, else (None, the result to return instead):
    undecided when it is missing, an error naming the key when its value is of another type."""
    fact = dev.get(key)
    if fact is None:
        return None, undecided(check_id, dev, key, silent_message)
    if not isinstance(fact.value, kind):
        return None, bad_value(check_id, dev, key, fact, kind_words or "has the wrong type")
    return fact, None


def bool_setting(check_id: str, dev: DeviceFacts, key: str, what: str) -> tuple[Fact | None, CheckResult | None]:
    """A boolean setting, or the result to return instead (see read_fact)."""
    return read_fact(check_id, dev, key, f"{what} unknown: read it from the device or declare {key}", bool,
                     "is not true/false")


def outside_probes(dev: DeviceFacts, facts: SiteFacts) -> dict[str, Any]:
    """The site's outside-probe results, when they are about this server's WAN address: the only server
    at the site, or its WAN address is one the site declares."""
    if not facts.outside:
        return {}
    servers = facts.of_kind("allworx_server")
    if len(servers) == 1 or (dev.wan_address and dev.wan_address in facts.site.wan_addresses):
        return facts.outside
    return {}
