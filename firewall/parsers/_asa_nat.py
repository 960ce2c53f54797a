"""Cisco ASA NAT rules (8.3+ syntax) and their translation into PortForwards.

`show nat`, object NAT and twice NAT all reduce to one NatRule. A rule is an inbound forward
when it is static, not unidirectional, and really translates (identity NAT, used for VPN
exemption, is not a forward). Object and service names are resolved through the definitions
seen in the same parse; an unresolved name stays as written and is reported once.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from firewall.model import ParseWarning, PortForward, PortRange, SourceRef
from firewall.parsers._addrbook import is_address, named
from firewall.parsers._asa_acl import Acls
from firewall.parsers._text import service_port

_OUTSIDE = re.compile(r"outside|internet|untrust|wan", re.IGNORECASE)
FLAGS = {"net-to-net", "dns", "unidirectional", "no-proxy-arp", "route-lookup", "inactive",
         "extended", "flat", "include-reserve", "round-robin", "block-allocation", "ipv6"}


@dataclass
class NatRule:
    real_if: str
    mapped_if: str
    static: bool
    real: str
    mapped: str
    dest: tuple[str, str] | None = None      # (mapped, real) exactly as ASA writes them
    svc_proto: str = ""                      # tcp|udp|sctp when ports are written inline
    svc_real: str = ""                       # port / service name, or a service object name
    svc_mapped: str = ""
    flags: set[str] = field(default_factory=set)
    description: str = ""
    hits: str = ""
    ref: SourceRef = field(default_factory=SourceRef)


@dataclass
class Names:
    """Object, `name` and service-object definitions, plus what could not be resolved."""
    objects: dict[str, str] = field(default_factory=dict)
    services: dict[str, tuple[str, list[PortRange] | None]] = field(
        default_factory=lambda: {"any": ("any", None)})
    unresolved: dict[str, SourceRef] = field(default_factory=dict)
    acls: Acls = field(default_factory=Acls)                 # object groups, access lists, access groups

    def address(self, name: str, where: SourceRef) -> str:
        if name in self.objects:
            return self.objects[name]
        try:
            return str(ipaddress.ip_interface(name)).removesuffix("/32").removesuffix("/128")
        except ValueError:
            self.unresolved.setdefault(name, where)
            return name

    def warnings(self) -> list[ParseWarning]:
        return [ParseWarning(command=r.command, line=r.line, text=r.text,
                             message=f"object {name!r} is not defined in the collected output; "
                             "add 'show running-config object' to resolve it")
                for name, r in self.unresolved.items()]


def parse_nat_words(words: list[str], rule: NatRule) -> list[str]:
    """Fill `rule` from the words after 'source static|dynamic REAL MAPPED'; returns unknown words."""
    unknown: list[str] = []
    while words:
        word = words.pop(0)
        if word == "destination" and len(words) >= 3:
            rule.dest = (words[1], words[2])
            del words[:3]
        elif word == "service" and words and words[0] in ("tcp", "udp", "sctp") and len(words) >= 3:
            rule.svc_proto, rule.svc_real, rule.svc_mapped = words[:3]
            del words[:3]
        elif word == "service" and len(words) >= 2:
            rule.svc_real, rule.svc_mapped = words[:2]
            del words[:2]
        elif word == "description":
            rule.description = " ".join(words)
            words.clear()
        elif word in FLAGS:
            rule.flags.add(word)
        elif word == "pat-pool" and words:
            words.pop(0)
        else:
            unknown.append(word)
    return unknown


def to_forward(rule: NatRule, names: Names) -> PortForward | None:
    """The inbound forward a NAT rule creates, or None when it creates none."""
    if not rule.static or "unidirectional" in rule.flags:
        return None
    if _OUTSIDE.search(rule.real_if) and not _OUTSIDE.search(rule.mapped_if):
        return None            # (outside,inside): an outside host given an inside address, nothing opened inward
    if rule.real == "any" or rule.real == rule.mapped:
        return None
    internal = names.address(rule.real, rule.ref)
    external = (f"interface:{rule.mapped_if}" if rule.mapped.startswith("interface")
                else names.address(rule.mapped, rule.ref))
    proto, ext_ports, int_ports, note = _service(rule, names)
    source = None
    if rule.dest and rule.dest[1] not in ("any", "any4", "any6"):     # resolved with the object groups later
        real = rule.dest[1]
        source = [real if is_address(real) else named(real)]
    comment = " ".join(x for x in (rule.description, note,
                                   f"[untranslate_hits={rule.hits}]" if rule.hits else "") if x)
    return PortForward(
        kind="static_pat" if (rule.svc_real or rule.svc_proto) else "static_1to1", proto=proto,
        internal_ip=internal, external_ip=external,
        external_if=None if rule.mapped_if == "any" else rule.mapped_if,
        external_ports=ext_ports, internal_ports=int_ports, enabled="inactive" not in rule.flags,
        comment=comment, source_restriction=source, source_ref=rule.ref)


def _service(rule: NatRule, names: Names) -> tuple[str, list[PortRange] | None,
                                                   list[PortRange] | None, str]:
    """(proto, external ports, internal ports, note) of a rule's service clause."""
    if not rule.svc_real and not rule.svc_proto:
        return "any", None, None, ""
    if rule.svc_proto:
        proto = rule.svc_proto if rule.svc_proto in ("tcp", "udp") else f"other:{rule.svc_proto}"
        real, mapped = service_port(rule.svc_real), service_port(rule.svc_mapped)
        if real is None or mapped is None:
            raise ValueError(f"unknown service port {rule.svc_real!r} or {rule.svc_mapped!r}")
        return proto, [PortRange(mapped, mapped)], [PortRange(real, real)], ""
    real_svc = names.services.get(rule.svc_real)
    mapped_svc = names.services.get(rule.svc_mapped)
    if real_svc is None or mapped_svc is None:
        missing = [n for n in (rule.svc_real, rule.svc_mapped) if n not in names.services and n != "any"]
        for name in missing:
            names.unresolved.setdefault(name, rule.ref)
        return "any", None, None, f"service objects {' '.join(missing)} not resolved: ports unknown"
    return real_svc[0], mapped_svc[1], real_svc[1], ""
