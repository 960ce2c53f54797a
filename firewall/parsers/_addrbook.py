"""Named address lists, address books, groups and aliases, resolved to their members.

RouterOS address lists, Junos address books, FortiGate address groups, ASA object groups, pfSense
aliases and Vyatta address/network groups all name a set of addresses a NAT rule's source can be
restricted to. Parsers write a name they meet as `list:<name>` where an address would stand
(a negated source goes to source_exclusions), collect the definitions in an AddressBook, and call
resolve_forwards() once every output of the parse is read, because definitions may come after the
rules, or in another command's output. A name with no definition in the input stays `list:<name>`
(never provably inside the allowed peers) and becomes an Unparsed item naming the rule's line.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Iterable

from firewall.model import PortForward, RouterConfig, SourceRef, Unparsed

LIST = "list:"
ANY = "any"                 # the member that means every address (Forti `all`, Junos `any`)


def named(name: str) -> str:
    return f"{LIST}{name}"


def negation(value: str) -> tuple[bool, str]:
    """'!10.0.0.1' -> (True, '10.0.0.1'); 'x' -> (False, 'x')."""
    value = value.strip()
    return (True, value[1:].strip()) if value.startswith("!") else (False, value)


def is_address(value: str) -> bool:
    """An address, a CIDR or an 'a-b' range: something the analysis can compare against networks."""
    for part in value.split("-", 1) if value.count("-") == 1 else [value]:
        try:
            ipaddress.ip_network(part.strip(), strict=False)
        except ValueError:
            return False
    return True


def any_network(value: str) -> bool:
    """0.0.0.0/0 or ::/0: no restriction at all."""
    try:
        return ipaddress.ip_network(value, strict=False).prefixlen == 0
    except ValueError:
        return False


@dataclass
class Resolved:
    members: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)      # names with no definition in the input
    any: bool = False                                       # a member is every address


@dataclass
class AddressBook:
    """name -> members; a member is an address, CIDR, range, fqdn, or another name of the book."""
    entries: dict[str, list[str]] = field(default_factory=dict)
    any_names: frozenset[str] = frozenset()                # names that mean every address

    def add(self, name: str, members: Iterable[str] = ()) -> None:
        self.entries.setdefault(name, []).extend(m for m in members if m)

    def resolve(self, names: Iterable[str]) -> Resolved:
        out = Resolved()
        for name in names:
            self._expand(name, out, set())
        out.members = list(dict.fromkeys(out.members))
        return out

    def _expand(self, name: str, out: Resolved, seen: set[str]) -> None:
        if name in self.any_names or any_network(name):
            out.any = True
        elif name in seen:
            return                         # a group that contains itself adds nothing new
        elif name in self.entries:
            seen.add(name)
            for member in self.entries[name]:
                self._expand(member, out, seen)
        elif is_address(name) or name.startswith(("fqdn:", "wildcard:")):
            out.members.append(name)
        else:
            out.missing.append(name)


def covers(book: AddressBook, destination: str | None, internal: str) -> bool:
    """Whether a rule's destination (None: any; an address; `list:<name>`) may reach an inside address.

    An inside address that is not an address (an unresolved name) may be reached, to be safe."""
    if destination is None:
        return True
    found = book.resolve([destination.removeprefix(LIST)]) if destination.startswith(LIST) else None
    if found and (found.any or found.missing):
        return True
    try:
        inside = ipaddress.ip_address(internal.split("-")[0].split("/")[0])
    except ValueError:
        return True
    for member in found.members if found else [destination]:
        low, _, high = member.partition("-")
        try:
            if high and ipaddress.ip_address(low) <= inside <= ipaddress.ip_address(high):
                return True
            if not high and inside in ipaddress.ip_network(member, strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


def resolve_forwards(cfg: RouterConfig, book: AddressBook, forwards: Iterable[PortForward] | None = None,
                     where: str = "the input") -> None:
    """Replace `list:<name>` sources by their members; an unknown name stays and becomes Unparsed."""
    for fwd in cfg.forwards if forwards is None else forwards:
        missing: list[str] = []
        fwd.source_restriction = _resolve(fwd.source_restriction, book, missing, empty_is_any=True)
        fwd.source_exclusions = _resolve(fwd.source_exclusions, book, missing, empty_is_any=False)
        for name in dict.fromkeys(missing):
            cfg.unparsed.append(unknown_list(fwd.source_ref, name, where))


def _resolve(entries: list[str] | None, book: AddressBook, missing: list[str], empty_is_any: bool) -> list[str] | None:
    if not entries:
        return None
    out: list[str] = []
    for entry in entries:
        if not entry.startswith(LIST):
            if any_network(entry) and empty_is_any:
                return None
            out.append(entry)
            continue
        found = book.resolve([entry.removeprefix(LIST)])
        if found.any:
            if empty_is_any:
                return None                # one member that is every address: any source
            out.append("0.0.0.0/0")
            continue
        out += found.members
        out += [named(name) for name in found.missing]
        missing += found.missing
    return list(dict.fromkeys(out)) or None


def resolve_destinations(cfg: RouterConfig, book: AddressBook, option: str, where: str = "the input") -> None:
    """A forward whose external side is `list:<name>`: one forward per external address the list holds.

    A list that is not in the input, or holds DNS names the router resolves at run time, leaves the
    external side unknown: the forward stays as written and becomes Unparsed."""
    out = []
    for fwd in cfg.forwards:
        if not (fwd.external_ip or "").startswith(LIST):
            out.append(fwd)
            continue
        name = fwd.external_ip.removeprefix(LIST)
        found = book.resolve([name])
        unknown = found.missing or [m for m in found.members if not is_address(m)]
        if found.any:
            out.append(dataclasses.replace(fwd, external_ip=None))
        elif unknown or not found.members:
            out.append(fwd)
            held = f"members {unknown} that are not addresses" if found.members else f"no entries in {where}"
            cfg.unparsed.append(Unparsed(fwd.source_ref.command, fwd.source_ref.line,
                                         fwd.source_ref.text.split("\n")[0], "address_list",
                                         f"the rule's {option} {name!r} has {held}: which external "
                                         "addresses it forwards is unknown"))
        else:
            out += [dataclasses.replace(fwd, external_ip=member) for member in found.members]
    cfg.forwards[:] = out


def unknown_list(source: SourceRef, name: str, where: str = "the input") -> Unparsed:
    return Unparsed(command=source.command, line=source.line, text=source.text.split("\n")[0],
                    construct="address_list",
                    reason=f"the rule's source names address list {name!r}, which has no entries in {where}: "
                           f"who can reach this forward is unknown; include the list's definition")
