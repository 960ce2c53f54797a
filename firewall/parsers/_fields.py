"""Field helpers shared by the Linux, OpenWrt, VyOS/EdgeOS and pfSense parsers (group B).

Protocol and port normalisation, netmask arithmetic, shell-error detection and the
netfilter match record that both the nftables and the iptables readers turn into a forward.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from firewall.model import FeatureState, ParseWarning, PortForward, PortRange, RouterConfig, SourceRef, parse_ports
from firewall.parsers._text import ensure_text, is_voice_name, merge_interfaces, merge_vlans, service_port, to_cidr

_PROTO_ALIASES = {
    "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp",
    "tcp_udp": "tcp_udp", "tcpudp": "tcp_udp", "tcp udp": "tcp_udp", "udp tcp": "tcp_udp",
    "tcp/udp": "tcp_udp", "all": "any", "any": "any", "ip": "any", "0": "any", "": "any",
}
_SHELL_ERRORS = re.compile(
    r"(command not found|: not found$|permission denied|operation not permitted|"
    r"^% ?invalid|^invalid command|unknown command|no such file or directory|must be root)",
    re.IGNORECASE | re.MULTILINE)


def norm_proto(text: str) -> str:
    """One protocol word or list ('tcp udp', 'tcpudp', '6') in the model's vocabulary."""
    key = " ".join(str(text).lower().replace(",", " ").split())
    return _PROTO_ALIASES.get(key, f"other:{key}")


def merge_protos(protos: set[str]) -> str:
    """A set of matched protocols ({'tcp', 'udp'}) as one model protocol; empty = any."""
    if not protos or "any" in protos:
        return "any"
    if protos == {"tcp", "udp"}:
        return "tcp_udp"
    if len(protos) == 1:
        return next(iter(protos))
    return "other:" + ",".join(sorted(protos))


def try_ports(text: str, sep: str = ",") -> list[PortRange] | None:
    """parse_ports that answers None on anything it cannot read (the caller warns)."""
    try:
        return parse_ports(str(text).strip(), sep)
    except ValueError:
        return None


def try_service_ports(text: str) -> list[PortRange] | None:
    """try_ports that also reads service names ('sip,http' -> 5060, 80), as Vyatta and pf accept them."""
    parts = []
    for part in str(text).replace(" ", "").split(","):
        port = service_port(part) if part and not part[0].isdigit() else None
        parts.append(str(port) if port is not None else part)
    return try_ports(",".join(parts))


def shell_error(text: str) -> str | None:
    """The error line when `text` (a few lines at most) is a shell/CLI error, not command output."""
    if len(text) > 4096 or len([line for line in text.splitlines() if line.strip()]) > 3:
        return None                     # the length test spares a regex search of one-line `nft -j` output
    match = _SHELL_ERRORS.search(text.strip())
    if not match:
        return None
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    return text[start:end if end >= 0 else None].strip()


def cidr(address: str, mask: str | int | None) -> str | None:
    """'10.1.0.1' + '255.255.0.0' (or 16) -> '10.1.0.1/16'; None when it is not an address."""
    try:
        if mask:
            return to_cidr(address.strip(), str(mask).strip())
        return ipaddress.ip_interface(address.strip()).with_prefixlen
    except ValueError:
        return None


def network_of(address: str | None) -> str | None:
    """The network CIDR of an interface address ('10.1.0.1/16' -> '10.1.0.0/16')."""
    try:
        return str(ipaddress.ip_interface(address).network) if address else None
    except ValueError:
        return None


def first_v4_network(addresses: list[str]) -> str | None:
    for address in addresses:
        net = network_of(address)
        if net and ":" not in net:
            return net
    return None


def is_voice(*names: str) -> bool:
    return any(is_voice_name(name) for name in names)


def warn(cfg: RouterConfig, command: str, line: int | None, text: str, message: str) -> None:
    cfg.warnings.append(ParseWarning(command, line, text.rstrip(), message))


@dataclass
class NatMatch:
    """What a netfilter (nftables or iptables) rule matches before it rewrites the destination."""
    iif: str | None = None
    daddr: str | None = None
    saddr: list[str] | None = None
    protos: set[str] = field(default_factory=set)
    dports: list[PortRange] | None = None
    comment: str = ""
    unknown: list[str] = field(default_factory=list)

    def inherit(self, parent: "NatMatch") -> "NatMatch":
        """This match inside a chain reached from `parent` (a jump keeps the parent's conditions)."""
        return NatMatch(self.iif or parent.iif, self.daddr or parent.daddr,
                        self.saddr or parent.saddr, self.protos or set(parent.protos),
                        self.dports or parent.dports, self.comment, list(self.unknown))

    def forward(self, internal_ip: str, internal_ports: list[PortRange] | None,
                ref: SourceRef, kind: str = "dnat") -> PortForward:
        proto = merge_protos(self.protos)
        if kind == "dnat" and self.dports is None and proto == "any":
            kind = "dmz"
        return PortForward(kind=kind, proto=proto, internal_ip=internal_ip, external_ip=self.daddr,
                           external_if=self.iif, external_ports=self.dports,
                           internal_ports=internal_ports, comment=self.comment,
                           source_restriction=self.saddr, source_ref=ref)


def split_target(target: str) -> tuple[str, str | None]:
    """'10.0.0.5:80-81' -> ('10.0.0.5', '80-81'); '[2001:db8::1]:25' -> ('2001:db8::1', '25')."""
    target = target.strip()
    if target.startswith("["):
        addr, _, rest = target[1:].partition("]")
        return addr, rest[1:] if rest.startswith(":") else None
    if target.count(":") == 1:
        addr, _, port = target.partition(":")
        return addr, port or None
    return target, None


def first_address(addr: str) -> str:
    """The first address of a pool ('10.0.0.1-10.0.0.5' -> '10.0.0.1')."""
    return addr.split("-", 1)[0].strip()


def _rank(state: FeatureState) -> int:
    """on > undecidable for a stated reason (an unread include can turn it on) > off > not in this output."""
    if state.enabled is None:
        return 2 if state.detail else 0
    return 3 if state.enabled else 1


def fold(cfg: RouterConfig, part: RouterConfig) -> None:
    """Merge `part` into `cfg`, keeping the strongest feature evidence (see _rank)."""
    features = {name: getattr(part, name) for name in ("upnp", "sip_alg")}
    part.upnp, part.sip_alg = FeatureState(), FeatureState()
    cfg.merge(part)
    for name, state in features.items():
        if _rank(state) > _rank(getattr(cfg, name)):
            setattr(cfg, name, state)


def read_outputs(platform: str, outputs: Mapping[str, str],
                 read: Callable[[str, str], RouterConfig]) -> RouterConfig:
    """The parse() loop: binary input is a ParseError, a shell/CLI error a warning, the rest `read`."""
    cfg = RouterConfig(platform=platform)
    for command, text in outputs.items():
        text = text or ""
        ensure_text(text, command or "pasted text")
        error = shell_error(text)
        if error:
            part = RouterConfig(platform=platform, commands=[command])
            warn(part, command, None, error, "command failed on the device; its output was not read")
        else:
            part = read(command, text)
        fold(cfg, part)
    cfg.platform = platform
    # one VLAN id may run on several parents (vmx0.100, vmx1.100): fold duplicates per interface only
    by_interface: dict[str, list] = {}
    for vlan in cfg.vlans:
        by_interface.setdefault(vlan.interface or "", []).append(vlan)
    cfg.vlans = sorted((v for group in by_interface.values() for v in merge_vlans(group)), key=lambda v: v.vlan_id)
    cfg.interfaces = merge_interfaces(cfg.interfaces)
    return cfg
