"""Gather a site's facts: every device concurrently, each within the audit's time budget.

Drivers do the I/O; this module only fans out, collects, and turns every failure into an error
recorded with the device (so a check sees "could not read", never a silent pass). No Flask, no DB.
"""
from __future__ import annotations

import concurrent.futures as cf
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from device_drivers import driver_class, egress, get_driver
from device_drivers.exceptions import DriverError, HostKeyMismatch
from device_drivers.facts import DeviceFacts, Fact
from device_drivers.inventory import DeviceSpec
from hardening.model.policy import weak_passwords, weak_set
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

ALLWORX_KINDS = ("allworx_server", "allworx_phone", "px_expander")
NETWORK_KINDS = ("router", "switch")


@dataclass
class GatherResult:
    facts: SiteFacts
    host_keys_seen: dict[int, dict] = field(default_factory=dict)       # first contact: pin these
    host_key_mismatches: dict[int, dict] = field(default_factory=dict)  # changed keys, refused
    seconds: float = 0.0


def _gather_allworx(spec: DeviceSpec, options: dict[str, Any]) -> DeviceFacts:
    entry = {"kind": spec.kind, "name": spec.name, "device_id": spec.device_id, "address": spec.address,
             "wan_address": spec.wan_address, "ports": spec.ports, "snmp": spec.snmp, "model": spec.model,
             "declared_facts": spec.declared_facts, "credentials": spec.credentials}
    driver = driver_class(spec.kind).from_inventory(entry, **{"policy": options.get("policy"),
        "weak_passwords": weak_passwords(), **options.get("allworx", {})})
    known = spec.credentials.get("password")
    if known and known.lower() not in weak_set():
        # The appliance holds this login's real password and it is not a default: a default cannot get in
        # (one account), so nothing is guessed live -- guessing could lock the real admin out.
        facts = driver.gather()
        if "default_credential_accepted" not in facts.facts:
            facts.facts["default_credential_accepted"] = Fact(
                False, "derived", "inventory credential", "the login's stored password is not on the weak list")
            facts.facts["credential_test"] = Fact({"attempts": 0, "stopped_reason": None,
                                                   "skipped": "stored password is not a default"},
                                                  "derived", "inventory credential")
        return facts
    return driver.gather(take_attempt=options.get("take_attempt"))


def _gather_router(spec: DeviceSpec, options: dict[str, Any], result: GatherResult) -> RouterFacts:
    creds = spec.credentials
    driver = get_driver(spec.device_type, host=spec.address, username=creds.get("username", ""),
                        password=creds.get("password"), secret=creds.get("enable_secret"),
                        port=spec.ports.get("ssh", 22), host_key_pin=spec.host_key_pin,
                        **options.get("router", {}))
    source = f"ssh:{spec.address}"
    try:
        with driver:
            config = driver.get_config()
            if spec.host_key_pin is None and driver.presented_host_key:
                result.host_keys_seen[spec.device_id] = driver.presented_host_key
        return RouterFacts(spec.device_id, spec.name, config, source=source)
    except HostKeyMismatch as exc:
        if exc.presented_key:               # the full key, so an admin can accept it after checking
            result.host_key_mismatches[spec.device_id] = exc.presented_key
        return RouterFacts(spec.device_id, spec.name, None, error=str(exc), source=source)
    except DriverError as exc:
        return RouterFacts(spec.device_id, spec.name, None, error=str(exc), source=source)


def _one(spec: DeviceSpec, options: dict[str, Any], result: GatherResult):
    if options.get("egress") is not None:
        try:
            egress.check(spec.address, options["egress"])
        except egress.EgressRefused as exc:
            return _failed(spec, str(exc))
    if spec.kind in ALLWORX_KINDS:
        return _gather_allworx(spec, options)
    if spec.kind in NETWORK_KINDS and spec.device_type:
        return _gather_router(spec, options, result)
    return None


def _failed(spec: DeviceSpec, reason: str):
    if spec.kind in NETWORK_KINDS:
        return RouterFacts(spec.device_id, spec.name, None, error=reason, source=f"ssh:{spec.address}")
    facts = DeviceFacts(spec.device_id, spec.kind, spec.name, spec.address, spec.wan_address)
    facts.errors["gather"] = reason
    return facts


def gather_site(site: SiteInfo, devices: list[DeviceSpec], *, budget_seconds: float = 60.0, workers: int = 32,
                options: dict[str, Any] | None = None,
                on_progress: Callable[[int, int, str], None] | None = None, **site_extras: Any) -> GatherResult:
    """Facts of every device; a device not done within the budget gets an error, never a pass.

    site_extras: outside, sensor_events, install_window_open (passed through to SiteFacts).
    """
    started = time.monotonic()
    result = GatherResult(SiteFacts(site, **site_extras))
    options = options or {}
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(workers, len(devices) or 1)),
                                 thread_name_prefix="gather")
    futures = {pool.submit(_one, spec, options, result): spec for spec in sorted(devices, key=_slowest_first)}
    done_count = 0
    try:
        for future in cf.as_completed(futures, timeout=budget_seconds):
            spec = futures[future]
            _collect(result, spec, future)
            done_count += 1
            if on_progress:
                on_progress(done_count, len(devices), spec.name)
    except cf.TimeoutError:
        for future, spec in futures.items():
            if not future.done():
                _add(result, _failed(spec, f"no answer within the audit's time budget of {budget_seconds:g} s"))
            elif not _collected(result, spec):
                _collect(result, spec, future)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)      # a hung driver must not hold the audit
    result.seconds = time.monotonic() - started
    return result


def _slowest_first(spec: DeviceSpec) -> int:
    """Routers (an SSH session), then the server (SNMP, web, mail probes), then phones and expanders: queued
    last, one slow device would run alone at the end of the audit (measured in bench/site_audit.py)."""
    return 0 if spec.kind in NETWORK_KINDS else 1 if spec.kind == "allworx_server" else 2


def _collect(result: GatherResult, spec: DeviceSpec, future: cf.Future) -> None:
    try:
        item = future.result()
    except Exception as exc:       # a driver bug becomes this device's error, never a crash or a pass
        item = _failed(spec, f"{type(exc).__name__}: {exc}")
    _add(result, item)


def _add(result: GatherResult, item) -> None:
    if isinstance(item, RouterFacts):
        result.facts.routers.append(item)
    elif isinstance(item, DeviceFacts):
        result.facts.devices.append(item)


def _collected(result: GatherResult, spec: DeviceSpec) -> bool:
    return any(x.device_id == spec.device_id for x in result.facts.devices + result.facts.routers)
