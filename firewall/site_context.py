"""Who the exposure analysis protects and from whom: Allworx addresses, allowed sources, port sets.

Kept apart from firewall.exposure so both stay small; read by attribute from a hardening SiteFacts
and Policy, so firewall/ never imports hardening/ at module level.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from firewall.model import PortRange

_LAN_NETS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10",
    "::1/128"))

ROLE_LABELS = {"server_lan": "server LAN", "server_wan": "server WAN", "phone": "phone", "px": "Px Expander"}
_DEVICE_ROLES = {"allworx_phone": "phone", "px_expander": "px"}


@dataclass(frozen=True)
class Target:
    """One Allworx address a forward may reach."""
    address: str
    role: str                      # a key of ROLE_LABELS
    name: str = ""
    device_id: int | None = None

    @property
    def label(self) -> str:
        name = f" {self.name}" if self.name and self.name != self.address else ""
        return f"{ROLE_LABELS[self.role]}{name} ({self.address})"


@dataclass
class SiteContext:
    targets: list[Target] = field(default_factory=list)
    allowed_sip_peers: list[str] = field(default_factory=list)
    required_wan_services: list[str] = field(default_factory=list)

    @classmethod
    def from_site_facts(cls, facts: Any) -> "SiteContext":
        """From a hardening SiteFacts (read by attribute, so firewall/ does not import hardening/)."""
        targets = []
        for dev in facts.devices:
            if dev.kind == "allworx_server":
                targets.append(Target(dev.address, "server_lan", dev.name, dev.device_id))
                targets.append(Target(dev.wan_address or "", "server_wan", dev.name, dev.device_id))
            elif dev.kind in _DEVICE_ROLES:
                targets.append(Target(dev.address, _DEVICE_ROLES[dev.kind], dev.name, dev.device_id))
        return cls([t for t in targets if t.address], list(facts.site.allowed_sip_peers),
                   list(facts.site.required_wan_services))

    def of_role(self, *roles: str) -> list[Target]:
        return [t for t in self.targets if t.role in roles]


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


@dataclass(frozen=True)
class PortPolicy:
    """The port sets of hardening/data/policy.yaml the exposure rules use."""
    admin: tuple[PortRange, ...]
    phone_web: tuple[PortRange, ...]
    px_web: tuple[PortRange, ...]
    mail: tuple[PortRange, ...]
    sip: tuple[PortRange, ...]
    blf: tuple[PortRange, ...]
    rtp_known: tuple[PortRange, ...]
    rtp_min_size: int
    services: dict[str, tuple[str, ...]]

    @classmethod
    def from_policy(cls, policy: Any) -> "PortPolicy":
        if policy is None:
            from hardening.model.policy import Policy  # lazy: firewall/ stays usable without hardening data
            policy = Policy()
        get = policy.get
        return cls(port_ranges(get("admin_ports", [8080])),
                   port_ranges(get("phone_web_ports", [80, 443])),
                   port_ranges(get("px_web_ports", [80, 443])),
                   port_ranges(get("mail_ports", [])),
                   port_ranges(get("sip_ports", [[5060, 5061]])),
                   port_ranges(get("blf_ports", [[2088, 2088]])),
                   port_ranges(get("rtp_known_ranges", [])),
                   int(get("rtp_min_range_size", 10)),
                   {k: tuple(v) for k, v in (get("wan_services") or {}).items()})


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
