"""Shared plumbing of the per-device Allworx checks: one result per device, fact evidence, undecided cases.

A check's evidence depends on the channels of the device its catalog entry needs (`needs`: server_web,
server_probes, ...) and on the device as a whole (errors["gather"]: egress refused, the time budget). When
one of those failed, the check is `error` naming the device and the reason: when no fact decides
(undecided), and also when the facts left would make it pass but only declared or derived ones of the
device are there to say so (device_result) -- a failed channel wins over a declaration.
"""
from __future__ import annotations

from typing import Any, Callable

from device_drivers.facts import DeviceFacts, Fact
from hardening.checks.common.router import strongest_provenance
from hardening.model.catalog import check_meta, device_need
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


def needed_channels(check_id: str, kind: str) -> frozenset[str]:
    """The driver channels of a device of `kind` that the check needs (catalog `needs`); none for an id
    the catalog does not know."""
    try:
        needs = check_meta(check_id)["needs"]
    except KeyError:
        return frozenset()
    return frozenset(dn[1] for n in needs if (dn := device_need(n)) is not None and dn[0] == kind)


def failed_channels(check_id: str, dev: DeviceFacts, *, only_needed: bool = False) -> dict[str, str]:
    """channel -> why, for the failures the check's evidence depends on: the device as a whole ("gather")
    and the channels the check needs. A check that needs no channel of the device besides the login test
    (a login or inventory-only check) depends on every channel that failed, unless `only_needed`."""
    own = needed_channels(check_id, dev.kind) - {"credential_test"}
    if not own and not only_needed:
        return dict(sorted(dev.errors.items()))
    return {c: why for c, why in sorted(dev.errors.items()) if c == "gather" or c in own}


def _reasons(errors: dict[str, str]) -> str:
    return "; ".join(f"{channel}: {why}" for channel, why in errors.items())


def _unread_support(dev: DeviceFacts, evidence: list[Evidence]) -> list[Evidence]:
    """The evidence quoting a declared or derived fact of `dev` (a fact not read from the device)."""
    unread = {(f.source, f.provenance) for f in dev.facts.values() if f.provenance in ("declared", "derived")}
    return [e for e in evidence if (e.source, e.provenance) in unread]


def device_result(check_id: str, dev: DeviceFacts, status: str, message: str, evidence: list[Evidence],
                  observed: Any = None, expected: Any = None) -> CheckResult:
    """One result about `dev`; a decision resting only on declared facts says so in its message. A pass
    that rests on declared or derived facts of the device while a channel the check needs failed is an
    error instead: what the device would have said is not known (the login test's own semantics aside:
    its channel never overrides here)."""
    failed = failed_channels(check_id, dev, only_needed=True) if status == "pass" else {}
    unread = _unread_support(dev, evidence) if failed else []
    if unread:
        named = ", ".join(f"{channel} failed ({reason})" for channel, reason in failed.items())
        message = (f"could not decide on {target(dev)}: {named}; the pass would rest on facts not read from the "
                   f"device ({'; '.join(e.detail for e in unread)[:200]})")
        evidence = [e for e in channel_errors(dev) if e.source.split(":", 1)[1] in failed] + evidence
        return CheckResult(check_id, "error", message, dev.device_id, target(dev), evidence, "device",
                           observed, expected)
    if status in ("pass", "fail") and evidence and all(e.provenance == "declared" for e in evidence):
        message += DECLARED_NOTE
    return CheckResult(check_id, status, message, dev.device_id, target(dev), evidence,
                       strongest_provenance(evidence), observed, expected)


def channel_errors(dev: DeviceFacts) -> list[Evidence]:
    return [Evidence(f"{channel} channel failed: {why}", source=f"device:{channel}", provenance="device")
            for channel, why in sorted(dev.errors.items())]


def undecided(check_id: str, dev: DeviceFacts, missing: str, silent_message: str,
              silent_status: str = "manual", evidence: list[Evidence] | None = None) -> CheckResult:
    """No fact decides. A failed channel the check depends on (failed_channels) makes it an error naming
    the device and the reason (never a pass), with every other failed channel named after it; without
    such a failure the check needs a person (manual) or does not apply."""
    notes = list(evidence or [])
    failed = failed_channels(check_id, dev)
    if failed:
        others = {c: why for c, why in sorted(dev.errors.items()) if c not in failed}
        also = f"; also failed: {_reasons(others)}" if others else ""
        return CheckResult(check_id, "error", f"could not decide on {target(dev)}, {missing} not read: "
                           f"{_reasons(failed)}{also}", dev.device_id, target(dev), channel_errors(dev) + notes,
                           "device")
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
