"""Read the check catalog (data) once: ids, titles, severities, remediation hints, and what each check needs.

`needs` says what an audit must contact for the check to decide (the vocabulary is NEEDS, documented
at the top of catalog.yaml); an audit contacts only what its profile's checks need. A catalog with a
missing, empty or unknown need is refused when it loads (CatalogError naming the check).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Iterable

import yaml

DATA = Path(__file__).resolve().parent.parent / "data"      # hardening/data: the policy as data files

# Needs that are not one device channel. `inventory` contacts nothing (the stored records: addresses,
# declared facts, stored credentials); it is always read, and a check that needs nothing else is declared-only.
SITE_NEEDS = {
    "inventory": "the site's and devices' stored records (addresses, declared facts, stored credentials)",
    "router_config": "every router and switch, read over SSH (its configuration, forwards, UPnP, VLANs)",
    "outside_probe": "the outside probe (AWXH_OUTSIDE_PROBE_URL), asked about the site's WAN address",
    "sensor": "this appliance's SIP sensor records (AWXH_SIP_SENSOR_EVENTS)",
}
# Device needs are <device>_<channel>: which Allworx devices, and which driver channel of theirs.
DEVICE_NEEDS = {"server": "allworx_server", "phone": "allworx_phone", "px": "px_expander"}
CHANNELS = {
    "snmp": "an SNMP read",
    "web": "a login to the web UI with the stored password",
    "probes": "TCP, banner and SIP probes from the LAN",
    "credential_test": "the gentle default-password login test (within the daily attempt budget)",
}
NEEDS: tuple[str, ...] = tuple(SITE_NEEDS) + tuple(f"{device}_{channel}" for device in DEVICE_NEEDS
                                                   for channel in CHANNELS)


class CatalogError(ValueError):
    """The catalog data is not valid (names the check and the problem)."""


def device_need(need: str) -> tuple[str, str] | None:
    """(device kind, channel) of a device need ('server_web' -> ('allworx_server', 'web')); None for a site need."""
    device, _, channel = need.partition("_")
    if device in DEVICE_NEEDS and channel in CHANNELS:
        return DEVICE_NEEDS[device], channel
    return None


def validate(entries: Any, source: str = "catalog") -> dict[str, dict]:
    """The catalog entries, each with its id and `needs` as a frozenset; CatalogError names what is wrong."""
    if not isinstance(entries, dict) or not entries:
        raise CatalogError(f"{source}: expected a mapping of check id -> entry")
    for check_id, entry in entries.items():
        if not isinstance(entry, dict):
            raise CatalogError(f"{source}: check {check_id}: expected a mapping, got {type(entry).__name__}")
        needs = entry.get("needs")
        if not isinstance(needs, list) or not needs or not all(isinstance(n, str) for n in needs):
            raise CatalogError(f"{source}: check {check_id}: `needs` must be a non-empty list of: {', '.join(NEEDS)}")
        unknown = sorted(set(needs) - set(NEEDS))
        if unknown:
            raise CatalogError(f"{source}: check {check_id}: unknown need(s) {', '.join(unknown)}; known: "
                               f"{', '.join(NEEDS)}")
        entry["id"], entry["needs"] = check_id, frozenset(needs)
    return entries


def load_catalog(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as fh:
        return validate(yaml.safe_load(fh), str(path))


@functools.cache
def catalog() -> dict[str, dict]:
    return load_catalog(DATA / "catalog.yaml")


def check_meta(check_id: str) -> dict:
    try:
        return catalog()[check_id]
    except KeyError:
        raise KeyError(f"unknown check id {check_id!r}") from None


def needs_of(check_ids: Iterable[str]) -> frozenset[str]:
    """Everything the given checks need, together (always including the inventory)."""
    return frozenset({"inventory"}).union(*(check_meta(c)["needs"] for c in check_ids))
