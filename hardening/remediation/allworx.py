"""Allworx server remediation through the same plan -> apply -> verify -> confirm/rollback flow.

Settings are written through the web admin (the per-version web map), each read back by the driver.
Rotated secrets (phone admin password, PnP key) are generated here, stored encrypted as the device's
credentials, and returned once, in the apply response. The previous values are kept encrypted in the
remediation's backup so a rollback restores them exactly. The server has no commit-confirm of its
own: the appliance's deadline sweep rolls back unconfirmed changes.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from device_drivers.facts import Secret
from hardening.engine.audits import process_name
from hardening.remediation import locks
from store.audit_models import Remediation
from store.db import error_text
from store.models import Device, utcnow
from store.secrets import set_credentials

GENERATE = object()


@dataclass(frozen=True)
class Fix:
    """One setting this flow can change: the check it fixes, the value wanted, and any service impact.
    A fix with an impact changes how others reach the server; it is planned only when asked for by name."""
    check_id: str
    setting: str
    desired: Any
    impact: str = ""


FIXES = (Fix("AWX-PHN-004", "pnp_lan_creates_enabled", False), Fix("AWX-PHN-005", "pnp_wan_creates_enabled", False),
         Fix("AWX-SRV-007", "wan_admin_enabled", False),
         Fix("AWX-WAN-001", "network_mode", "nat_firewall",
             "the server's network mode changes how its WAN port is reached: remote phones and SIP trunks "
             "pointed at it may lose service until the router forwards are matched"),
         Fix("AWX-WAN-002", "stealth", True), Fix("AWX-SRV-006", "require_strong_passwords", True),
         Fix("AWX-SRV-004", "smtp_port", 2525,
             "inbound mail to the server stops unless the MX record or the mail relay is changed to port 2525"),
         Fix("AWX-SRV-004", "imap_port", 1143, "every mail client reading voicemail by IMAP must be "
             "reconfigured to port 1143"),
         Fix("AWX-PHN-001", "phone_admin_password", GENERATE), Fix("AWX-PHN-002", "pnp_secret_key", GENERATE))
SETTINGS = tuple(f.setting for f in FIXES)
MANUAL = {"AWX-SRV-001": "Maintenance > Software Update: install the current release for this line",
          "AWX-SRV-008": "Home > Network > VPN > Modify: configure the Allworx VPN for remote maintenance"}
ALPHABET = string.ascii_letters + string.digits + "-_.!"


def generate_secret(length: int = 24) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def plan_changes(facts, policy, failing: set[str], settings: list[str] | None = None) -> dict[str, Any]:
    """Changes for the failing checks this server can fix itself; the rest as manual steps.

    `settings` names the settings to change (None: every one without a service impact). A fix with a
    service impact that was not named is held back, with the reason, never applied by default."""
    unknown = sorted(set(settings or ()) - set(SETTINGS))
    if unknown:
        raise ValueError(f"settings: unknown {unknown}; one of {', '.join(SETTINGS)}")
    changes, held_back, not_needed = [], [], []
    for fix in FIXES:
        named = settings is not None and fix.setting in settings
        if settings is not None and not named:
            continue
        current = facts.value(fix.setting)
        if fix.check_id not in failing or (fix.desired is not GENERATE and current == fix.desired):
            if named:
                reason = (f"{fix.check_id} does not fail on this server" if fix.check_id not in failing
                          else f"already {fix.desired!r}")
                not_needed.append({"setting": fix.setting, "reason": reason})
            continue
        shown = "(secret)" if isinstance(current, Secret) or fix.desired is GENERATE else current
        change = {"check_id": fix.check_id, "setting": fix.setting, "from": shown, "impact": fix.impact or None,
                  "to": "(generated, shown once)" if fix.desired is GENERATE else fix.desired}
        if fix.impact and not named:
            held_back.append(change | {"reason": "service impact: name it in `settings` to change it"})
        else:
            changes.append(change)
    manual = [{"check_id": c, "step": MANUAL[c]} for c in sorted(failing) if c in MANUAL]
    return {"kind": "allworx", "live_apply": True, "changes": changes, "held_back": held_back,
            "not_needed": not_needed, "manual": manual,
            "commands": [f"set {c['setting']} = {c['to']}" for c in changes], "removals": [], "refused": []}


def _desired(name: str) -> Any:
    return next(fix.desired for fix in FIXES if fix.setting == name)


def apply(db, rid: int, driver_for, box) -> tuple[Remediation, dict[str, str]]:
    """Write every planned setting (read back by the driver); returns the generated secrets once."""
    from hardening.remediation.engine import RemediationError, device_of
    generated: dict[str, str] = {}
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "planned":
            raise RemediationError(f"remediation {rid} is {row.state}; only a planned one can be applied")
        device = device_of(sess, row)
        locks.acquire(db, device.id, f"remediation:{rid}", row.confirm_timeout_seconds + 120)
        driver = driver_for(device)
        try:
            before = {c["setting"]: driver.set_setting(c["setting"], _preview(c["setting"]), dry_run=True)["before"]
                      for c in row.plan["changes"]}
            row.backup = {"secrets_enc": box.encrypt({k: _plain(v) for k, v in before.items()}).decode()}
            row.state, row.verification = "applying", {"applying_in": process_name()}  # engine.sweep_interrupted
            sess.commit()
            results = []
            for change in row.plan["changes"]:
                value = _desired(change["setting"])
                if value is GENERATE:
                    value = generated[change["setting"]] = generate_secret()
                results.append(_public(driver.set_setting(change["setting"], value)))
            if generated:                      # the appliance keeps knowing the device's secrets
                set_credentials(device, None, generated, box)
            row.verification = {"read_back": "ok", "changes": results}
            row.state, row.confirm_deadline = "awaiting_confirmation", utcnow() + timedelta(
                seconds=row.confirm_timeout_seconds)
            sess.commit()
        except Exception as exc:
            sess.rollback()
            row = sess.get(Remediation, rid)
            _restore(driver, row, box)
            row.state, row.error = "failed", error_text(exc)[:1000]
            sess.commit()
            locks.release(db, device.id, f"remediation:{rid}")
            raise
        return row, generated


def _preview(name: str) -> Any:
    value = _desired(name)
    return "x" * 16 if value is GENERATE else value


def _plain(value: Any) -> Any:
    return value.reveal() if isinstance(value, Secret) else value


def _public(result: dict[str, Any]) -> dict[str, Any]:
    return {k: ("(secret)" if isinstance(v, Secret) else v) for k, v in result.items()
            if k in ("setting", "before", "after", "changed", "menu")}


def _restore(driver, row: Remediation, box) -> None:
    before = box.decrypt(row.backup["secrets_enc"].encode()) if row.backup.get("secrets_enc") else {}
    for name, value in before.items():
        driver.set_setting(name, value)


def confirm(db, rid: int) -> Remediation:
    from hardening.remediation.engine import RemediationError
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "awaiting_confirmation":
            raise RemediationError(f"remediation {rid} is {row.state}; nothing awaits confirmation")
        row.state = "confirmed"
        row.backup = {}                        # old secrets are not kept once the change is accepted
        sess.commit()
        locks.release(db, row.device_id, f"remediation:{rid}")
        return row


def rollback(db, rid: int, driver_for, box, reason: str = "rolled back on request") -> Remediation:
    from hardening.remediation.engine import RemediationError, device_of
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "awaiting_confirmation":
            raise RemediationError(f"remediation {rid} is {row.state}; a server change can be rolled back until "
                                   "it is confirmed (the previous secrets are discarded on confirmation)")
        device = device_of(sess, row)
        before = box.decrypt(row.backup["secrets_enc"].encode())
        _restore(driver_for(device), row, box)
        restored = {k: v for k, v in before.items() if k in ("phone_admin_password", "pnp_secret_key")}
        if restored:
            set_credentials(device, None, restored, box)
        row.state, row.error = "rolled_back", reason
        sess.commit()
        locks.release(db, device.id, f"remediation:{rid}")
        return row


def create(sess, device: Device, driver_for, *, timeout: int, actor: str,
           settings: list[str] | None = None) -> Remediation:
    """Read the server now, evaluate the checks this flow can fix, and plan (nothing is written)."""
    from hardening.checks.registry import run_checks
    from hardening.model.policy import Policy
    from hardening.remediation.engine import inventory_facts
    facts = driver_for(device).gather(channels=["web"])
    site = inventory_facts(sess, device.site_id)
    site.devices = [d for d in site.devices if d.device_id != device.id] + [facts]
    check_ids = sorted({fix.check_id for fix in FIXES} | set(MANUAL))
    failing = {r.check_id for r in run_checks(site, Policy(), check_ids)
               if r.status == "fail" and r.device_id in (device.id, None)}
    plan = plan_changes(facts, Policy(), failing, settings)
    row = Remediation(site_id=device.site_id, device_id=device.id, plan=plan, confirm_timeout_seconds=timeout,
                      created_by=actor, state="planned" if plan["changes"] else "refused",
                      error="" if plan["changes"] else _nothing_to_change(plan))
    if facts.errors.get("web"):
        raise RuntimeError(f"the server's web admin could not be read: {facts.errors['web']}")
    sess.add(row)
    sess.commit()
    return row


def _nothing_to_change(plan: dict[str, Any]) -> str:
    if plan["held_back"]:
        names = ", ".join(c["setting"] for c in plan["held_back"])
        return f"nothing to change by default: {names} held back for their service impact (name them in `settings`)"
    return "nothing this flow can change (see manual steps)"
