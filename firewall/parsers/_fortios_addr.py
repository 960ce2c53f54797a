"""FortiOS address objects and groups, and who a VIP's policies let in.

`config firewall address` / `address6` entries (ipmask, iprange, fqdn; `all` is every address) and
`addrgrp` / `addrgrp6` members become an AddressBook. A VIP's sources are those of the enabled
accept policies naming it (or a VIP group holding it) as dstaddr: the union of their srcaddr, any
source as soon as one of them allows every address. A group's `exclude-member` only narrows it, so
the members alone are a safe over-approximation. `srcaddr-negate enable` makes the srcaddr an
exclusion. Unknown address types (geography, dynamic, interface-subnet...) stay named and become
Unparsed when a policy uses them.
"""
from __future__ import annotations

from firewall.parsers._addrbook import AddressBook, named
from firewall.parsers._text import to_cidr

ANY_NAMES = frozenset({"all", "any"})


def address_book(tree) -> AddressBook:
    book = AddressBook(any_names=ANY_NAMES)
    for path in ("firewall address", "firewall address6"):
        for entry in tree.get(path):
            try:
                member = _address(entry.values)
            except (ValueError, IndexError):
                member = None          # unreadable: the name stays unresolved, and Unparsed where used
            if member:
                book.add(entry.name, [member])
    for path in ("firewall addrgrp", "firewall addrgrp6"):
        for entry in tree.get(path):
            book.add(entry.name, entry.values.get("member", []))
    return book


def _address(values: dict[str, list[str]]) -> str | None:
    kind = (values.get("type") or ["ipmask"])[0]
    if kind in ("ipmask", "ipprefix") and "subnet" in values:
        subnet = values["subnet"]
        return to_cidr(subnet[0], subnet[1]) if len(subnet) > 1 else subnet[0]
    if kind in ("ipmask", "ipprefix") and "ip6" in values:
        return values["ip6"][0]
    if kind == "iprange" and "start-ip" in values:
        return f"{values['start-ip'][0]}-{values.get('end-ip', values['start-ip'])[0]}"
    if kind == "fqdn" and "fqdn" in values:
        return f"fqdn:{values['fqdn'][0]}"
    return None                        # geography, dynamic, mac...: who it matches is not in the config


def accepting(policy) -> bool:
    return (policy.values.get("action", ["deny"])[0] == "accept"
            and policy.values.get("status", ["enable"])[0] != "disable")


def policy_sources(policies: list) -> tuple[list[str] | None, list[str] | None]:
    """(restriction, exclusions) of the policies that let traffic to one VIP in; names as list:<name>."""
    sources: list[str] = []
    exclusions: list[str] | None = None
    for policy in policies:
        names = policy.values.get("srcaddr", []) + policy.values.get("srcaddr6", [])
        if not names or any(name in ANY_NAMES for name in names):
            if policy.values.get("srcaddr-negate", ["disable"])[0] != "enable":
                return None, None
        if policy.values.get("srcaddr-negate", ["disable"])[0] == "enable":
            if len(policies) > 1:
                return None, None      # one policy's "all but X" with another's list: any source, to be safe
            exclusions = [named(n) for n in names]
            continue
        sources += [named(n) for n in names]
    return (sources or None), exclusions
