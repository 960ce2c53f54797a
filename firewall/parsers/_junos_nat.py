"""Junos `security nat destination|static` statements (display-set form) to PortForwards.

Statements are collected first (pools, rule-sets, rules, address book, deactivations) and turned
into forwards at the end, because Junos prints them in any order. A destination rule becomes one
forward per matched destination address; `then destination-nat off` is an exclusion, not a
forward; a static rule is a 1:1 mapping. A pool or prefix wider than one host stays a CIDR, an
address range becomes 'a-b' (both forms are what the analysis matches addresses against).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from firewall.model import PortForward, PortRange
from firewall.parsers._addrbook import AddressBook, named
from firewall.parsers._text import Line, ref

ANY_NAMES = frozenset({"any", "any-ipv4", "any-ipv6"})


@dataclass
class Rule:
    kind: str                                   # destination | static
    rule_set: str
    name: str
    match: dict[str, list[str]] = field(default_factory=dict)
    then: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    match_lines: dict[str, Line] = field(default_factory=dict)   # first line of each match key


@dataclass
class NatConfig:
    pools: dict[str, dict[str, str]] = field(default_factory=dict)
    rule_sets: dict[tuple[str, str], str] = field(default_factory=dict)      # (kind, rs) -> from
    rules: dict[tuple[str, str, str], Rule] = field(default_factory=dict)
    book: AddressBook = field(default_factory=lambda: AddressBook(any_names=ANY_NAMES))
    inactive: list[tuple[str, ...]] = field(default_factory=list)          # deactivated paths

    def statement(self, words: list[str], line: Line) -> bool:
        """Record one `security nat destination|static ...` statement (words after 'nat')."""
        kind, rest = words[0], words[1:]
        if kind == "destination" and rest[:1] == ["pool"] and len(rest) >= 4:
            self.pools.setdefault(rest[1], {})[rest[2]] = " ".join(rest[3:])
        elif rest[:1] == ["rule-set"] and len(rest) >= 4 and rest[2] == "from":
            self.rule_sets[(kind, rest[1])] = " ".join(rest[3:])
        elif rest[:1] == ["rule-set"] and len(rest) >= 6 and rest[2] == "rule":
            rule = self.rules.setdefault((kind, rest[1], rest[3]), Rule(kind, rest[1], rest[3]))
            rule.lines.append(line)
            if rest[4] == "match":
                rule.match.setdefault(rest[5], []).append(" ".join(rest[6:]))
                rule.match_lines.setdefault(rest[5], line)
            elif rest[4] == "then":
                rule.then += rest[5:]
            return rest[4] in ("match", "then", "description")
        elif rest[:1] == ["rule-set"] and len(rest) >= 3 and rest[2] in ("to", "description"):
            pass
        else:
            return False
        return True

    def is_inactive(self, path: tuple[str, ...]) -> bool:
        return any(path[:len(p)] == p for p in self.inactive)

    def address_book(self, words: list[str]) -> bool:
        """`address NAME PREFIX | range-address A to B | dns-name D` or `address-set SET address|address-set X`
        (words after `address-book <book>`); descriptions and attachments carry no members."""
        if len(words) < 3 or words[0] not in ("address", "address-set"):
            return words[:1] in (["attach"], ["description"])
        name, rest = words[1], words[2:]
        if words[0] == "address-set":
            if rest[0] in ("address", "address-set") and len(rest) > 1:
                self.book.add(name, [rest[1]])
            return rest[0] in ("address", "address-set", "description")
        if rest[0] == "range-address" and len(rest) >= 4 and rest[2] == "to":
            self.book.add(name, [f"{rest[1]}-{rest[3]}"])
        elif rest[0] == "dns-name" and len(rest) > 1:
            self.book.add(name, [f"fqdn:{rest[1]}"])
        elif rest[0] == "wildcard-address" and len(rest) > 1:
            self.book.add(name, [f"wildcard:{rest[1]}"])
        elif "/" in rest[0] or rest[0][:1].isdigit() or ":" in rest[0]:
            self.book.add(name, [rest[0]])
        else:
            return rest[0] == "description"
        return True

    def resolve(self, name: str) -> list[str]:
        """An address-book name (or set of them) to its prefixes; ValueError when it has none here."""
        found = self.book.resolve([name])
        if found.missing:
            raise ValueError(f"address-book name {' '.join(found.missing)!r} is not defined in the input")
        return ["0.0.0.0/0"] if found.any else found.members

    def rule_forwards(self, rule: Rule, command: str) -> list[PortForward]:
        """The forwards one rule makes (none for exclusions); raises ValueError when unreadable."""
        if rule.kind == "destination" and rule.then[:1] == ["destination-nat"]:
            return [] if rule.then[1:2] == ["off"] else self._destination(rule, command)
        if rule.kind == "static" and rule.then[:1] == ["static-nat"]:
            return self._static(rule, command)
        raise ValueError(f"rule without a usable 'then' ({' '.join(rule.then) or 'none'})")

    def _common(self, rule: Rule, command: str) -> dict:
        path = ("security", "nat", rule.kind, "rule-set", rule.rule_set, "rule", rule.name)
        sources = [a for a in rule.match.get("source-address", []) if a != "0.0.0.0/0"]
        sources += [named(n) for n in rule.match.get("source-address-name", []) if n not in ANY_NAMES]
        zone = self.rule_sets.get((rule.kind, rule.rule_set), "").split()
        return dict(external_if=zone[-1] if zone else None, enabled=not self.is_inactive(path),
                    source_restriction=sources or None,
                    source_ref=ref(command, rule.lines, f"{rule.rule_set}/{rule.name}"))

    def _targets(self, rule: Rule) -> list[str]:
        found = [host(a) for a in rule.match.get("destination-address", [])]
        found += [host(a) for n in rule.match.get("destination-address-name", []) for a in self.resolve(n)]
        return found or [None]

    def _destination(self, rule: Rule, command: str) -> list[PortForward]:
        pool_name = rule.then[2] if len(rule.then) > 2 and rule.then[1] == "pool" else ""
        pool = self.pools.get(pool_name)
        if pool is None or "address" not in pool:
            raise ValueError(f"destination pool {pool_name!r} is not defined")
        address, _, port = pool["address"].partition(" port ")
        ports = [port_range(p) for p in rule.match.get("destination-port", [])] or None
        protos = {p for v in rule.match.get("protocol", []) for p in v.split()}
        proto = "tcp_udp" if protos >= {"tcp", "udp"} else protos.pop() if len(protos) == 1 else "any"
        kind = "dmz" if ports is None and proto == "any" else "dnat"
        low, _, high = address.partition(" to ")
        internal = f"{host(low)}-{host(high)}" if high else host(low)
        return [PortForward(kind=kind, proto=proto, internal_ip=internal,
                            external_ip=target, external_ports=ports,
                            internal_ports=[port_range(port)] if port else None,
                            **self._common(rule, command))
                for target in self._targets(rule)]

    def _static(self, rule: Rule, command: str) -> list[PortForward]:
        if rule.then[1:2] != ["prefix"] or len(rule.then) < 3:
            raise ValueError(f"static-nat {' '.join(rule.then[1:])!r} not modelled")
        return [PortForward(kind="static_1to1", proto="any", internal_ip=host(rule.then[2]),
                            external_ip=target, **self._common(rule, command))
                for target in self._targets(rule)]


def host(prefix: str) -> str:
    """'10.0.0.5/32' -> '10.0.0.5'; a wider prefix stays a CIDR. Raises ValueError."""
    iface = ipaddress.ip_interface(prefix.strip())
    return str(iface.ip) if iface.network.prefixlen == iface.max_prefixlen else str(iface.network)


def port_range(text: str) -> PortRange:
    """'5060' or '10000 to 20000' -> PortRange. Raises ValueError."""
    lo, _, hi = text.partition(" to ")
    return PortRange(int(lo), int(hi or lo))

