"""Port-forward verification on demand: read the site's routers now, classify every forward (expected,
unexpected, dangerous; allow-listed ones kept), run the router checks over what was read, and ask the
outside probe, when one is configured, whether the forwarded ports really answer from the internet side.
No Flask: the view passes how to open a router and where the outside probe is.

One router that cannot be read never hides the others: it gets an entry with its error and the error's
reason class (hardening.engine.health.reason_of: the audit health's words), the others are verified, and
the router checks count its part as unread (`error` evidence: never a pass). Only when no router of the
site could be read at all is there nothing to answer with: the first router's fault is raised (the API
maps it: egress 422, host key 409, timeout 504, any other 502), its message naming the other routers'
faults too. REASONS (re-exported for the answer's schema) lists the classes."""
from __future__ import annotations

from typing import Any, Callable, ContextManager, Mapping

from sqlalchemy import select

from device_drivers.exceptions import DriverError, WrongPlatform
from hardening.checks.registry import run_checks
from hardening.engine import outside
from hardening.engine.analyze import ROUTER_CHECKS
from hardening.engine.health import REASONS, reason_of
from hardening.model.catalog import check_meta
from hardening.model.exposure import classify_forwards
from hardening.model.policy import Policy
from hardening.model.probes import answered
from hardening.model.site import RouterFacts
from hardening.remediation.engine import inventory_facts
from store.models import Device, Site

OpenRouter = Callable[[Device], ContextManager[Any]]      # hardening.engine.devices.DeviceAccess.open
__all__ = ["REASONS", "verify_site"]


def _unread(device: Device, exc: DriverError) -> dict[str, Any]:
    looks = ({"platform": exc.looks_like, "confidence": exc.confidence} if isinstance(exc, WrongPlatform)
             else None)
    return {"device_id": device.id, "name": device.name, "address": device.address,
            "device_type": device.device_type, "forwards": [], "error": str(exc), "reason": reason_of(exc),
            "looks_like": looks}


def _nothing_read(faults: list[tuple[Device, DriverError]]) -> DriverError:
    """The first router's fault, its message also naming every other router's (all of them failed)."""
    first = faults[0][1]
    others = "; ".join(f"{device.name}: {exc}" for device, exc in faults[1:])
    if others:
        first.args = (f"{first}; no router of the site could be read: also {others}",)
    return first


def verify_site(sess, site: Site, open_router: OpenRouter, probe: Mapping[str, Any] | None) -> dict[str, Any]:
    """{routers: [{device_id, name, address, device_type, forwards, error, reason, looks_like}], findings,
    outside} for the site's routers, read now.

    probe: {"url", "token", "ca"} of the outside probe, or None not to ask it. A router that cannot be
    read gets `error` (the driver's message), `reason` (the audit health's class, one of REASONS) and,
    for a wrong platform, `looks_like`; when none could be read, the first fault is raised (see the module
    docstring)."""
    facts, policy = inventory_facts(sess, site.id), Policy()
    routers, faults = [], []
    for device in sess.scalars(select(Device).where(Device.site_id == site.id, Device.kind == "router")
                               .order_by(Device.id)):
        source = f"ssh:{device.address}"
        try:
            with open_router(device) as drv:
                config = drv.get_config()
        except DriverError as exc:           # EgressRefused and HostKeyMismatch too (a changed key is parked)
            faults.append((device, exc))
            facts.routers.append(RouterFacts(device.id, device.name, None, error=str(exc), source=source))
            routers.append(_unread(device, exc))
            continue
        facts.routers.append(RouterFacts(device.id, device.name, config, source=source))
        routers.append({"device_id": device.id, "name": device.name, "address": device.address,
                        "device_type": device.device_type, "forwards": classify_forwards(config, facts, policy),
                        "error": None, "reason": None, "looks_like": None})
    if faults and len(faults) == len(routers):
        raise _nothing_read(faults)
    facts.outside = _outside(site, routers, probe) if probe is not None else None
    for router in routers:
        for fwd in router["forwards"]:
            fwd["outside"] = _reachability(facts.outside, fwd)
    results = run_checks(facts, policy, ROUTER_CHECKS)
    findings = [{"check_id": r.check_id, "status": r.status, "message": r.message, "title": check_meta(
        r.check_id)["title"], "severity": check_meta(r.check_id)["severity"],
        "evidence": [e.to_dict() for e in r.evidence]} for r in results]
    return {"routers": routers, "findings": findings, "outside": facts.outside}


def _outside(site: Site, routers: list[dict], probe: Mapping[str, Any]) -> dict | None:
    if not probe.get("url") or not site.wan_addresses:
        return None
    checks = []
    for router in routers:
        for fwd in router["forwards"]:
            for rng in (fwd.get("external_ports") or [])[:4]:
                port = int(str(rng).split("-")[0])
                for proto in (("tcp", "udp") if fwd["proto"] in ("tcp_udp", "any") else (fwd["proto"],)):
                    if proto in ("tcp", "udp") and {"proto": proto, "port": port} not in checks:
                        checks.append({"proto": proto, "port": port})
    try:
        return outside.ask(probe["url"], probe["token"], probe.get("ca") or True, site.wan_addresses[0],
                           checks[:outside.MAX_CHECKS])
    except Exception as exc:           # the probe being down is reported, never a silent "closed"
        return {"error": f"outside probe failed: {type(exc).__name__}: {exc}"[:300]}


def _reachability(results: dict | None, fwd: dict) -> dict | None:
    if not results or "error" in results:
        return None
    out = {}
    for rng in fwd.get("external_ports") or []:
        port = int(str(rng).split("-")[0])
        for proto in ("tcp", "udp"):
            if f"{proto}/{port}" in results:
                out[f"{proto}/{port}"] = answered(results[f"{proto}/{port}"])
    return out
