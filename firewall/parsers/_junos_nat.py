"""Junos `security nat destination|static` statements (display-set form) to PortForwards.

Statements are collected first (pools, rule-sets, rules, address book, deactivations) and turned
into forwards at the end, because Junos prints them in any order. A destination rule becomes one
forward per matched destination address; `then destination-nat off` is an exclusion, not a
forward; a static rule is a 1:1 mapping. A pool or prefix wider than one host stays a CIDR, an
address range becomes 'a-b' (both forms are what the analysis matches addresses against).

Security policies decide who reaches a destination-NAT'd host: NAT happens first, so a forward's
sources are the source-address entries of the enabled permit policies from its rule-set's zone whose
destination-address covers the inside address: their union, any source once one says any (or a
`default-policy permit-all`). Deny policies and applications only narrow a permit, so leaving them
out over-approximates. A permit from an internet-side zone to IPv6 address-book members is an IPv6
pinhole; one to any IPv6 destination cannot be listed host by host and becomes Unparsed.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from firewall.model import PortForward, PortRange, Unparsed
from firewall.parsers._addrbook import AddressBook, covers, named
from firewall.parsers._text import Line, ref

ANY_NAMES = frozenset({"any", "any-ipv4", "any-ipv6"})
INTERNET_ZONE = re.compile(r"untrust|outside|internet|wan", re.IGNORECASE)
_APPS = {"junos-sip": [("udp", 5060), ("tcp", 5060)], "junos-http": [("tcp", 80)], "junos-https": [("tcp", 443)],
         "junos-ssh": [("tcp", 22)], "junos-telnet": [("tcp", 23)], "junos-dns-udp": [("udp", 53)]}


@dataclass
class Policy:
    from_zone: str                              # "" for a global policy (its zones are match keys)
    to_zone: str
    name: str
    match: dict[str, list[str]] = field(default_factory=dict)
    then: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def path(self) -> tuple[str, ...]:
        return (("security", "policies", "global", "policy", self.name) if not self.from_zone else
                ("security", "policies", "from-zone", self.from_zone, "to-zone", self.to_zone, "policy", self.name))

    def from_zones(self) -> list[str]:
        return [self.from_zone] if self.from_zone else self.match.get("from-zone", [])


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
    policies: dict[tuple[str, str, str], Policy] = field(default_factory=dict)
    permit_all: bool = False                                                # default-policy permit-all
    notes: list[tuple["Rule", str]] = field(default_factory=list)           # read, but wider than written

    def policy(self, words: list[str], line: Line) -> bool:
        """Record one `security policies ...` statement (words after 'policies')."""
        if words[:1] == ["from-zone"] and len(words) >= 7 and words[2] == "to-zone" and words[4] == "policy":
            key, rest = (words[1], words[3], words[5]), words[6:]
        elif words[:2] == ["global", "policy"] and len(words) >= 4:
            key, rest = ("", "", words[2]), words[3:]
        elif words[:1] == ["default-policy"]:
            self.permit_all = words[1:2] == ["permit-all"]
            return len(words) == 2
        else:
            return words[:1] in (["policy-rematch"], ["pre-id-default-policy"])
        policy = self.policies.setdefault(key, Policy(*key))
        policy.lines.append(line)
        if rest[0] == "match" and len(rest) >= 2:
            policy.match.setdefault(rest[1], []).extend(rest[2:] or [""])
        elif rest[0] == "then":
            policy.then += rest[1:2]
        return rest[0] in ("match", "then", "description", "scheduler-name")

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

    def _targets(self, rule: Rule) -> list[str | None]:
        found = [host(a) for a in rule.match.get("destination-address", [])]
        for name in rule.match.get("destination-address-name", []):
            try:
                found += [host(a) for a in self.resolve(name)]
            except ValueError:
                # only the outside address the rule matches is unknown: read as any address of the router,
                # wider than the rule, so no verdict on it can pass what the rule really opens
                self.notes.append((rule, f"destination-address-name {name!r} is not defined in the input: read "
                                         "as any destination address of this router (wider than the rule)"))
                return [None]
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


    def _permits(self) -> list[Policy]:
        return [p for p in self.policies.values() if "permit" in p.then and not self.is_inactive(p.path)]

    def restrict(self, forwards: list[PortForward], zones: dict[str, str]) -> None:
        """Give each destination-NAT forward the sources of the permit policies that reach its host."""
        if not self.policies or self.permit_all:
            return
        permits = self._permits()
        for fwd in forwards:
            zone = zones.get(fwd.external_if or "", fwd.external_if)
            reaching = [p for p in permits if (not zone or not p.from_zones() or zone in p.from_zones())
                        and any(_reaches(self.book, n, fwd.internal_ip or "")
                                for n in p.match.get("destination-address", ["any"]))]
            if not reaching:
                fwd.comment = " ".join(x for x in (fwd.comment, "[no permit policy reaches it]") if x)
                continue
            restriction, exclusions = policy_sources(reaching)
            if restriction is None and exclusions is None:
                continue
            if exclusions:
                fwd.source_exclusions = exclusions if fwd.source_restriction is None else None
            else:
                fwd.source_restriction = list(dict.fromkeys((fwd.source_restriction or []) + restriction))

    def pinholes(self, command: str, unparsed: list[Unparsed]) -> list[PortForward]:
        """IPv6 pinholes: permits from an internet-side zone to IPv6 address-book members."""
        out: list[PortForward] = []
        for policy in self._permits():
            if not any(INTERNET_ZONE.search(z) for z in policy.from_zones()):
                continue
            label = "/".join(x for x in (policy.from_zone, policy.to_zone, policy.name) if x)
            where = ref(command, policy.lines, label)
            for name in policy.match.get("destination-address", []):
                if name in ("any", "any-ipv6"):
                    unparsed.append(Unparsed(command, policy.lines[0][0], policy.lines[0][1].strip(), "filter",
                                             f"policy {policy.name} permits {name} destination from an internet-side "
                                             "zone: which IPv6 hosts it opens is not listed"))
                    continue
                restriction, exclusions = policy_sources([policy])
                for member in self.book.resolve([name]).members:
                    if ":" in member and not member.startswith(("fqdn:", "wildcard:")):
                        out += [PortForward(kind="ipv6_pinhole", proto=proto, internal_ip=host(member),
                                            external_if=policy.from_zones()[0], external_ports=ports,
                                            source_restriction=restriction, source_exclusions=exclusions,
                                            source_ref=where)
                                for proto, ports in _applications(policy.match.get("application", ["any"]))]
        return out


def _reaches(book: AddressBook, name: str, internal: str) -> bool:
    if name in ("any-ipv4", "any-ipv6"):
        return (":" in internal) == (name == "any-ipv6")
    return name == "any" or covers(book, named(name), internal)


def policy_sources(policies: list[Policy]) -> tuple[list[str] | None, list[str] | None]:
    """(restriction, exclusions) of the union of the policies' source-address; names as list:<name>."""
    sources: list[str] = []
    for policy in policies:
        names = policy.match.get("source-address", ["any"])
        if "source-address-excluded" in policy.match:
            return (None, [named(n) for n in names]) if len(policies) == 1 else (None, None)
        if any(n in ANY_NAMES for n in names):
            return None, None
        sources += [named(n) for n in names]
    return sources or None, None


def _applications(names: list[str]) -> list[tuple[str, list[PortRange] | None]]:
    """Predefined applications to (proto, ports); any other application counts as every port."""
    if any(name not in _APPS for name in names):
        return [("any", None)]
    return [(proto, [PortRange(port, port)]) for name in names for proto, port in _APPS[name]]


def host(prefix: str) -> str:
    """'10.0.0.5/32' -> '10.0.0.5'; a wider prefix stays a CIDR. Raises ValueError."""
    iface = ipaddress.ip_interface(prefix.strip())
    return str(iface.ip) if iface.network.prefixlen == iface.max_prefixlen else str(iface.network)


def port_range(text: str) -> PortRange:
    """'5060' or '10000 to 20000' -> PortRange. Raises ValueError."""
    lo, _, hi = text.partition(" to ")
    return PortRange(int(lo), int(hi or lo))

