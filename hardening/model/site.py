"""The site picture the checks evaluate: the site's declared data, its devices' facts, its routers.

Drivers produce facts (device_drivers.facts); checks are pure functions of a SiteFacts. No I/O here.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from device_drivers.facts import DeviceFacts
from firewall.model import RouterConfig


@dataclass
class RouterFacts:
    device_id: int | None
    name: str
    config: RouterConfig | None
    error: str | None = None         # set when the router could not be read or parsed
    source: str = ""                 # "ssh:10.0.0.1" or "file:config.txt"


@dataclass
class SiteInfo:
    name: str = ""
    wan_addresses: list[str] = field(default_factory=list)
    lan_subnets: list[str] = field(default_factory=list)
    voice_vlan_id: int | None = None
    voice_subnet: str | None = None
    required_wan_services: list[str] = field(default_factory=list)
    allowed_sip_peers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PriorVerdict:
    """A gentle-login check's last decided verdict on one device, from an earlier completed audit: what a
    later audit carries forward when its own test could not run (the daily attempt budget was spent)."""
    check_id: str
    device_id: int
    status: str                          # pass | fail
    audit_id: int                        # the audit that decided it (never one that only carried it)
    decided_on: str                      # that audit's date, ISO (UTC)
    message: str
    provenance: str
    evidence: tuple[dict[str, Any], ...] = ()     # as stored (Evidence.to_dict)

    def carried_message(self, why: str) -> str:
        """The message of a result that carries this verdict forward (read back by `carried_from`)."""
        return f"carried forward from audit {self.audit_id} ({self.decided_on}): {self.message}{_NOT_RETESTED}{why}"

    @staticmethod
    def carried_from(message: str) -> tuple[int, str, str] | None:
        """(deciding audit id, its date, the message it quoted) of a carried-forward message, else None."""
        found = _CARRIED.match(message or "")
        if not found:
            return None
        return int(found[1]), found[2], message[found.end():].rsplit(_NOT_RETESTED, 1)[0]


_CARRIED = re.compile(r"carried forward from audit (\d+) \((\d{4}-\d{2}-\d{2})\): ")
_NOT_RETESTED = "; not re-tested today: "


@dataclass
class SiteFacts:
    site: SiteInfo
    devices: list[DeviceFacts] = field(default_factory=list)
    routers: list[RouterFacts] = field(default_factory=list)
    outside: dict[str, Any] | None = None       # outside-probe results keyed "tcp/8080", "udp/5060", "icmp"
    sensor_events: list[dict[str, Any]] | None = None   # SIP sensor records; None = no sensor data
    install_window_open: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # (check id, device id) -> the last decided verdict of AWX-SRV-005 / AWX-PHN-006 / AWX-PX-001
    prior_verdicts: dict[tuple[str, int], PriorVerdict] = field(default_factory=dict)

    def of_kind(self, *kinds: str) -> list[DeviceFacts]:
        return [d for d in self.devices if d.kind in kinds]

    def allworx_devices(self) -> list[DeviceFacts]:
        return self.of_kind("allworx_server", "allworx_phone", "px_expander")


def is_private(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("/")[0]).is_private
    except ValueError:
        return False
