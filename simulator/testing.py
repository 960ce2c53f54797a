"""Helpers for tests, the demo and the benchmark: Allworx drivers pointed at a simulated site."""
from __future__ import annotations

from typing import Any

from device_drivers.allworx import DRIVERS, DriverOptions
from hardening.model.policy import Policy, weak_passwords
from simulator.site import Site

QUICK = DriverOptions(timeout=2.0, probe_timeout=0.5, snmp_timeout=0.5, snmp_retries=1)


def quick_policy(**credential_test: Any) -> Policy:
    """The shipped policy with no pause between login tries (plus any credential_test overrides)."""
    return Policy({"credential_test": {"delay_seconds": 0, **credential_test}})


def driver(site: Site, name: str, **kwargs: Any):
    """The driver for one simulated device, built from the site's inventory entry."""
    entry = next((e for e in site.inventory() if e["name"] == name), None)
    if entry is None:
        raise KeyError(f"no device {name!r} in the site")
    kwargs.setdefault("options", QUICK)
    kwargs.setdefault("policy", quick_policy())
    kwargs.setdefault("weak_passwords", weak_passwords())
    return DRIVERS[entry["kind"]].from_inventory(entry, **kwargs)
