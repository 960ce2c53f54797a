"""What an audit contacts, from what its checks need (hardening.model.catalog NEEDS), and the proof
afterwards that every need of the selected checks was honoured on every device it concerns.

A device whose facts no selected check needs is not contacted at all: its inventory record (address,
declared facts, stored credentials) still goes into the site picture, which the router checks read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from device_drivers.inventory import DeviceSpec
from hardening.model.catalog import DEVICE_NEEDS, NEEDS, device_need
from hardening.model.site import SiteFacts

EVERYTHING = frozenset(NEEDS)
DRIVER_CHANNELS = ("snmp", "web", "probes")        # the Allworx drivers' gather() channels, in their order
ALLWORX_KINDS = ("allworx_server", "allworx_phone", "px_expander")
NETWORK_KINDS = ("router", "switch")
_ROLE = {kind: device for device, kind in DEVICE_NEEDS.items()}     # "allworx_server" -> "server"


class ContactGap(AssertionError):
    """A selected check needs a device the audit did not contact: a bug, never a silent pass."""


@dataclass(frozen=True)
class DeviceContact:
    """What one Allworx device is asked for."""
    channels: tuple[str, ...] = ()           # driver channels, a subset of DRIVER_CHANNELS
    credential_test: bool = False            # the gentle login test (when the appliance has a budget)

    @property
    def anything(self) -> bool:
        return bool(self.channels or self.credential_test)


def device_needs(spec: DeviceSpec, needs: Iterable[str]) -> frozenset[str]:
    """The needs that concern this device: its kind's channels, or router_config for a router/switch."""
    needs = frozenset(needs)
    if spec.kind in NETWORK_KINDS:
        return needs & {"router_config"} if spec.device_type else frozenset()
    return frozenset(n for n in needs if (dn := device_need(n)) is not None and dn[0] == spec.kind)


def allworx_contact(spec: DeviceSpec, needs: Iterable[str]) -> DeviceContact:
    wanted = {device_need(n)[1] for n in device_needs(spec, needs)}
    return DeviceContact(tuple(c for c in DRIVER_CHANNELS if c in wanted), "credential_test" in wanted)


def honoured(spec: DeviceSpec, contact: DeviceContact) -> set[str]:
    """The need names a contact honours on this device ('server_web', ...), for GatherResult.contacted."""
    role = _ROLE[spec.kind]
    return {f"{role}_{c}" for c in contact.channels} | ({f"{role}_credential_test"} if contact.credential_test
                                                        else set())


def gaps(needs: Iterable[str], devices: Iterable[DeviceSpec], facts: SiteFacts, contacted: dict[int, set[str]],
         credential_tests: bool) -> list[str]:
    """'device: need, ...' for every device a need concerns that was not contacted for it. Exempt: a device
    that failed before or while being read (its error result says so), and credential tests when the
    appliance runs none (CREDENTIAL_TESTS off: the checks then say "not tested")."""
    failed = {d.device_id for d in facts.devices if d.errors.get("gather")}
    failed |= {r.device_id for r in facts.routers if r.error}
    out = []
    for spec in devices:
        wanted = {n for n in device_needs(spec, needs) if credential_tests or not n.endswith("_credential_test")}
        missing = sorted(wanted - contacted.get(spec.device_id, set()))
        if missing and spec.device_id not in failed:
            out.append(f"{spec.name or spec.address}: {', '.join(missing)}")
    return out
