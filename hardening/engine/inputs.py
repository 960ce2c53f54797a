"""What an audit reads from the inventory: the site, its devices with decrypted credentials, and
what the audit records back on the devices (first-contact host keys)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from device_drivers.inventory import DeviceSpec
from hardening.engine.context import AuditContext
from hardening.engine.gather import GatherResult
from hardening.model.site import SiteInfo
from store.audit_models import InstallWindow
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


def site_inputs(sess: Session, site_id: int, context: AuditContext, needs: frozenset[str]) -> SiteInputs:
    """The site and its devices; the SIP sensor's records only when a selected check needs them."""
    site = sess.get(Site, site_id)
    devices = sess.scalars(select(Device).where(Device.site_id == site_id).order_by(Device.id)
                           .options(selectinload(Device.credential))).all()     # one query, not one per device
    read_sensor = "sensor" in needs and context.sensor_events is not None
    return SiteInputs(site_info(site), [device_spec(d, context.secret_box) for d in devices],
                      install_window_open(sess, site_id), context.sensor_events(site) if read_sensor else None)


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
