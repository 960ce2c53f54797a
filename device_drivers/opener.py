"""One way to reach a device: an inventory record (DeviceSpec) in, a driver out.

Every caller (audits, remediation, install windows, port-forward verification, the simulator's test
helpers) goes through here, so the three rules are applied once:
1. egress: an address outside the allowed device networks is refused (EgressRefused) before any packet;
2. dispatch: one registry (device_drivers.DRIVERS), keyed by the kind for Allworx devices and by the
   netmiko device_type for routers and switches;
3. SSH host keys: a router's pinned key is checked before credentials go out; `open_device` reports the
   key seen on first contact (trust on first use) and a changed key (parked for an admin).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from device_drivers import DRIVERS, driver_class, egress
from device_drivers.base import DeviceDriver
from device_drivers.exceptions import HostKeyMismatch, UnsupportedDeviceType
from device_drivers.inventory import DeviceSpec

ALLWORX_KINDS = ("allworx_server", "allworx_phone", "px_expander")
ALLWORX_FIELDS = ("kind", "name", "device_id", "address", "wan_address", "ports", "snmp", "model",
                  "declared_facts", "credentials")
OnHostKey = Callable[[DeviceSpec, dict, bool], None]


def driver_key(spec: DeviceSpec) -> str:
    """The registry key serving `spec`: its kind for Allworx devices, its device_type otherwise."""
    if spec.kind in ALLWORX_KINDS:
        return spec.kind
    if spec.device_type not in DRIVERS or spec.device_type in ALLWORX_KINDS:    # a router named by a kind
        raise UnsupportedDeviceType(str(spec.device_type), sorted(DRIVERS))
    return spec.device_type


def check_egress(spec: DeviceSpec, allowed: Iterable[str] | None) -> None:
    """EgressRefused, naming the device, when its address is outside `allowed` (None: no check, tests only)."""
    if allowed is None:
        return
    try:
        egress.check(spec.address, allowed)
    except egress.EgressRefused as exc:
        raise egress.EgressRefused(f"{spec.name or 'device'}: {exc}") from None


def build_driver(spec: DeviceSpec, *, egress_allowed: Iterable[str] | None,
                 policy: Mapping[str, Any] | None = None, weak_passwords: Sequence[str] | None = None,
                 options: Mapping[str, Any] | None = None) -> DeviceDriver:
    """The driver for one inventory device, built but NOT opened (no I/O).

    Allworx drivers get `policy` (the policy data), `weak_passwords` and options["allworx"] (from_inventory
    keyword arguments, which win, or a DriverOptions object); routers get the spec's credentials, SSH port,
    host_key_pin=spec.host_key_pin and options["router"] (NetmikoRouterDriver keyword arguments).
    """
    check_egress(spec, egress_allowed)
    key = driver_key(spec)
    cls: Any = driver_class(key)            # UnsupportedDeviceType lists the known types
    options = options or {}
    if key in ALLWORX_KINDS:
        extra: dict[str, Any] = {"policy": policy,
                                 "weak_passwords": list(weak_passwords) if weak_passwords is not None else None}
        allworx = options.get("allworx")
        if isinstance(allworx, Mapping):
            extra.update(allworx)
        elif allworx is not None:           # a DriverOptions object
            extra["options"] = allworx
        entry = {name: getattr(spec, name) for name in ALLWORX_FIELDS}
        return cls.from_inventory(entry, **extra)
    creds = spec.credentials
    return cls(key, host=spec.address, username=creds.get("username", ""), password=creds.get("password"),
               secret=creds.get("enable_secret"), port=spec.ports.get("ssh", 22), host_key_pin=spec.host_key_pin,
               **dict(options.get("router") or {}))


@contextmanager
def open_device(spec: DeviceSpec, *, on_host_key: OnHostKey | None = None,
                **build_kwargs: Any) -> Iterator[DeviceDriver]:
    """build_driver + open(), closed on exit. For a router, `on_host_key(spec, pin, changed)` is called with
    changed=False on first contact (spec.host_key_pin is None: the caller stores the pin) and changed=True
    when the presented key is not the pinned one (the caller parks it for an admin; HostKeyMismatch
    re-raises, no credentials were sent)."""
    driver = build_driver(spec, **build_kwargs)
    try:
        try:
            driver.open()
        except HostKeyMismatch as exc:
            if on_host_key is not None and exc.presented_key:
                on_host_key(spec, exc.presented_key, True)
            raise
        presented = getattr(driver, "presented_host_key", None)
        if on_host_key is not None and spec.host_key_pin is None and presented:
            on_host_key(spec, presented, False)
        yield driver
    finally:
        driver.close()


__all__ = ["build_driver", "open_device", "driver_key", "check_egress", "ALLWORX_KINDS"]
