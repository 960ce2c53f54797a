"""The site picture the checks evaluate: the site's declared data, its devices' facts, its routers.

Drivers produce facts (device_drivers.facts); checks are pure functions of a SiteFacts. No I/O here.
"""
from __future__ import annotations

import ipaddress
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


@dataclass
class SiteFacts:
    site: SiteInfo
    devices: list[DeviceFacts] = field(default_factory=list)
    routers: list[RouterFacts] = field(default_factory=list)
    outside: dict[str, Any] | None = None       # outside-probe results keyed "tcp/8080", "udp/5060", "icmp"
    sensor_events: list[dict[str, Any]] | None = None   # SIP sensor records; None = no sensor data
    install_window_open: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def of_kind(self, *kinds: str) -> list[DeviceFacts]:
        return [d for d in self.devices if d.kind in kinds]

    def allworx_devices(self) -> list[DeviceFacts]:
        return self.of_kind("allworx_server", "allworx_phone", "px_expander")


def is_private(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("/")[0]).is_private
    except ValueError:
        return False
