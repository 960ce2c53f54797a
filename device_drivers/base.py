"""The abstract driver every device type implements: open/close, facts, and for routers the config.

Modelled on NAPALM's NetworkDriver and netmiko's BaseConnection, except that connecting is
never done in __init__: a driver object is cheap, `open()` does the I/O (so tests and the API
can build one without touching the network), and the context manager closes it on any exit.
"""
from __future__ import annotations

import abc
from types import TracebackType
from typing import TypedDict

from firewall.model import RouterConfig


class Facts(TypedDict):
    """What identifies a device; empty strings where the device does not say."""
    device_type: str
    hostname: str
    vendor: str
    model: str
    os_version: str
    serial: str


class DeviceDriver(abc.ABC):
    """One device, reached over one transport. Subclasses set up the connection in open()."""

    device_type: str = ""

    @abc.abstractmethod
    def open(self) -> None:
        """Connect and log in; raise a DriverError subclass with the reason on failure."""

    @abc.abstractmethod
    def close(self) -> None:
        """Disconnect; safe to call twice and after a failed open()."""

    @property
    @abc.abstractmethod
    def is_open(self) -> bool:
        """True between a successful open() and close()."""

    @abc.abstractmethod
    def get_facts(self) -> Facts:
        """Identify the device (hostname, vendor, model, software version, serial)."""

    def __enter__(self) -> "DeviceDriver":
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class RouterDriver(DeviceDriver):
    """A router or firewall whose NAT, VLAN and feature configuration can be read."""

    @abc.abstractmethod
    def get_config(self) -> RouterConfig:
        """Read the device's configuration into the vendor-neutral model."""
