"""Gather a site's facts: every device concurrently, each within the audit's time budget.

Drivers do the I/O; this module only fans out, collects, and turns every failure into an error
recorded with the device (so a check sees "could not read", never a silent pass). No Flask, no DB.
Only what the selected checks need is contacted (`needs`, see hardening.engine.contact): a router only
for router_config, an Allworx device only on the channels its kind's needs name, the credential test
only when needed and budgeted, the outside probe only when asked; afterwards every need is proven
contacted on every device it concerns (ContactGap otherwise: the audit fails, never passes silently).
"""
from __future__ import annotations

import concurrent.futures as cf
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from device_drivers import egress
from device_drivers.allworx import credtest
from device_drivers.exceptions import DriverError
from device_drivers.facts import DeviceFacts
from device_drivers.inventory import DeviceSpec
from device_drivers.opener import build_driver, open_device
from hardening.engine import health
from hardening.engine.contact import (
    ALLWORX_KINDS,
    EVERYTHING,
    NETWORK_KINDS,
    ContactGap,
    DeviceContact,
    allworx_contact,
    gaps,
    honoured,
)
from hardening.engine.outside import AuditProbe
from hardening.model.policy import weak_passwords, weak_set
from hardening.model.site import RouterFacts, SiteFacts, SiteInfo

TakeAttempt = Callable[[str], bool]


@dataclass
class GatherResult:
    facts: SiteFacts
    host_keys_seen: dict[int, dict] = field(default_factory=dict)       # first contact: pin these
    host_key_mismatches: dict[int, dict] = field(default_factory=dict)  # changed keys, refused
    contacted: dict[int, set[str]] = field(default_factory=dict)        # device id -> the needs asked of it
    seconds: float = 0.0
    # per inventory device (then the outside probe): reached or not, on which channels, why not (engine.health)
    health: list[dict[str, Any]] = field(default_factory=list)
    reasons: dict[int | None, str] = field(default_factory=dict)  # device id -> short reason of a driver error


@dataclass(frozen=True)
class _Job:
    options: dict[str, Any]
    needs: frozenset[str]
    take_attempt: TakeAttempt | None


def _gather_allworx(spec: DeviceSpec, options: dict[str, Any], contact: DeviceContact,
                    take_attempt: TakeAttempt | None) -> DeviceFacts:
    # not opened: gather() opens (and closes) the sessions each channel needs
    driver = build_driver(spec, egress_allowed=options.get("egress"), policy=options.get("policy"),
                          weak_passwords=weak_passwords(), options=options)
    if not contact.credential_test:
        return driver.gather(channels=contact.channels)
    known = spec.credentials.get("password")
    # The appliance may hold this login's real password, not a default: once it logs in during this audit
    # (positive evidence it is the account's password), a default cannot get in (one account), so nothing is
    # guessed -- guessing could lock the real admin out. Until it logs in, nothing is derived from it.
    # A default accepted before (its list position, remembered by the budget) is tried first.
    first = credtest.recall(take_attempt, driver.device_key)
    facts = driver.gather(channels=contact.channels, take_attempt=take_attempt, credtest_first=first,
                          trust_stored=bool(known) and known.lower() not in weak_set())
    credtest.remember(take_attempt, driver.device_key, first, driver.credential_result)
    return facts


def _inventory_only(spec: DeviceSpec, options: dict[str, Any]) -> DeviceFacts:
    """A device no selected check needs contacted: its inventory record only (declared facts, stored
    credentials). Building a driver and gathering no channel sends nothing, so no egress check applies."""
    driver = build_driver(spec, egress_allowed=None, policy=options.get("policy"), weak_passwords=weak_passwords(),
                          options=options)
    return driver.gather(channels=())


def _gather_router(spec: DeviceSpec, options: dict[str, Any], result: GatherResult) -> RouterFacts:
    def on_host_key(seen: DeviceSpec, pin: dict, changed: bool) -> None:
        # first contact: pinned after the audit; changed: the full key, so an admin can accept it after checking
        (result.host_key_mismatches if changed else result.host_keys_seen)[seen.device_id] = pin

    source = f"ssh:{spec.address}"
    try:
        with open_device(spec, on_host_key=on_host_key, egress_allowed=options.get("egress"),
                         options=options) as driver:
            config = driver.get_config()
        return RouterFacts(spec.device_id, spec.name, config, source=source)
    except DriverError as exc:          # HostKeyMismatch too: its presented key was recorded above
        result.reasons[spec.device_id] = health.reason_of(exc)
        return RouterFacts(spec.device_id, spec.name, None, error=str(exc), source=source)


def _one(spec: DeviceSpec, job: _Job, result: GatherResult):
    options = job.options
    try:
        if spec.kind in ALLWORX_KINDS:
            contact = allworx_contact(spec, job.needs)       # no budget (CREDENTIAL_TESTS off): no live test
            result.contacted[spec.device_id] = honoured(spec, contact)
            if not contact.anything:
                return _inventory_only(spec, options)
            return _gather_allworx(spec, options, contact, job.take_attempt)
        if spec.kind in NETWORK_KINDS and spec.device_type and "router_config" in job.needs:
            result.contacted[spec.device_id] = {"router_config"}
            return _gather_router(spec, options, result)
    except egress.EgressRefused as exc:     # the opener refused the address before anything was sent
        result.reasons[spec.device_id] = health.reason_of(exc)
        return _failed(spec, str(exc))
    return None


def _failed(spec: DeviceSpec, reason: str):
    if spec.kind in NETWORK_KINDS:
        return RouterFacts(spec.device_id, spec.name, None, error=reason, source=f"ssh:{spec.address}")
    facts = DeviceFacts(spec.device_id, spec.kind, spec.name, spec.address, spec.wan_address)
    facts.errors["gather"] = reason
    return facts


def gather_site(site: SiteInfo, devices: list[DeviceSpec], *, budget_seconds: float = 60.0, workers: int = 32,
                options: dict[str, Any] | None = None, needs: frozenset[str] = EVERYTHING,
                take_attempt: TakeAttempt | None = None, outside: AuditProbe | None = None,
                on_progress: Callable[[int, int, str], None] | None = None, **site_extras: Any) -> GatherResult:
    """Facts of every device (contacted only for `needs`); a device not done within the budget gets an
    error, never a pass. options: the opener's (policy, egress, allworx, router); take_attempt: the
    credential test's budget (None: no test); outside: the question to the outside probe, asked alongside
    (its answers, or error records, become facts.outside).

    site_extras: sensor_events, install_window_open, prior_verdicts (passed through to SiteFacts).
    """
    started = time.monotonic()
    result = GatherResult(SiteFacts(site, **site_extras))
    job = _Job(options or {}, frozenset(needs), take_attempt)
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(workers, len(devices) or 1)) + (outside is not None),
                                 thread_name_prefix="gather")
    asked = pool.submit(outside.run) if outside is not None else None     # first: it may take the longest
    futures = {pool.submit(_one, spec, job, result): spec for spec in sorted(devices, key=_slowest_first)}
    try:
        _collect_all(result, futures, budget_seconds, on_progress)
        if asked is not None:
            result.facts.outside = _outside_answers(outside, asked, started + budget_seconds, budget_seconds)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)      # a hung driver must not hold the audit
    result.seconds = time.monotonic() - started
    result.health = health.build(devices, result.facts, job.needs, result.reasons,
                                 credential_tests=take_attempt is not None,
                                 outside_target=outside.target if outside is not None else None,
                                 outside_asked=outside is not None)
    missing = gaps(job.needs, devices, result.facts, result.contacted, credential_tests=take_attempt is not None)
    if missing:
        raise ContactGap("the selected checks need devices this audit did not contact: " + "; ".join(missing))
    return result


def _collect_all(result: GatherResult, futures: dict[cf.Future, DeviceSpec], budget_seconds: float,
                 on_progress: Callable[[int, int, str], None] | None) -> None:
    done_count = 0
    try:
        for future in cf.as_completed(futures, timeout=budget_seconds):
            spec = futures[future]
            _collect(result, spec, future)
            done_count += 1
            if on_progress:
                on_progress(done_count, len(futures), spec.name)
    except cf.TimeoutError:
        for future, spec in futures.items():
            if not future.done():
                _add(result, _failed(spec, f"no answer within the audit's time budget of {budget_seconds:g} s"))
            elif not _collected(result, spec):
                _collect(result, spec, future)


def _outside_answers(probe: AuditProbe, asked: cf.Future, deadline: float, budget_seconds: float) -> dict[str, Any]:
    try:
        return asked.result(timeout=max(0.0, deadline - time.monotonic()))
    except cf.TimeoutError:
        return probe.failed(f"outside probe: no answer within the audit's time budget of {budget_seconds:g} s")
    except Exception as exc:          # AuditProbe.run turns failures into records; this is a bug, shown as one
        return probe.failed(f"outside probe failed: {type(exc).__name__}: {exc}"[:300])


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
