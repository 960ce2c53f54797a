"""Open a router from the inventory: stored credentials, pinned host key, first contact recorded."""
from __future__ import annotations

import contextlib
from typing import Iterator

from device_drivers import egress, get_driver
from device_drivers.exceptions import HostKeyMismatch
from store.models import Device
from store.secrets import get_secrets


@contextlib.contextmanager
def open_router(device: Device, box=None, sess=None, egress_allowed=None, **driver_options) -> Iterator:
    """An open router driver; a changed host key is parked on the device for an admin, then re-raised."""
    if egress_allowed is not None:
        egress.check(device.address, egress_allowed)
    secrets = get_secrets(device, box)
    username = device.credential.username if device.credential else ""
    driver = get_driver(device.device_type, host=device.address, username=username,
                        password=secrets.get("password"), secret=secrets.get("enable_secret"),
                        port=(device.ports or {}).get("ssh", 22), host_key_pin=device.ssh_host_key,
                        **driver_options)
    try:
        driver.open()
    except HostKeyMismatch as exc:
        if exc.presented_key and sess is not None:
            device.ssh_host_key_presented = exc.presented_key
            sess.commit()
        raise
    try:
        if device.ssh_host_key is None and driver.presented_host_key and sess is not None:
            device.ssh_host_key = driver.presented_host_key        # trust on first use
            sess.commit()
        yield driver
    finally:
        driver.close()
