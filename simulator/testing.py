"""Helpers for tests, the demo and the benchmark: Allworx drivers pointed at a simulated site."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from device_drivers.allworx import DriverOptions
from device_drivers.inventory import DeviceSpec
from device_drivers.opener import build_driver
from hardening.model.policy import Policy, weak_passwords
from simulator.site import Site

QUICK = DriverOptions(timeout=2.0, probe_timeout=0.5, snmp_timeout=0.5, snmp_retries=1)
_SPEC_FIELDS = {f.name for f in dataclasses.fields(DeviceSpec)}


def quick_policy(**credential_test: Any) -> Policy:
    """The shipped policy with no pause between login tries (plus any credential_test overrides)."""
    return Policy({"credential_test": {"delay_seconds": 0, **credential_test}})


def entry_driver(entry: Mapping[str, Any], **kwargs: Any):
    """The driver for one inventory entry (as Site.inventory() gives), through the one opener.

    kwargs: inventory fields to override (credentials, ports, ...), policy (a Policy or its data),
    weak_passwords, options (DriverOptions); anything else goes to the driver as it is. The simulated
    site listens on loopback only, so no egress allow-list is applied."""
    fields = {k: v for k, v in entry.items() if k in _SPEC_FIELDS}
    fields.update({k: kwargs.pop(k) for k in list(kwargs) if k in _SPEC_FIELDS})
    fields.setdefault("device_id", None)
    spec = DeviceSpec(**{k: v for k, v in fields.items() if v is not None or k in ("device_id", "wan_address")})
    policy = kwargs.pop("policy") if "policy" in kwargs else quick_policy()
    weak = kwargs.pop("weak_passwords", weak_passwords())
    allworx = {"options": kwargs.pop("options", QUICK), **kwargs}
    return build_driver(spec, egress_allowed=None, policy=getattr(policy, "data", policy), weak_passwords=weak,
                        options={"allworx": allworx})


def driver(site: Site, name: str, **kwargs: Any):
    """The driver for one simulated device, built from the site's inventory entry."""
    entry = next((e for e in site.inventory() if e["name"] == name), None)
    if entry is None:
        raise KeyError(f"no device {name!r} in the site")
    return entry_driver(entry, **kwargs)
