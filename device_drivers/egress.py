"""Which addresses the appliance may contact as devices (routers, Allworx devices, discovery targets).

Default: private LAN ranges and loopback only: a device record pointing at a public address (a typo,
or a token holder trying to use the appliance as a scanner) is refused before any packet is sent.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

from device_drivers.exceptions import DriverError

DEFAULT = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "fc00::/7"]


class EgressRefused(DriverError):
    """The address is outside the appliance's allowed device networks; nothing was sent."""


def check(address: str, allowed: Iterable[str]) -> None:
    nets = [ipaddress.ip_network(n) for n in allowed]
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        raise EgressRefused(f"{address!r} is not an IP address") from None
    if not any(addr in net for net in nets):
        raise EgressRefused(f"{address} is outside the appliance's allowed device networks "
                            f"({', '.join(map(str, nets))}); nothing was sent")


def check_network(network: str, allowed: Iterable[str]) -> None:
    net = ipaddress.ip_network(network, strict=False)
    if not any(net.subnet_of(ipaddress.ip_network(a)) for a in allowed
               if ipaddress.ip_network(a).version == net.version):
        raise EgressRefused(f"{network} is outside the appliance's allowed device networks; nothing was sent")
