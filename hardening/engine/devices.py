"""Reach a stored device: its inventory record, decrypted, through device_drivers.opener, with what the
contact learnt about its SSH host key written back on the Device row (trust on first use; a changed key
parked for an admin to accept). Remediation, install windows and port-forward verification use this."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from sqlalchemy.orm import object_session

from device_drivers.base import DeviceDriver
from device_drivers.inventory import DeviceSpec
from device_drivers.opener import build_driver, open_device
from hardening.engine.inputs import device_spec
from hardening.model.policy import Policy, weak_passwords
from store.models import Device


@dataclass(frozen=True)
class DeviceAccess:
    """What reaching a device takes: the secret box, the egress allow-list (None = no check, tests only),
    driver options ({"allworx": ..., "router": ...}) and the policy data (default: the shipped policy)."""
    box: Any
    egress_allowed: Sequence[str] | None
    options: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, Any] | None = None

    def _build_kwargs(self) -> dict[str, Any]:
        return {"egress_allowed": self.egress_allowed, "options": self.options, "weak_passwords": weak_passwords(),
                "policy": self.policy if self.policy is not None else Policy().data}

    def driver(self, device: Device) -> DeviceDriver:
        """The device's driver, not opened (Allworx reads and writes open their own web sessions)."""
        return build_driver(device_spec(device, self.box), **self._build_kwargs())

    @contextlib.contextmanager
    def open(self, device: Device) -> Iterator[DeviceDriver]:
        """The device's driver, open; closed on exit. A router's first key is pinned on the row, a changed
        one parked on it (HostKeyMismatch re-raises)."""
        def on_host_key(_spec: DeviceSpec, pin: dict, changed: bool) -> None:
            remember_host_key(device, pin, changed)
        with open_device(device_spec(device, self.box), on_host_key=on_host_key, **self._build_kwargs()) as drv:
            yield drv


def remember_host_key(device: Device, pin: dict, changed: bool) -> None:
    """Pin a first-contact key, or park a changed one for an admin; committed on the row's own session at
    once (a refused contact must still leave the presented key behind)."""
    if changed:
        device.ssh_host_key_presented = pin
    elif device.ssh_host_key is None:
        device.ssh_host_key = pin
    else:
        return
    sess = object_session(device)
    if sess is not None:
        sess.commit()
