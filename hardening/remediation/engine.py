"""Remediation state machine over the database, driving the router through nft_live.

planned -> applying -> awaiting_confirmation -> confirmed
                    \\-> failed (verification failed: restored at once)   \\-> rolled_back
The device lock is held from apply until confirm or rollback, so nothing else changes the router
while a change is waiting for its confirmation.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Callable, ContextManager

from sqlalchemy import select

from device_drivers.facts import DeviceFacts
from firewall.parsers import parse
from hardening.engine.audits import process_gone, process_name
from hardening.engine.inputs import site_info
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts
from hardening.remediation import locks, nft_live, planner
from store.audit_models import DeviceLock, Remediation
from store.db import error_text
from store.models import Device, Site, utcnow

log = logging.getLogger(__name__)
OpenDriver = Callable[[Device], ContextManager[Any]]
LOCK_MARGIN = 120


class RemediationError(Exception):
    """The request does not fit the remediation's state (409)."""


def inventory_facts(sess, site_id: int) -> SiteFacts:
    """The site as the planner sees it: addresses and roles from the inventory (no device is contacted)."""
    site = sess.get(Site, site_id)
    devices = sess.scalars(select(Device).where(Device.site_id == site_id)).all()
    facts = [DeviceFacts(d.id, d.kind, d.name, d.address, d.wan_address) for d in devices
             if d.kind not in ("router", "switch")]
    return SiteFacts(site_info(site), facts)


def create(sess, device: Device, open_driver: OpenDriver, *, indices, timeout: int, actor: str,
           appliance_ip: str | None) -> Remediation:
    with open_driver(device) as drv:
        config = drv.get_config()
    plan = planner.plan(config, inventory_facts(sess, device.site_id), Policy(), indices=indices,
                        appliance_ip=appliance_ip, ssh_port=(device.ports or {}).get("ssh", 22))
    row = Remediation(site_id=device.site_id, device_id=device.id, plan=plan, confirm_timeout_seconds=timeout,
                      created_by=actor, state="planned" if plan["removals"] else "refused")
    if not plan["removals"]:
        row.error = "nothing to remove" + (": every selected forward was refused" if plan["refused"] else "")
    sess.add(row)
    sess.commit()
    return row


def _holder(rid: int) -> str:
    return f"remediation:{rid}"


def apply(db, rid: int, open_driver: OpenDriver, probe: Callable[[dict], dict] | None = None) -> Remediation:
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "planned":
            raise RemediationError(f"remediation {rid} is {row.state}; only a planned one can be applied")
        if not row.plan["live_apply"]:
            raise RemediationError(f"{row.plan['platform']} plans are rendered for a person to apply; "
                                   "the appliance applies Linux nftables plans itself")
        device = sess.get(Device, row.device_id)
        locks.acquire(db, device.id, _holder(rid), row.confirm_timeout_seconds + LOCK_MARGIN)
        row.state, row.verification = "applying", {"applying_in": process_name()}   # see sweep_interrupted
        sess.commit()
        try:
            _apply(sess, row, device, open_driver, probe)
        except Exception as exc:
            sess.rollback()
            row = sess.get(Remediation, rid)
            row.state, row.error = "failed", error_text(exc)[:1000]
            sess.commit()
            locks.release(db, device.id, _holder(rid))
            raise
        return row


def _still_planned(row: Remediation, current_json: str) -> None:
    """Refuse to apply when the router changed since the plan (a rule gone or different)."""
    config = parse("linux", {"nft -j list ruleset": current_json})
    present = {f.source_ref.rule_id for f in config.forwards}
    missing = [r["rule"] for r in row.plan["removals"] if r["rule"] not in present]
    if missing:
        raise RemediationError(f"the router changed since the plan (rules gone: {missing}); plan again")


def _apply(sess, row: Remediation, device: Device, open_driver: OpenDriver, probe) -> None:
    with open_driver(device) as drv:
        backup = nft_live.snapshot(drv)
        _still_planned(row, backup["json"])
        row.backup = backup
        sess.commit()                                   # the backup is safe before anything changes
        nft_live.arm_revert(drv, row.id, backup["text"], row.confirm_timeout_seconds)
        nft_live.apply_script(drv, row.id, row.plan["commands"])
        after = drv.run_checked("nft -j list ruleset")
        problems = _verify(row, backup["json"], after)
        row.verification = {"read_back": "ok" if not problems else "failed", "problems": problems,
                            "probe": probe(row.plan) if (probe and not problems) else None}
        if problems or _probe_failed(row.verification["probe"]):
            nft_live.restore(drv, row.id, backup)
            nft_live.disarm_revert(drv, row.id)
            raise RemediationError(f"verification failed, previous ruleset restored: {problems or 'probe'}")
    row.state = "awaiting_confirmation"
    row.confirm_deadline = utcnow() + timedelta(seconds=row.confirm_timeout_seconds)
    sess.commit()


def _verify(row: Remediation, before_json: str, after_json: str) -> list[str]:
    """The removed rules are gone and every other rule is unchanged."""
    before = nft_live.normalized(before_json)
    after = nft_live.normalized(after_json)
    removed = [json_rule for json_rule in before if json_rule not in after]
    problems = []
    if len(removed) != len(row.plan["removals"]):
        problems.append(f"{len(removed)} rule(s) changed, {len(row.plan['removals'])} planned")
    extra = [r for r in after if r not in before]
    if extra:
        problems.append(f"{len(extra)} unexpected new object(s) after apply")
    return problems


def _probe_failed(result: dict | None) -> bool:
    return bool(result) and bool(result.get("still_open"))


def confirm(db, rid: int, open_driver: OpenDriver) -> Remediation:
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "awaiting_confirmation":
            raise RemediationError(f"remediation {rid} is {row.state}; nothing awaits confirmation")
        device = sess.get(Device, row.device_id)
        with open_driver(device) as drv:
            nft_live.disarm_revert(drv, rid)
            nft_live.cleanup(drv, rid)
        row.state = "confirmed"
        sess.commit()
        locks.release(db, device.id, _holder(rid))
        return row


def rollback(db, rid: int, open_driver: OpenDriver, reason: str = "rolled back on request") -> Remediation:
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state not in ("awaiting_confirmation", "confirmed"):
            raise RemediationError(f"remediation {rid} is {row.state}; only an applied change can be rolled back")
        device = sess.get(Device, row.device_id)
        with open_driver(device) as drv:
            nft_live.restore(drv, rid, row.backup)
            nft_live.disarm_revert(drv, rid)
            restored = drv.run_checked("nft -j list ruleset")
            nft_live.cleanup(drv, rid)
        exact = nft_live.normalized(restored) == nft_live.normalized(row.backup["json"])
        row.verification = {**row.verification, "rollback_exact": exact}
        row.state, row.error = "rolled_back", reason
        sess.commit()
        locks.release(db, device.id, _holder(rid))
        return row


def sweep_interrupted(db, now=None) -> list[int]:
    """Start-up recovery: a change left `applying` by a process that is gone (killed, restarted) never
    finishes. Mark it failed and say where the device stands. The device lock is kept until it expires:
    the router's own revert timer may still be pending, and nothing else may change the router before."""
    now = now or utcnow()
    done = []
    with db.session() as sess:
        for row in sess.scalars(select(Remediation).where(Remediation.state == "applying")).all():
            lock = sess.get(DeviceLock, row.device_id)
            held = lock is not None and lock.holder == _holder(row.id) and lock.expires_at > now
            if held and not process_gone((row.verification or {}).get("applying_in", "")):
                continue                                # still being applied by a live process
            row.state, row.error = "failed", _interrupted(row, lock.expires_at if held else None)
            log.warning("remediation %s: %s", row.id, row.error)
            done.append(row.id)
        sess.commit()
    return done


def _interrupted(row: Remediation, locked_until) -> str:
    until = f"; the device stays locked until {locked_until:%Y-%m-%d %H:%M:%S} UTC" if locked_until else ""
    if row.plan.get("kind") == "allworx":
        return ("interrupted: the appliance stopped while writing these settings; some may have changed on the "
                "server (a rotated secret may not be stored): check the server" + until)
    if not row.backup:
        return "interrupted: the appliance stopped before the router was changed" + until
    return (f"interrupted: the appliance stopped during the change; if it reached the router, the router's own "
            f"timer restores the ruleset saved before it, about {row.confirm_timeout_seconds} s after the apply began: "
            "check the router before planning again" + until)
