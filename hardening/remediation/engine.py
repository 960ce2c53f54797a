"""Remediation state machine over the database, driving the router through nft_live.

planned -> applying -> awaiting_confirmation -> confirmed -> rolled_back
   |                \\-> failed              \\-> rolled_back | reverted (a confirmation too late,
   \\-> expired (plans wait PLAN_TTL at most)                       or the router's timer was first)
A change is defined by content (hardening.remediation.nft_change): apply re-reads the router and refuses
(PlanConflict, 409 with the diff) when what the plan acts on changed; a rollback puts back exactly this
change's rules, in place. The device lock is held from apply until confirm or rollback, so nothing else
the appliance does changes the router while a change is waiting for its confirmation.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Callable, ContextManager

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from device_drivers.facts import DeviceFacts
from firewall.nft_rules import Ruleset, RulesetError, chain_of
from hardening.engine.audits import process_gone, process_name
from hardening.engine.inputs import site_info
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts
from hardening.remediation import locks, nft_change, nft_live, planner
from store.audit_models import DeviceLock, Remediation
from store.db import error_text
from store.models import Device, Site, utcnow

log = logging.getLogger(__name__)
OpenDriver = Callable[[Device], ContextManager[Any]]
LOCK_MARGIN = 120
PLAN_TTL = 15 * 60             # seconds a plan may wait for its apply (REMEDIATION_PLAN_TTL_SECONDS)


class RemediationError(Exception):
    """The request does not fit the remediation's state (409)."""


def device_of(sess, row: Remediation) -> Device:
    """The device a remediation changes; its record outlives a deleted device, which nothing can change."""
    device = sess.get(Device, row.device_id) if row.device_id is not None else None
    if device is None:
        raise RemediationError(f"remediation {row.id}: its device was deleted from the inventory; the record is "
                               "kept, nothing can be applied, confirmed or rolled back through it")
    return device


class PlanConflict(RemediationError):
    """The router is not where the plan (or the change) left it; `diff` says how (409 with the diff)."""

    def __init__(self, message: str, diff: dict[str, Any]):
        super().__init__(message)
        self.diff = diff


def inventory_facts(sess, site_id: int) -> SiteFacts:
    """The site as the planner sees it: addresses and roles from the inventory (no device is contacted)."""
    site = sess.get(Site, site_id)
    devices = sess.scalars(select(Device).where(Device.site_id == site_id)).all()
    facts = [DeviceFacts(d.id, d.kind, d.name, d.address, d.wan_address) for d in devices
             if d.kind not in ("router", "switch")]
    return SiteFacts(site_info(site), facts)


def create(sess, device: Device, open_driver: OpenDriver, *, indices, timeout: int, actor: str,
           appliance_ip: str | None, plan_ttl: int = PLAN_TTL) -> Remediation:
    with open_driver(device) as drv:
        outputs = drv.gather()
        config = drv.parse(outputs)
    nft_json = outputs.get("nft -j list ruleset") if config.platform == "linux" else None
    try:
        ruleset = Ruleset.parse(nft_json) if nft_json is not None else None
    except RulesetError:
        ruleset = None                          # no nft ruleset (iptables only): rendered for a person
    plan = planner.plan(config, inventory_facts(sess, device.site_id), Policy(), indices=indices,
                        appliance_ip=appliance_ip, ssh_port=(device.ports or {}).get("ssh", 22), ruleset=ruleset)
    plan["live_apply"] = plan["live_apply"] and "nft" in plan
    plan["expires_at"] = (utcnow() + timedelta(seconds=plan_ttl)).isoformat()
    changes = plan["removals"] or plan["restrictions"] or plan["helpers"]
    row = Remediation(site_id=device.site_id, device_id=device.id, plan=plan, confirm_timeout_seconds=timeout,
                      created_by=actor, state="planned" if changes else "refused")
    if not changes:
        row.error = "nothing to change" + (": every selected forward was refused" if plan["refused"] else "")
    sess.add(row)
    sess.commit()
    return row


def _holder(rid: int) -> str:
    return f"remediation:{rid}"


def revert_margin(timeout: int) -> int:
    """Seconds between the close of the confirm window and the router's own timer: a confirmation sent in
    time reaches the router and disarms the timer before it can fire."""
    return max(2, min(60, timeout // 5))


def _expired(row: Remediation) -> bool:
    expires = row.plan.get("expires_at")
    return bool(expires) and utcnow() > datetime.fromisoformat(expires)


def apply(db, rid: int, open_driver: OpenDriver, probe: Callable[[dict], dict] | None = None) -> Remediation:
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "planned":
            raise RemediationError(f"remediation {rid} is {row.state}; only a planned one can be applied")
        if not row.plan["live_apply"]:
            raise RemediationError(f"{row.plan['platform']} plans are rendered for a person to apply; "
                                   "the appliance applies Linux nftables plans itself")
        if _expired(row):
            row.state, row.error = "expired", f"the plan expired at {row.plan['expires_at']} UTC; plan again"
            sess.commit()
            raise RemediationError(f"remediation {rid}: {row.error}")
        device = device_of(sess, row)
        locks.acquire(db, device.id, _holder(rid), row.confirm_timeout_seconds + LOCK_MARGIN)
        row.state, row.verification = "applying", {"applying_in": process_name()}   # see sweep_interrupted
        sess.commit()
        try:
            _apply(sess, row, device, open_driver, probe)
        except Exception as exc:
            sess.rollback()
            row = sess.get(Remediation, rid)
            row.state, row.error = "failed", error_text(exc)[:1000]
            if isinstance(exc, PlanConflict):
                row.state, row.verification = "planned", {"conflict": exc.diff}   # nothing was changed
            sess.commit()
            locks.release(db, device.id, _holder(rid))
            raise
        return row


def _apply(sess, row: Remediation, device: Device, open_driver: OpenDriver, probe) -> None:
    nft = row.plan["nft"]
    with open_driver(device) as drv:
        before_json, before = nft_live.read(drv)
        stale = nft_change.stale_scope(nft, before)
        if stale:
            raise PlanConflict("the router changed since the plan where the plan acts: plan again", stale)
        try:
            change = nft_change.forward(nft["edits"], before)
        except nft_change.Conflict as exc:
            raise PlanConflict(str(exc), exc.diff) from None
        row.backup = {"json": before_json, "dir": None,
                      "elsewhere_changed": before.fingerprint() != nft["fingerprint"]}
        sess.commit()                                   # the backup is safe before anything changes
        workdir = row.backup["dir"] = nft_live.make_dir(drv, row.id)
        flag_modified(row, "backup")
        sess.commit()
        no_replace = [e for e in nft["edits"] if e["op"] != "replace"]
        timer_restore = nft_change.backward(no_replace, nft["chains"], change.expected)
        nft_live.write_guard(drv, workdir, _guards(nft, before), _helpers(nft), timer_restore.document())
        armed_at = utcnow()
        nft_live.arm_revert(drv, workdir, row.id, row.confirm_timeout_seconds + revert_margin(row.confirm_timeout_seconds))
        nft_live.run_document(drv, workdir, "apply.json", change.document())
        after_json, after = nft_live.read(drv)
        problems = nft_change.differences(change.expected, after)
        row.verification = {"read_back": "ok" if not problems else "failed", "problems": problems,
                            "probe": probe(row.plan) if (probe and not problems) else None}
        if problems or _probe_failed(row.verification["probe"]):
            undo = nft_change.backward(nft["edits"], nft["chains"], after, lenient=True)
            nft_live.run_document(drv, workdir, "undo.json", undo.document())
            nft_live.disarm(drv, workdir)
            raise RemediationError(f"verification failed, this change's rules put back: {problems or 'probe'}")
        exact = nft_change.backward(nft["edits"], nft["chains"], after)
        nft_live.replace_restore(drv, workdir, {c: {} for c in nft["chains"]}, _helpers(nft), exact.document())
    row.state = "awaiting_confirmation"
    row.confirm_deadline = armed_at + timedelta(seconds=row.confirm_timeout_seconds)
    sess.commit()


def _guards(nft: dict[str, Any], before: Ruleset) -> dict[str, dict[str, Any]]:
    """Per touched chain: the handles the apply changes (left out of the timer's comparison) and those it
    deletes (gone when the timer fires, or the change never landed)."""
    guards: dict[str, dict[str, Any]] = {c: {"filter": [], "absent": []} for c in nft["chains"]}
    for edit in nft["edits"]:
        if "rule" in edit:
            handle = before.find({"rule": edit["rule"]})[0].handle
            guards[chain_of(edit["rule"])]["filter"].append(handle)
            if edit["op"] == "delete":
                guards[chain_of(edit["rule"])]["absent"].append(handle)
    return guards


def _helpers(nft: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["object"]["ct helper"] for e in nft["edits"] if e["op"] == "delete_object"]


def _probe_failed(result: dict | None) -> bool:
    return bool(result) and bool(result.get("still_open"))


def confirm(db, rid: int, open_driver: OpenDriver) -> Remediation:
    """Keep the change, if and only if the router's timer is proven disarmed and the change is still there;
    otherwise the remediation is `reverted`, with the reason, and the router holds this change's rules again."""
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "awaiting_confirmation":
            raise RemediationError(f"remediation {rid} is {row.state}; nothing awaits confirmation")
        late = utcnow() >= row.confirm_deadline
    if late:
        return _undo(db, rid, open_driver, "reverted", "the confirmation arrived after the confirm window closed "
                     f"({row.confirm_deadline:%Y-%m-%d %H:%M:%S} UTC); the change was undone", automatic=True)
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        device = device_of(sess, row)
        with open_driver(device) as drv:
            timer = nft_live.disarm(drv, row.backup["dir"])
            _json, now = nft_live.read(drv)
        row.verification = {**row.verification, "confirm_timer": timer}
        sess.commit()
        if timer["fired"]:
            reason = f"the router's own timer fired before the confirmation reached it ({timer['timer_state']})"
        else:
            undone = nft_change.undone(row.plan["nft"]["edits"], now)
            reason = f"the change is no longer on the router: {'; '.join(undone)}" if undone else ""
        if reason:
            return _undo(db, rid, open_driver, "reverted", reason, automatic=True, disarmed=True)
        with open_driver(device) as drv:
            nft_live.cleanup(drv, row.backup["dir"])
        row.backup = {**row.backup, "dir": None}      # a later rollback works from the plan and a new directory
        row.state = "confirmed"
        sess.commit()
        locks.release(db, device.id, _holder(rid))
        return row


def rollback(db, rid: int, open_driver: OpenDriver, reason: str = "rolled back on request",
             automatic: bool = False) -> Remediation:
    return _undo(db, rid, open_driver, "rolled_back", reason, automatic=automatic)


def _undo(db, rid: int, open_driver: OpenDriver, state: str, reason: str, *, automatic: bool,
          disarmed: bool = False) -> Remediation:
    """Put back exactly what this change took away, where it was, leaving later changes alone. A conflict
    (its place gone, a restricted rule changed by hand) refuses a requested rollback with the diff; the
    automatic revert restores what it can and says what it could not."""
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state not in ("awaiting_confirmation", "confirmed"):
            raise RemediationError(f"remediation {rid} is {row.state}; only an applied change can be rolled back")
        device = device_of(sess, row)
        nft, workdir = row.plan["nft"], row.backup.get("dir")
        with open_driver(device) as drv:
            timer = None
            if row.state == "awaiting_confirmation" and not disarmed:
                timer = nft_live.disarm(drv, workdir)
            _json, current = nft_live.read(drv)
            undo = nft_change.backward(nft["edits"], nft["chains"], current, lenient=automatic)
            if undo.conflicts and not automatic:
                raise PlanConflict("the router changed since this change in a way that conflicts with undoing it: "
                                   + "; ".join(undo.conflicts), {"conflicts": undo.conflicts, "notes": undo.notes})
            if undo.commands:
                workdir = workdir or nft_live.make_dir(drv, rid)
                nft_live.run_document(drv, workdir, "rollback.json", undo.document())
            _json, restored = nft_live.read(drv)
            nft_live.cleanup(drv, workdir)
        problems = nft_change.differences(undo.expected, restored)
        exact = not (problems or undo.conflicts or undo.guesses)
        row.verification = {**row.verification, "rollback_exact": exact, "rollback_problems": problems,
                            "rollback_conflicts": undo.conflicts, "rollback_notes": undo.notes + undo.guesses} | ({"rollback_timer": timer} if timer else {})
        row.state, row.error = state, reason
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
    margin = revert_margin(row.confirm_timeout_seconds)
    return (f"interrupted: the appliance stopped during the change; if it reached the router, the router's own "
            f"timer puts back the rules this change removed (only those, and only while their chains are as the "
            f"change left them) {row.confirm_timeout_seconds} s after the apply began, plus a {margin} s margin: "
            "check the router before planning again" + until)
