"""Address and port geometry the exposure analysis needs: address matching, LAN-only sources,
restrictions within allowed networks, policy-style port lists. Vendor-neutral: the Allworx roles, the
site context and the policy port sets built on these live in hardening.model.exposure.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from firewall.model import PortRange

_LAN_NETS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10",
    "::1/128"))


# Never reachable from the internet as a destination. Documentation ranges (192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32) stay routable: examples and lab sites use them for public addresses.
_NON_ROUTABLE = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"))


def internet_routable(address: str) -> bool:
    """True when `address` (an address or address/prefix) can be a destination from the internet;
    False for link-local, loopback, private, CGNAT, multicast, reserved, unspecified and non-addresses."""
    try:
        ip = ipaddress.ip_interface(address.strip()).ip
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not any(ip.version == net.version and ip in net for net in _NON_ROUTABLE)


def port_ranges(values: Any) -> tuple[PortRange, ...]:
    """Policy port lists: 8080, [5060, 5061] or "10000-20000" per entry."""
    out = []
    for value in values or ():
        if isinstance(value, (list, tuple)):
            out.append(PortRange(int(value[0]), int(value[-1])))
        else:
            lo, _, hi = str(value).partition("-")
            out.append(PortRange(int(lo), int(hi or lo)))
    return tuple(out)


def address_matches(internal_ip: str | None, address: str) -> bool:
    """True when `address` is the forward's internal address, inside its network, or in its a-b pool."""
    if not internal_ip or not address:
        return False
    try:
        wanted = ipaddress.ip_address(address)
        if "-" in internal_ip:
            lo, hi = (ipaddress.ip_address(p.strip()) for p in internal_ip.split("-", 1))
            return lo.version == wanted.version and lo <= wanted <= hi
        return wanted in ipaddress.ip_network(internal_ip, strict=False)
    except ValueError:
        return internal_ip == address


def lan_only_sources(restriction: list[str] | None) -> bool:
    """Every source is an RFC1918 / ULA / loopback / link-local network (documentation ranges are not)."""
    if not restriction:
        return False
    try:
        nets = [ipaddress.ip_network(entry, strict=False) for entry in restriction]
    except ValueError:
        return False
    return all(any(n.version == lan.version and n.subnet_of(lan) for lan in _LAN_NETS) for n in nets)


def restriction_within(restriction: list[str] | None, allowed: list[str]) -> list[str]:
    """The source restriction entries NOT contained in an allowed network ([] = all contained)."""
    if not restriction:
        return ["any source"]
    nets = []
    for peer in allowed:
        try:
            nets.append(ipaddress.ip_network(peer, strict=False))
        except ValueError:
            continue
    outside = []
    for entry in restriction:
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:     # negations, named address lists: not provably inside the allowed peers
            outside.append(entry)
            continue
        if not any(net.version == n.version and net.subnet_of(n) for n in nets):
            outside.append(entry)
    return outside
