"""The vendor-neutral model every router parser produces and every analysis reads.

One shape for all platforms (see ../shared/docs/router-cli.md, section 0): a forward is a
destination-NAT rule with its external side (address or interface, ports), its internal side
(address, ports), protocol, source restriction, enabled flag and a reference back to the exact
line or rule it came from, so a finding can point at it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PROTOCOLS = ("tcp", "udp", "tcp_udp", "any")          # anything else is "other:<name>"
FORWARD_KINDS = ("static_pat", "static_1to1", "dnat", "dmz", "upnp_dynamic", "runtime_translation",
                 "ipv6_pinhole")                      # an IPv6 allow rule to an inside host (no NAT)
# What an Unparsed item was: each names the checks whose verdict it could change (hardening decides which).
UNPARSED_CONSTRUCTS = ("nat", "forward", "filter", "helper", "upnp", "vlan", "address_list", "interface")


class ParseError(ValueError):
    """Input that is not output of the named platform (garbled, truncated, binary)."""


@dataclass(frozen=True)
class PortRange:
    lo: int
    hi: int

    def __post_init__(self) -> None:
        if not (0 <= self.lo <= self.hi <= 65535):
            raise ValueError(f"bad port range {self.lo}-{self.hi}")

    def __contains__(self, port: int) -> bool:
        return self.lo <= port <= self.hi

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1


@dataclass
class SourceRef:
    """Where a rule came from: the command (or file), line numbers, and the rule's own id/name."""
    command: str = ""
    line: int | None = None          # 1-based line in that command's output
    end_line: int | None = None
    rule_id: str = ""                # rule number, name, config path
    text: str = ""                   # the raw excerpt (one or a few lines)


@dataclass
class PortForward:
    kind: str                                   # one of FORWARD_KINDS
    proto: str                                  # one of PROTOCOLS or "other:<name>"
    internal_ip: str | None                     # address (or first of a pool) traffic is sent to
    external_ip: str | None = None              # IP/prefix, "interface:<name>", or None = any local address
    external_if: str | None = None              # inbound interface / zone the rule is bound to
    external_ports: list[PortRange] | None = None   # None = all ports
    internal_ports: list[PortRange] | None = None   # None = same as external
    enabled: bool = True
    comment: str = ""
    source_restriction: list[str] | None = None     # None = any source; members of named lists resolved
    source_exclusions: list[str] | None = None      # negated sources (`!10.0.0.1`): any source but these
    source_ref: SourceRef = field(default_factory=SourceRef)

    def covers_all_ports(self) -> bool:
        return self.external_ports is None

    def matches_proto(self, proto: str) -> bool:
        """True when the rule carries `proto` ('tcp' or 'udp')."""
        return self.proto in ("any", "tcp_udp") or self.proto == proto

    def internal_port_for(self, external_port: int) -> int | None:
        """The internal port an external port lands on, or None when the rule does not take it."""
        if self.external_ports is None:
            return external_port if self.internal_ports is None else self.internal_ports[0].lo
        offset = 0
        for rng in self.external_ports:
            if external_port in rng:
                index = offset + external_port - rng.lo
                break
            offset += rng.size
        else:
            return None
        if self.internal_ports is None:
            return external_port
        return _nth_port(self.internal_ports, index)

    def internal_port_set(self) -> list[PortRange] | None:
        """The internal ports this rule can deliver to (None = all)."""
        if self.internal_ports is not None:
            return self.internal_ports
        return self.external_ports


def _nth_port(ranges: list[PortRange], index: int) -> int:
    """Offset mapping: the index-th port across ranges; past the end, the last port (many-to-one)."""
    for rng in ranges:
        if index < rng.size:
            return rng.lo + index
        index -= rng.size
    return ranges[-1].hi


@dataclass
class Vlan:
    vlan_id: int
    name: str = ""
    member_ports: list[str] = field(default_factory=list)
    subnet: str | None = None               # CIDR of the L3 interface on it, if any
    voice: bool = False                     # a voice VLAN (by switchport voice config or name)
    interface: str | None = None            # L3 sub-interface / vif carrying it
    source_ref: SourceRef = field(default_factory=SourceRef)


@dataclass
class SwitchPort:
    """Per-port VLAN role (Cisco `show interfaces switchport`, EdgeOS pvid/vid, ...)."""
    name: str
    mode: str = ""                          # access | trunk | ...
    access_vlan: int | None = None
    voice_vlan: int | None = None
    trunk_vlans: str = ""
    source_ref: SourceRef = field(default_factory=SourceRef)


@dataclass
class Interface:
    name: str
    addresses: list[str] = field(default_factory=list)   # CIDRs
    role: str = ""                                        # wan | lan | ""
    vlan_id: int | None = None
    parent: str | None = None
    description: str = ""


@dataclass
class FeatureState:
    """A router feature that is on, off, or not decidable from the input (None)."""
    enabled: bool | None = None
    detail: str = ""                       # why we decided, including "platform default"
    source_ref: SourceRef = field(default_factory=SourceRef)


@dataclass
class ParseWarning:
    command: str
    line: int | None
    text: str
    message: str


@dataclass
class Unparsed:
    """A construct the parser saw but did not fully understand: it never silently passes a check."""
    command: str
    line: int | None
    text: str
    construct: str                          # one of UNPARSED_CONSTRUCTS
    reason: str                             # what was expected, in words a person can act on


@dataclass
class RouterConfig:
    platform: str
    forwards: list[PortForward] = field(default_factory=list)
    vlans: list[Vlan] = field(default_factory=list)
    switchports: list[SwitchPort] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    upnp: FeatureState = field(default_factory=FeatureState)
    sip_alg: FeatureState = field(default_factory=FeatureState)
    hostname: str = ""
    version: str = ""
    warnings: list[ParseWarning] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)     # which outputs were read

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    def merge(self, other: "RouterConfig") -> None:
        """Fold another partial parse (another command's output) into this one."""
        self.forwards += other.forwards
        self.vlans += other.vlans
        self.switchports += other.switchports
        self.interfaces += other.interfaces
        self.warnings += other.warnings
        self.unparsed += other.unparsed
        self.commands += other.commands
        for name in ("upnp", "sip_alg"):
            if getattr(other, name).enabled is not None:
                setattr(self, name, getattr(other, name))
        self.hostname = self.hostname or other.hostname
        self.version = self.version or other.version


def to_jsonable(obj: Any) -> Any:
    """Dataclasses to plain JSON types; port ranges as "lo-hi" strings."""
    if isinstance(obj, PortRange):
        return str(obj)
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def parse_ports(text: str, sep: str = ",") -> list[PortRange]:
    """Parse '80,443', '5060-5061', '8080:8090' (iptables) into ranges; raises ValueError."""
    ranges = []
    for part in text.replace(" ", "").split(sep):
        if not part:
            continue
        lo, _, hi = part.replace(":", "-").partition("-")
        ranges.append(PortRange(int(lo), int(hi or lo)))
    if not ranges:
        raise ValueError(f"no ports in {text!r}")
    return ranges


__all__ = ["PROTOCOLS", "FORWARD_KINDS", "ParseError", "PortRange", "SourceRef", "PortForward",
           "Vlan", "SwitchPort", "Interface", "FeatureState", "ParseWarning", "Unparsed", "UNPARSED_CONSTRUCTS",
           "RouterConfig",
           "to_jsonable", "parse_ports", "asdict"]
