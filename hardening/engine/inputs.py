"""What an audit reads from the inventory: the site, its devices with decrypted credentials, the last
decided verdicts of the gentle-login checks (carried forward when a test cannot run), and what the audit
records back on the devices (first-contact host keys)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from device_drivers.inventory import DeviceSpec
from hardening.engine.context import AuditContext
from hardening.engine.gather import GatherResult
from hardening.model.site import PriorVerdict, SiteInfo
from store.audit_models import Audit, AuditResult, InstallWindow
from store.models import Device, Site, utcnow
from store.secrets import get_secrets


def device_spec(device: Device, box=None) -> DeviceSpec:
    creds = get_secrets(device, box)
    if device.credential is not None and device.credential.username:
        creds["username"] = device.credential.username
    return DeviceSpec(device.id, device.kind, device.name, device.address, device.wan_address,
                      dict(device.ports or {}), dict(device.snmp or {}), device.model or "",
                      device.device_type, dict(device.declared_facts or {}), creds, device.ssh_host_key)


def site_info(site: Site) -> SiteInfo:
    return SiteInfo(site.name, list(site.wan_addresses or []), list(site.lan_subnets or []), site.voice_vlan_id,
                    site.voice_subnet, list(site.required_wan_services or []), list(site.allowed_sip_peers or []))


@dataclass
class SiteInputs:
    """What an audit reads before it contacts anything."""
    site: SiteInfo
    devices: list[DeviceSpec]                      # every device of the site, credentials decrypted
    install_window_open: bool
    sensor_events: list[dict[str, Any]] | None     # None: no sensor configured, or no selected check needs it
    # the gentle-login checks' last decided verdicts (SiteFacts.prior_verdicts); empty when none is selected
    prior_verdicts: dict[tuple[str, int], PriorVerdict] = field(default_factory=dict)


def site_inputs(sess: Session, site_id: int, context: AuditContext, needs: frozenset[str]) -> SiteInputs:
    """The site and its devices; the SIP sensor's records and the login checks' last verdicts only when a
    selected check needs them."""
    site = sess.get(Site, site_id)
    devices = sess.scalars(select(Device).where(Device.site_id == site_id).order_by(Device.id)
                           .options(selectinload(Device.credential))).all()     # one query, not one per device
    read_sensor = "sensor" in needs and context.sensor_events is not None
    logins = any(n.endswith("_credential_test") for n in needs)
    return SiteInputs(site_info(site), [device_spec(d, context.secret_box) for d in devices],
                      install_window_open(sess, site_id), context.sensor_events(site) if read_sensor else None,
                      prior_verdicts(sess, site_id) if logins else {})


def install_window_open(sess: Session, site_id: int, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return sess.scalar(select(InstallWindow.id).where(
        InstallWindow.site_id == site_id, InstallWindow.state == "open",
        InstallWindow.closes_at > now).limit(1)) is not None


def record_host_keys(sess: Session, gathered: GatherResult) -> None:
    """Trust on first use: pin keys seen for the first time; park changed keys for an admin."""
    for device_id, pin in gathered.host_keys_seen.items():
        device = sess.get(Device, device_id)
        if device is not None and device.ssh_host_key is None:
            device.ssh_host_key = pin
    for device_id, pin in gathered.host_key_mismatches.items():
        device = sess.get(Device, device_id)
        if device is not None:
            device.ssh_host_key_presented = pin


LOGIN_CHECKS = ("AWX-SRV-005", "AWX-PHN-006", "AWX-PX-001")


def prior_verdicts(sess: Session, site_id: int) -> dict[tuple[str, int], PriorVerdict]:
    """Per (login check, device): the verdict of the latest completed audit that decided it (pass or fail).
    A result that was itself carried forward names the audit that decided it: that audit's result is used,
    so a verdict carried over many audits still says where and when it was decided."""
    completed = (Audit.site_id == site_id, Audit.state == "completed")
    decided = (AuditResult.check_id.in_(LOGIN_CHECKS), AuditResult.status.in_(("pass", "fail")),
               AuditResult.device_id.is_not(None))
    latest = (select(AuditResult.check_id, AuditResult.device_id, func.max(AuditResult.audit_id).label("audit_id"))
              .join(Audit, Audit.id == AuditResult.audit_id).where(*completed, *decided)
              .group_by(AuditResult.check_id, AuditResult.device_id).subquery())
    rows = sess.execute(select(AuditResult, Audit.finished_at).join(Audit, Audit.id == AuditResult.audit_id)
                        .join(latest, (latest.c.audit_id == AuditResult.audit_id)
                              & (latest.c.check_id == AuditResult.check_id)
                              & (latest.c.device_id == AuditResult.device_id))
                        .where(*decided).order_by(AuditResult.id)).all()
    out: dict[tuple[str, int], PriorVerdict] = {}
    for row, finished in rows:
        audit_id, message, origin = row.audit_id, row.message, row
        day = finished.date().isoformat() if finished else ""
        carried = PriorVerdict.carried_from(row.message)
        if carried:
            audit_id, day, message = carried
            origin = sess.scalar(select(AuditResult).join(Audit, Audit.id == AuditResult.audit_id).where(
                *completed, AuditResult.audit_id == audit_id, AuditResult.check_id == row.check_id,
                AuditResult.device_id == row.device_id, AuditResult.status == row.status).limit(1)) or row
            message = origin.message if origin is not row else message
        out[(row.check_id, row.device_id)] = PriorVerdict(
            row.check_id, row.device_id, row.status, audit_id, day, message, origin.provenance,
            tuple(dict(e) for e in (origin.evidence or []) if isinstance(e, dict)))
    return out
