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
# (check it fixes, logical setting, desired value); policy may override the new mail ports
FIXES = (("AWX-PHN-004", "pnp_lan_creates_enabled", False), ("AWX-PHN-005", "pnp_wan_creates_enabled", False),
         ("AWX-SRV-007", "wan_admin_enabled", False), ("AWX-WAN-001", "network_mode", "nat_firewall"),
         ("AWX-WAN-002", "stealth", True), ("AWX-SRV-006", "require_strong_passwords", True),
         ("AWX-SRV-004", "smtp_port", 2525), ("AWX-SRV-004", "imap_port", 1143),
         ("AWX-PHN-001", "phone_admin_password", GENERATE), ("AWX-PHN-002", "pnp_secret_key", GENERATE))
MANUAL = {"AWX-SRV-001": "Maintenance > Software Update: install the current release for this line",
          "AWX-SRV-008": "Home > Network > VPN > Modify: configure the Allworx VPN for remote maintenance"}
ALPHABET = string.ascii_letters + string.digits + "-_.!"


def generate_secret(length: int = 24) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def plan_changes(facts, policy, failing: set[str]) -> dict[str, Any]:
    """Changes for the failing checks this server can fix itself; the rest as manual steps."""
    changes, manual = [], []
    for check_id, name, desired in FIXES:
        if check_id not in failing:
            continue
        current = facts.value(name)
        if desired is not GENERATE and current == desired:
            continue
        shown = "(secret)" if isinstance(current, Secret) or desired is GENERATE else current
        changes.append({"check_id": check_id, "setting": name, "from": shown,
                        "to": "(generated, shown once)" if desired is GENERATE else desired})
    manual = [{"check_id": c, "step": MANUAL[c]} for c in sorted(failing) if c in MANUAL]
    return {"kind": "allworx", "live_apply": True, "changes": changes, "manual": manual,
            "commands": [f"set {c['setting']} = {c['to']}" for c in changes], "removals": [], "refused": []}


def _desired(name: str) -> Any:
    return next(value for _c, setting, value in FIXES if setting == name)


def apply(db, rid: int, driver_for, box) -> tuple[Remediation, dict[str, str]]:
    """Write every planned setting (read back by the driver); returns the generated secrets once."""
    from hardening.remediation.engine import RemediationError
    generated: dict[str, str] = {}
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "planned":
            raise RemediationError(f"remediation {rid} is {row.state}; only a planned one can be applied")
        device = sess.get(Device, row.device_id)
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
    from hardening.remediation.engine import RemediationError
    with db.session() as sess:
        row = sess.get(Remediation, rid)
        if row.state != "awaiting_confirmation":
            raise RemediationError(f"remediation {rid} is {row.state}; a server change can be rolled back until "
                                   "it is confirmed (the previous secrets are discarded on confirmation)")
        device = sess.get(Device, row.device_id)
        before = box.decrypt(row.backup["secrets_enc"].encode())
        _restore(driver_for(device), row, box)
        restored = {k: v for k, v in before.items() if k in ("phone_admin_password", "pnp_secret_key")}
        if restored:
            set_credentials(device, None, restored, box)
        row.state, row.error = "rolled_back", reason
        sess.commit()
        locks.release(db, device.id, f"remediation:{rid}")
        return row


def create(sess, device: Device, driver_for, *, timeout: int, actor: str) -> Remediation:
    """Read the server now, evaluate the checks this flow can fix, and plan (nothing is written)."""
    from hardening.checks.registry import run_checks
    from hardening.model.policy import Policy
    from hardening.remediation.engine import inventory_facts
    facts = driver_for(device).gather(channels=["web"])
    site = inventory_facts(sess, device.site_id)
    site.devices = [d for d in site.devices if d.device_id != device.id] + [facts]
    check_ids = sorted({c for c, _s, _v in FIXES} | set(MANUAL))
    failing = {r.check_id for r in run_checks(site, Policy(), check_ids)
               if r.status == "fail" and r.device_id in (device.id, None)}
    plan = plan_changes(facts, Policy(), failing)
    row = Remediation(site_id=device.site_id, device_id=device.id, plan=plan, confirm_timeout_seconds=timeout,
                      created_by=actor, state="planned" if plan["changes"] else "refused",
                      error="" if plan["changes"] else "nothing this flow can change (see manual steps)")
    if facts.errors.get("web"):
        raise RuntimeError(f"the server's web admin could not be read: {facts.errors['web']}")
    sess.add(row)
    sess.commit()
    return row
