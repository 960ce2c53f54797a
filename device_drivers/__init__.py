"""Device drivers: the one DRIVERS registry (Allworx kinds and router device types).

Adding a device type is one package under device_drivers/ plus one line in DRIVERS. Entries
name the class as "module:Class" and are imported on first use, so importing this package
pulls in neither netmiko nor pysnmp. A driver object is built without I/O; call open() (or
use it as a context manager).

Callers reach an inventory device through device_drivers.opener (build_driver / open_device:
egress check, dispatch on this registry, SSH host-key pinning), never through driver_class or
get_driver directly; those two are the registry's own lookup, kept for the driver tests.
"""
from __future__ import annotations

import importlib
from typing import Any

from device_drivers.base import DeviceDriver
from device_drivers.exceptions import UnsupportedDeviceType

_ROUTER = "device_drivers.routers:NetmikoRouterDriver"     # one driver, many platforms
DRIVERS: dict[str, str] = {
    "allworx_server": "device_drivers.allworx:AllworxServerDriver",
    "allworx_phone": "device_drivers.allworx:AllworxPhoneDriver",
    "px_expander": "device_drivers.allworx:PxExpanderDriver",
    "cisco_asa": _ROUTER,
    "cisco_ios": _ROUTER,
    "fortinet": _ROUTER,
    "juniper_junos": _ROUTER,
    "linux": _ROUTER,
    "mikrotik_routeros": _ROUTER,
    "openwrt": _ROUTER,
    "ubiquiti_edgerouter": _ROUTER,
    "vyos": _ROUTER,
}


def driver_class(device_type: str) -> type[DeviceDriver]:
    """The class serving `device_type`; UnsupportedDeviceType lists the known types."""
    try:
        module_name, _, class_name = DRIVERS[device_type].partition(":")
    except (KeyError, TypeError):
        raise UnsupportedDeviceType(str(device_type), sorted(DRIVERS)) from None
    return getattr(importlib.import_module(module_name), class_name)


def get_driver(device_type: str, **kwargs: Any) -> DeviceDriver:
    """Build (not open) the driver for `device_type` with the driver's own keyword arguments."""
    cls = driver_class(device_type)
    if getattr(cls, "serves_many_types", False):      # NetmikoRouterDriver(platform, ...)
        return cls(device_type, **kwargs)
    return cls(**kwargs)


__all__ = ["DRIVERS", "driver_class", "get_driver", "DeviceDriver", "UnsupportedDeviceType"]
