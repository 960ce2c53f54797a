"""The rules of changing a device record: the host-key pin survives an edit unless the request changes it,
a GET body may be sent back as it was, and a device a change is running on is neither edited nor deleted."""
from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import abort
from sqlalchemy import and_, delete, select

from device_drivers.hostkeys import check_pin, pin_matches
from hardening.remediation.locks import busy_reason, not_busy
from store.audit_models import Remediation
from store.models import Device

UNSET = object()


def echoed_read_only_fields(raw: Any, stored: dict[str, Any], read_only: list[str]) -> None:
    """A PUT may carry the read-only fields of the GET it came from, unchanged (a GET -> PUT round trip);
    one that differs is refused (422): the request wants something that cannot be changed here."""
    if not isinstance(raw, dict):
        return
    differs = {name: ["Read-only; send the stored value or leave it out."]
               for name in read_only if name in raw and raw[name] != stored.get(name)}
    if differs:
        abort(422, message="Read-only field(s) differ from the stored device.", errors={"json": differs})


def apply_host_key(device: Device, requested: Any) -> None:
    """Left out: the pin stays. The same key: nothing changes. null: unpinned (trust on the next first
    contact). Another key: pinned, and a parked presented key that is this one is cleared."""
    if requested is UNSET:
        return
    if requested is None:
        device.ssh_host_key = device.ssh_host_key_presented = None
        return
    if device.ssh_host_key is not None and _same_key(device.ssh_host_key, requested):
        return
    device.ssh_host_key = requested
    if device.ssh_host_key_presented and _same_key(requested, device.ssh_host_key_presented):
        device.ssh_host_key_presented = None


def _same_key(pin: dict, other: dict) -> bool:
    try:
        return pin_matches(check_pin(pin), check_pin(other))
    except (ValueError, KeyError):
        return pin == other


def refuse_if_busy(sess, device_id: int) -> None:
    """409 while a change runs. Called after the request's own write is flushed: the session then holds
    SQLite's write lock, so no change can start between this check and the commit."""
    reason = busy_reason(sess, device_id)
    if reason is not None:
        sess.rollback()
        abort(409, message=reason)


def delete_unless_busy(sess, device: Device) -> None:
    """Delete the device in one statement that holds only when no change runs on it (a lock taken at the
    same moment makes it delete nothing: 409). Its remediation records (none live) stay, with no device
    (store migration 0008), and are summarised in the audit log entry of this call too."""
    device_id = device.id
    records = [{"id": r.id, "state": r.state, "created_by": r.created_by, "created_at": r.created_at.isoformat(),
                "updated_at": r.updated_at.isoformat(), "error": (r.error or "")[:500],
                "plan_kind": (r.plan or {}).get("kind") or (r.plan or {}).get("platform") or ""}
               for r in sess.scalars(select(Remediation).where(Remediation.device_id == device_id)
                                     .order_by(Remediation.id))]
    sess.expunge(device)
    done = sess.execute(delete(Device).where(and_(Device.id == device_id, not_busy(device_id)))
                        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        reason = busy_reason(sess, device_id) or f"Device {device_id} changed meanwhile; read it again."
        sess.rollback()
        abort(409, message=reason)
    sess.commit()
    g.audit_detail = {"device": {"id": device_id, "name": device.name, "site_id": device.site_id},
                      "removed_remediations": records}
