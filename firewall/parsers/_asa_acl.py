"""Cisco ASA object groups and interface access lists: who can reach a NAT forward.

`object-group network` members (network-object host|mask|object, group-object) join the network
objects in one AddressBook. On 8.3+ an inbound access list is written against real (inside)
addresses, so a forward's sources are those of the permit entries of the access list bound `in` on
its mapped interface whose destination covers the forward's inside address: their union, any
source once one of them says any. Ports and deny entries only narrow what a permit allows, so
leaving them out over-approximates the sources, never under. An entry that cannot be read becomes
Unparsed (construct filter), as it may be the one that opens the forward.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from firewall.model import PortForward, Unparsed
from firewall.parsers._addrbook import AddressBook, is_address, named
from firewall.parsers._text import Line, to_cidr

ANY_WORDS = frozenset({"any", "any4", "any6"})
_PROTO_WORDS = frozenset({"ip", "tcp", "udp", "icmp", "icmp6", "gre", "esp", "ah", "sctp", "ipinip", "pim"})


@dataclass
class Acls:
    entries: dict[str, list[tuple[Line, list[str]]]] = field(default_factory=dict)   # name -> (line, words)
    bound_in: dict[str, str] = field(default_factory=dict)                          # interface -> acl name
    groups: dict[str, list[str]] = field(default_factory=dict)

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


def _permit(words: list[str]) -> tuple[str | None, str | None] | None:
    """(source, destination) of an `extended permit` entry; None when it permits nothing."""
    if words[:1] == ["remark"] or words[:1] != ["extended"]:
        return None if words[:1] in (["remark"], ["standard"], ["webtype"], ["ethertype"]) else _bad(words)
    rest = words[1:]
    if rest[:1] == ["line"]:
        rest = rest[2:]
    if rest[:1] != ["permit"]:
        return None
    rest = rest[1:]
    if rest[:1] in (["object-group"], ["object"]):
        rest = rest[2:]
    elif rest[:1] and (rest[0] in _PROTO_WORDS or rest[0].isdigit()):
        rest = rest[1:]
    else:
        raise ValueError(f"protocol {rest[:1]} not understood")
    source, rest = _operand(rest)
    if rest[:1] in (["eq"], ["gt"], ["lt"], ["neq"]):
        rest = rest[2:]                       # a source port
    elif rest[:1] == ["range"]:
        rest = rest[3:]
    destination, _ = _operand(rest)
    return source, destination


def _bad(words: list[str]) -> None:
    raise ValueError(f"access-list entry {' '.join(words[:2])!r} not understood")


def _covers(destination: str | None, internal: str, book: AddressBook) -> bool:
    if destination is None:
        return True
    found = book.resolve([destination.removeprefix("list:")]) if destination.startswith("list:") else None
    members = found.members if found else [destination]
    if found and found.any:
        return True
    try:
        inside = ipaddress.ip_address(internal.split("-")[0].split("/")[0])
    except ValueError:
        return True                      # an unresolved inside name: assume the entry may reach it
    for member in members:
        low, _, high = member.partition("-")
        try:
            if high and ipaddress.ip_address(low) <= inside <= ipaddress.ip_address(high):
                return True
            if not high and inside in ipaddress.ip_network(member, strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


def restrict(forwards: list[PortForward], acls: Acls, book: AddressBook, unparsed: list[Unparsed],
             command: str) -> None:
    """Give each NAT forward the sources its interface's inbound access list lets in."""
    readable: dict[str, list[tuple[str | None, str | None]]] = {}
    for interface, acl in acls.bound_in.items():
        readable[interface] = []
        for line, words in acls.entries.get(acl, []):
            try:
                permit = _permit(words)
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
        sources = [src for src, dst in permits if _covers(dst, fwd.internal_ip or "", book)]
        if not sources:
            fwd.comment = " ".join(x for x in (fwd.comment, f"[no permit in access list "
                                               f"{acls.bound_in[fwd.external_if]} reaches it]") if x)
            continue
        if any(src is None for src in sources):
            continue
        fwd.source_restriction = list(dict.fromkeys((fwd.source_restriction or []) + sources))
