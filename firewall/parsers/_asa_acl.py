"""Cisco ASA object groups and interface access lists: who can reach a NAT forward.

`object-group network` members (network-object host|mask|object, group-object) join the network
objects in one AddressBook. On 8.3+ an inbound access list is written against real (inside)
addresses, so a forward's sources are those of the permit entries of the access list bound `in` on
its mapped interface whose destination covers the forward's inside address and whose protocol and
destination ports (inline, `object service`, `object-group service`) meet the forward's real ones:
their union, any source once one of them says any. Deny entries only narrow what a permit allows,
and a service name with no definition counts as every port, so both over-approximate the sources,
never under. An entry that cannot be read becomes Unparsed (construct filter), as it may be the one
that opens the forward.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from firewall.model import PortForward, PortRange, Unparsed
from firewall.parsers._addrbook import AddressBook, covers, is_address, named
from firewall.parsers._text import Line, service_port, to_cidr

ANY_WORDS = frozenset({"any", "any4", "any6"})
_PROTO_WORDS = frozenset({"ip", "tcp", "udp", "icmp", "icmp6", "gre", "esp", "ah", "sctp", "ipinip", "pim"})
_PROTO_NUMBERS = {"6": "tcp", "17": "udp", "0": "ip"}
_SERVICE_PROTOS = _PROTO_WORDS | {"tcp-udp", "igmp", "eigrp", "igrp", "ospf", "pptp", "ipsec", "nos", "pcp", "snp"}
_PORT_OPS = {"eq": 2, "neq": 2, "lt": 2, "gt": 2, "range": 3}
Service = tuple[str, "list[PortRange] | None"]      # (protocol, 'ip' for all; destination ports, None for all)
EVERYTHING: list[Service] = [("ip", None)]


@dataclass
class Permit:
    source: str | None                 # None: any source
    destination: str | None
    services: list[Service]


@dataclass
class Acls:
    entries: dict[str, list[tuple[Line, list[str]]]] = field(default_factory=dict)   # name -> (line, words)
    bound_in: dict[str, str] = field(default_factory=dict)                          # interface -> acl name
    groups: dict[str, list[str]] = field(default_factory=dict)
    services: dict[str, list[Service | str]] = field(default_factory=dict)   # a str member names a group

    def access_list(self, line: Line, words: list[str]) -> None:
        self.entries.setdefault(words[1], []).append((line, words[2:]))

    def access_group(self, words: list[str]) -> None:
        if len(words) >= 5 and words[2] == "in" and words[3] == "interface":
            self.bound_in[words[4]] = words[1]

    def group_member(self, group: str, words: list[str]) -> bool:
        """One child line of `object-group network GROUP`; False when it is not understood."""
        members = self.groups.setdefault(group, [])
        if words[:1] == ["network-object"] and len(words) == 3 and words[1] in ("host", "object"):
            members.append(words[2])
        elif words[:1] == ["network-object"] and len(words) == 3:
            members.append(to_cidr(words[1], words[2]))
        elif words[:1] == ["network-object"] and len(words) == 2 and "/" in words[1]:
            members.append(words[1])
        elif words[:1] == ["group-object"] and len(words) == 2:
            members.append(words[1])
        else:
            return words[:1] == ["description"]
        return True


    def service_member(self, group: str, proto: str, words: list[str]) -> bool:
        """One child line of `object-group service GROUP [tcp|udp|tcp-udp]`; False when not understood."""
        members = self.services.setdefault(group, [])
        if words[:1] == ["port-object"] and proto and len(words) == _PORT_OPS.get(words[1:2] and words[1], 0) + 1:
            members.append((proto, op_ports(words[1], *words[2:4])))
        elif words[:1] == ["group-object"] and len(words) == 2:
            members.append(words[1])
        elif words[:2] == ["service-object", "object"] and len(words) == 3:
            members.append(words[2])
        elif words[:1] == ["service-object"] and len(words) >= 2:
            members.append((_protocol(words[1]), _service_ports(words[2:])))
        else:
            return words[:1] == ["description"]
        return True

    def service(self, name: str, seen: frozenset[str] = frozenset()) -> list[Service]:
        """What a service object or group lets through; every port when it has no definition."""
        if name not in self.services or name in seen:
            return EVERYTHING if name not in seen else []
        out: list[Service] = []
        for member in self.services[name]:
            out += self.service(member, seen | {name}) if isinstance(member, str) else [member]
        return out


def op_ports(op: str, lo: str, hi: str | None = None) -> list[PortRange] | None:
    """Ports of an ASA port operator (eq, neq, lt, gt, range); no operator: every port."""
    if not op:
        return None
    if op not in _PORT_OPS:
        raise ValueError(f"port operator {op!r} not supported")
    low, high = service_port(lo), service_port(hi) if hi else None
    if low is None or (op == "range" and high is None):
        raise ValueError(f"unknown port {lo if low is None else hi!r}")
    return {"range": lambda: [PortRange(low, high)], "gt": lambda: [PortRange(low + 1, 65535)],
            "lt": lambda: [PortRange(1, low - 1)], "eq": lambda: [PortRange(low, low)],
            "neq": lambda: [r for r in (PortRange(0, low - 1) if low else None,
                                        PortRange(low + 1, 65535) if low < 65535 else None) if r]}[op]()


def _protocol(word: str) -> str:
    if word not in _SERVICE_PROTOS and not word.isdigit():
        raise ValueError(f"protocol {word!r} not understood")
    return _PROTO_NUMBERS.get(word, word)


def _service_ports(words: list[str]) -> list[PortRange] | None:
    """Destination ports of `service-object PROTO [source OP ..] [destination OP ..]` (bare OP: destination)."""
    while words:
        direction = words[0] if words[0] in ("source", "destination") else "destination"
        words = words[1:] if words[0] in ("source", "destination") else words
        size = _PORT_OPS.get(words[0] if words else "", 0)
        if not size:
            raise ValueError(f"service port {' '.join(words[:2])!r} not understood")
        if direction == "destination":
            return op_ports(words[0], *words[1:size])
        words = words[size:]
    return None


def address_book(objects: dict[str, str], acls: Acls) -> AddressBook:
    book = AddressBook(any_names=ANY_WORDS)
    for name, address in objects.items():
        book.add(name, [address if is_address(address) else f"fqdn:{address}"])
    for name, members in acls.groups.items():
        book.add(name, members)
    return book


def _operand(words: list[str]) -> tuple[str | None, list[str]]:
    """One ACE address operand -> (address or list:<name>, rest); None for any."""
    head = words[0]
    if head in ANY_WORDS:
        return None, words[1:]
    if head in ("host", "object", "object-group", "interface") and len(words) > 1:
        return (words[1] if head == "host" else named(words[1]) if head != "interface"
                else f"interface:{words[1]}"), words[2:]
    if len(words) > 1 and is_address(head):
        return to_cidr(head, words[1]) if "." in words[1] else head, words[2:]
    if "/" in head and is_address(head):
        return head, words[1:]
    raise ValueError(f"address operand {' '.join(words[:2])!r} not understood")


def _permit(words: list[str], acls: Acls) -> Permit | None:
    """What an `extended permit` entry lets in; None when it permits nothing."""
    if words[:1] == ["remark"] or words[:1] != ["extended"]:
        return None if words[:1] in (["remark"], ["standard"], ["webtype"], ["ethertype"]) else _bad(words)
    rest = words[1:]
    if rest[:1] == ["line"]:
        rest = rest[2:]
    if rest[:1] != ["permit"]:
        return None
    rest = rest[1:]
    if rest[:1] in (["object-group"], ["object"]) and len(rest) > 1:
        services, proto, rest = acls.service(rest[1]), "", rest[2:]
    elif rest[:1] and (rest[0] in _PROTO_WORDS or rest[0].isdigit()):
        proto = _protocol(rest[0])
        services, rest = [(proto, None)], rest[1:]
    else:
        raise ValueError(f"protocol {rest[:1]} not understood")
    source, rest = _operand(rest)
    _, rest = _port_operand(rest, acls)                  # a source port narrows nothing we model
    destination, rest = _operand(rest)
    ports, rest = _port_operand(rest, acls)
    if ports is not None and proto:
        services = [(proto, ports)]
    return None if "inactive" in rest else Permit(source, destination, services)


def _port_operand(words: list[str], acls: Acls) -> tuple[list[PortRange] | None, list[str]]:
    """A port operator or a port object-group at the head of `words`: (ports or None for any, rest)."""
    size = _PORT_OPS.get(words[0] if words else "", 0)
    if size:
        return op_ports(words[0], *words[1:size]), words[size:]
    if words[:1] == ["object-group"] and len(words) > 1 and words[1] in acls.services:
        services = acls.service(words[1])
        if any(ports is None for _, ports in services):
            return None, words[2:]
        return [r for _, ports in services for r in ports], words[2:]
    return None, words


def _meets(services: list[Service], fwd: PortForward) -> bool:
    """Whether an entry's protocols and destination ports can carry traffic of the forward."""
    wanted = fwd.internal_ports or fwd.external_ports
    proto = fwd.proto.removeprefix("other:")
    for allowed, ports in services:
        if not (allowed == "ip" or proto in ("any", "tcp_udp", allowed)
                or (allowed == "tcp-udp" and proto in ("tcp", "udp"))):
            continue
        if ports is None or wanted is None or any(a.lo <= w.hi and w.lo <= a.hi for a in ports for w in wanted):
            return True
    return False


def _bad(words: list[str]) -> None:
    raise ValueError(f"access-list entry {' '.join(words[:2])!r} not understood")


def restrict(forwards: list[PortForward], acls: Acls, book: AddressBook, unparsed: list[Unparsed],
             command: str) -> None:
    """Give each NAT forward the sources its interface's inbound access list lets in."""
    readable: dict[str, list[Permit]] = {}
    for interface, acl in acls.bound_in.items():
        readable[interface] = []
        for line, words in acls.entries.get(acl, []):
            try:
                permit = _permit(words, acls)
            except (ValueError, IndexError) as exc:
                unparsed.append(Unparsed(command, line[0], line[1].strip(), "filter", f"{exc}; access list "
                                         f"{acl} is bound to {interface}, so who it lets in is not fully known"))
                continue
            if permit:
                readable[interface].append(permit)
    for fwd in forwards:
        permits = readable.get(fwd.external_if or "")
        if permits is None or fwd.kind == "runtime_translation":
            continue
        sources = [p.source for p in permits
                   if covers(book, p.destination, fwd.internal_ip or "") and _meets(p.services, fwd)]
        if not sources:
            fwd.comment = " ".join(x for x in (fwd.comment, f"[no permit in access list "
                                               f"{acls.bound_in[fwd.external_if]} reaches it]") if x)
            continue
        if any(src is None for src in sources):
            continue
        fwd.source_restriction = list(dict.fromkeys((fwd.source_restriction or []) + sources))
