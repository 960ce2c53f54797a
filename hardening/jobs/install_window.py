"""Time-boxed Plug 'n' Play install windows: allow phone creates for N minutes, then close by itself.

Opening writes the server's PnP switches and records what they were; the background leader closes
every window whose time is up, reads the switches back, and keeps retrying (state stays `open`, the
error recorded) while the server cannot be reached -- audits meanwhile report the expired window.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import select

from device_drivers.base import DeviceDriver
from store.audit_models import InstallWindow
from store.db import error_text
from store.models import Device, utcnow

SETTINGS = {"lan": ("pnp_lan_creates_enabled",), "wan": ("pnp_wan_creates_enabled",),
            "both": ("pnp_lan_creates_enabled", "pnp_wan_creates_enabled")}
MAX_MINUTES = 240
DriverFor = Callable[[Device], DeviceDriver]     # hardening.engine.devices.DeviceAccess.driver: egress, policy


class WindowError(Exception):
    pass


def open_window(sess, site_id: int, minutes: int, scope: str, actor: str, driver_for: DriverFor) -> InstallWindow:
    if not 1 <= minutes <= MAX_MINUTES:
        raise WindowError(f"minutes must be 1..{MAX_MINUTES}")
    server = sess.scalar(select(Device).where(Device.site_id == site_id, Device.kind == "allworx_server"))
    if server is None:
        raise WindowError("the site has no allworx_server in its inventory")
    driver = driver_for(server)
    changes: list[dict[str, Any]] = [driver.set_setting(name, True) for name in SETTINGS[scope]]
    window = InstallWindow(site_id=site_id, opened_by=actor, closes_at=utcnow() + timedelta(minutes=minutes),
                           detail={"scope": scope, "device_id": server.id, "changes": _plain(changes)})
    sess.add(window)
    sess.commit()
    return window


def close_due(db, driver_for: DriverFor, now=None) -> list[int]:
    """Close every open window past its time; returns the ids closed."""
    now = now or utcnow()
    closed = []
    with db.session() as sess:
        due = sess.scalars(select(InstallWindow).where(InstallWindow.state == "open",
                                                       InstallWindow.closes_at <= now)).all()
        for window in due:
            try:
                _close(sess, window, driver_for)
                closed.append(window.id)
            except Exception as exc:        # the device is down: keep trying, say why
                window.detail = {**window.detail, "last_error": error_text(exc)[:300]}
            sess.commit()
    return closed


def close_now(sess, window: InstallWindow, driver_for: DriverFor) -> None:
    _close(sess, window, driver_for)
    sess.commit()


def _close(sess, window: InstallWindow, driver_for: DriverFor) -> None:
    device = sess.get(Device, window.detail["device_id"])
    driver = driver_for(device)
    results = [driver.set_setting(name, False) for name in SETTINGS[window.detail["scope"]]]
    if any(r.get("after") is not False for r in results):
        raise WindowError(f"read-back after closing: {_plain(results)}")
    window.state, window.closed_at = "closed", utcnow()
    window.detail = {**window.detail, "close_changes": _plain(results)}


def _plain(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k in ("setting", "before", "after", "changed", "menu")} for c in changes]
