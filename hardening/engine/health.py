"""Per-device health of an audit: which inventory devices it reached, on which channels, and why not.

Built from what gather saw (hardening.engine.gather): every Allworx channel the audit asked for
(DeviceFacts.errors holds channel -> why; device_drivers.allworx.errors puts the reason first), the
router's SSH read (RouterFacts.error, classified from the driver error while it is at hand), and the
site's outside probe. One entry per inventory device, in inventory order, then one site entry (kind
"site", device_id None) for the outside probe when the audit asked it (a probe is configured and the
site declares a WAN address; otherwise the checks that need it say so themselves):

    {"device_id", "name", "kind", "address", "reached": True | False | None,
     "channels": {channel: {"state": "ok" | "failed" | "not_contacted", "reason", "detail"}},
     "reason": the worst channel failure, or None}

`reached`: True when at least one channel the audit asked for answered (was read), False when every
one of them failed, None when nothing was asked of the device (no selected check needs it). `reason`
is a short word from REASONS; `detail` is the driver's own message (drivers never put a secret in one).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from device_drivers import egress
from device_drivers.exceptions import (
    AuthFailed,
    DeviceTimeout,
    GarbledOutput,
    HostKeyMismatch,
    UnexpectedPrompt,
    WrongPlatform,
)
from device_drivers.facts import DeviceFacts
from device_drivers.inventory import DeviceSpec
from hardening.engine.contact import ALLWORX_KINDS, NETWORK_KINDS, allworx_contact
from hardening.model.probes import failure
from hardening.model.scoring import SITE_ENTRY_KIND
from hardening.model.site import RouterFacts, SiteFacts

ALLWORX_CHANNELS = ("snmp", "web", "probes", "credential_test")
# The short reasons, worst first: an entry's `reason` is the worst of its failed channels'. The first
# ones say nothing answered (a wrong address, a dead device); later ones that something answered.
REASONS = ("egress refused", "host key changed", "connection refused", "connection reset", "unreachable",
           "timed out", "no answer", "authentication failed", "no stored password", "locked out",
           "wrong platform", "garbled answer", "unexpected prompt", "error", "not decided")
_DETAIL_MAX = 300
_PROBE_STATES = re.compile(r"(?:tcp|udp)/\d+ (open|closed|filtered|error)")


def classify(text: str) -> str:
    """The short reason (one of REASONS) of a channel failure's message."""
    low = str(text or "").strip().lower()
    if "allowed device networks" in low or "nothing was sent" in low:
        return "egress refused"
    if "host key changed" in low:
        return "host key changed"
    if low.startswith("lockout sign"):
        return "locked out"
    if "no password in the inventory" in low:
        return "no stored password"
    if low.startswith("undecided"):
        return "not decided"
    if "no answer on any probed port" in low:
        states = set(_PROBE_STATES.findall(low))
        return {frozenset({"closed"}): "connection refused", frozenset({"filtered"}): "timed out"}.get(
            frozenset(states), "no answer")
    if low.startswith("auth failure") or "authentication failed" in low or "login rejected" in low:
        return "authentication failed"
    if "connection refused" in low:
        return "connection refused"
    if "connection reset" in low:
        return "connection reset"
    if low.startswith("timeout") or "timed out" in low or "no answer within" in low or " in time" in low:
        return "timed out"
    if low.startswith("unreachable") or "no ssh service answered" in low or "no route" in low:
        return "unreachable"
    if low.startswith("garbled") or "could not be parsed" in low:
        return "garbled answer"
    if "prompt" in low:
        return "unexpected prompt"
    return "error"


def reason_of(exc: BaseException) -> str:
    """The short reason of a driver error, by its class first (the message only when the class says little)."""
    if isinstance(exc, egress.EgressRefused):
        return "egress refused"
    if isinstance(exc, HostKeyMismatch):
        return "host key changed"
    if isinstance(exc, AuthFailed):
        return "locked out" if str(exc).lower().startswith("lockout sign") else "authentication failed"
    if isinstance(exc, DeviceTimeout):
        return "timed out"
    if isinstance(exc, UnexpectedPrompt):
        return "unexpected prompt"
    if isinstance(exc, WrongPlatform):           # the device_type names another platform than the output's
        return "wrong platform"
    if isinstance(exc, GarbledOutput):
        return "garbled answer"
    return classify(str(exc))


def worst(reasons: Iterable[str | None]) -> str | None:
    found = [r for r in reasons if r]
    return min(found, key=lambda r: REASONS.index(r) if r in REASONS else len(REASONS), default=None)


def _channel(state: str, reason: str | None = None, detail: str | None = None) -> dict[str, Any]:
    return {"state": state, "reason": reason, "detail": str(detail)[:_DETAIL_MAX] if detail else None}


def _entry(spec: DeviceSpec, channels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    states = [c for c in channels.values() if c["state"] != "not_contacted"]
    failed = [c for c in states if c["state"] == "failed"]
    if any(c["state"] == "ok" for c in states):
        reached: bool | None = True
    elif any(c["reason"] != "not decided" for c in failed):
        reached = False
    else:
        reached = None            # nothing asked, or only a login test that made no attempt
    return {"device_id": spec.device_id, "name": spec.name, "kind": spec.kind, "address": spec.address,
            "reached": reached, "channels": channels, "reason": worst(c["reason"] for c in failed)}


def _credential_test(dev: DeviceFacts, budget: bool) -> dict[str, Any]:
    test = dev.get("credential_test")
    if test is not None and test.provenance == "observed":
        return _channel("ok")
    skipped = test.value.get("skipped") if test is not None and isinstance(test.value, dict) else None
    if skipped:
        return _channel("not_contacted", f"not run: {skipped}")
    return _channel("not_contacted", None if budget else "not run: the appliance runs no credential tests")


def _allworx(spec: DeviceSpec, dev: DeviceFacts | None, needs: frozenset[str], budget: bool,
             override: str | None) -> dict[str, Any]:
    contact = allworx_contact(spec, needs)
    asked = set(contact.channels) | ({"credential_test"} if contact.credential_test else set())
    errors = dev.errors if dev is not None else {"gather": "no facts were collected"}
    whole = errors.get("gather")          # the device as a whole: egress refused, the time budget, a bug
    channels = {}
    for name in ALLWORX_CHANNELS:
        why = whole or errors.get(name)
        if name not in asked:
            channels[name] = _channel("not_contacted")
        elif why:
            channels[name] = _channel("failed", (override if whole else None) or classify(why), why)
        elif name == "credential_test":
            channels[name] = _credential_test(dev, budget)
        else:
            channels[name] = _channel("ok")
    return _entry(spec, channels)


def _router(spec: DeviceSpec, router: RouterFacts | None, needs: frozenset[str], override: str | None):
    if "router_config" not in needs:
        ssh = _channel("not_contacted")
    elif not spec.device_type:
        ssh = _channel("not_contacted", "no device_type: the router is not read over SSH")
    elif router is None:
        ssh = _channel("failed", "error", "no result was collected")
    elif router.error or router.config is None:
        why = router.error or "no configuration was read"
        ssh = _channel("failed", override or classify(why), why)
    else:
        ssh = _channel("ok")
    return _entry(spec, {"ssh": ssh})


def _outside(site: SiteFacts, target: str | None) -> dict[str, Any]:
    spec = DeviceSpec(None, SITE_ENTRY_KIND, site.site.name, target or "")
    records = site.outside
    if records is None:
        probe = _channel("failed", "error", "the outside probe was asked, but no answer was collected")
    elif records.get("error"):
        probe = _channel("failed", classify(records["error"]), records["error"])
    else:
        failures = [failure(record) for record in records.values()]
        if records and all(failures):
            probe = _channel("failed", classify(failures[0]), failures[0])
        else:
            probe = _channel("ok")
    entry = _entry(spec, {"outside_probe": probe})
    entry["address"] = target
    return entry


def build(devices: list[DeviceSpec], facts: SiteFacts, needs: frozenset[str], reasons: dict[Any, str],
          *, credential_tests: bool, outside_target: str | None, outside_asked: bool) -> list[dict[str, Any]]:
    """The audit's health list (see the module docstring). `reasons`: device id -> the short reason of a
    driver error seen while gathering (egress refused, host key changed ...), which beats the message."""
    by_id = {d.device_id: d for d in facts.devices}
    routers = {r.device_id: r for r in facts.routers}
    out = []
    for spec in devices:
        override = reasons.get(spec.device_id)
        if spec.kind in ALLWORX_KINDS:
            out.append(_allworx(spec, by_id.get(spec.device_id), needs, credential_tests, override))
        elif spec.kind in NETWORK_KINDS:
            out.append(_router(spec, routers.get(spec.device_id), needs, override))
        else:
            out.append(_entry(spec, {}))
    if outside_asked:
        out.append(_outside(facts, outside_target))
    return out
