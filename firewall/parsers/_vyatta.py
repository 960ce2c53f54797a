"""Vyatta-family config (EdgeOS, VyOS): curly tree or `set` lines -> numbered set-lines, parsed once.

`show configuration` / config.boot trees are flattened into the set-lines that
`show configuration commands` would print, each keeping the tree line number it came from;
both platforms then read only set-lines. Also shared: destination-NAT rule mapping (sources through
`firewall group` address/network/domain groups, `!` negations as exclusions), and
`interfaces ... [vif N] address/description` -> Interface/Vlan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from firewall.model import Interface, ParseError, PortForward, RouterConfig, SourceRef, Unparsed, Vlan
from firewall.parsers._addrbook import AddressBook, is_address, named, negation
from firewall.parsers._fields import first_v4_network, is_voice, norm_proto, try_service_ports, warn
from firewall.parsers._text import numbered_lines

_VERSION = re.compile(r"Release version:\s*(\S+)")


@dataclass
class SetLine:
    number: int
    words: list[str]
    raw: str


_WORD = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)""")


def _split(text: str) -> list[str]:
    """Words of a set-line or tree line; '...' and "..." quote (shlex is ten times slower here)."""
    return [a or b or c for a, b, c in _WORD.findall(text)]


def from_tree(text: str, command: str) -> list[SetLine]:
    """Flatten a curly config tree; an empty `node { }` yields the node's own path."""
    out: list[SetLine] = []
    stack: list[tuple[list[str], int, int]] = []          # (words, line, set-lines before it)
    for number, line in numbered_lines(text):
        body = line.strip()
        if not body or body.startswith(("/*", "//", "#")):
            continue
        path = [w for words, _, _ in stack for w in words]
        if body == "}":
            if not stack:
                raise ParseError(f"{command}: line {number}: '}}' without an open block")
            words, start, before = stack.pop()
            if len(out) == before:
                out.append(SetLine(start, path, f"{' '.join(words)} {{ }}"))
        elif body.endswith("{"):
            stack.append((_split(body[:-1]), number, len(out)))
        else:
            out.append(SetLine(number, path + _split(body), line.rstrip()))
    if stack:
        raise ParseError(f"{command}: {len(stack)} block(s) opened at line {stack[-1][1]} never closed (truncated?)")
    return out


def from_set(text: str, command: str, cfg: RouterConfig) -> list[SetLine]:
    out: list[SetLine] = []
    for number, line in numbered_lines(text):
        body = line.strip()
        if body.startswith("set "):
            out.append(SetLine(number, _split(body)[1:], line.rstrip()))
        elif body and not body.startswith(("#", "//", "/*")):
            warn(cfg, command, number, line, "not a 'set ...' configuration line")
    return out


def read_config(text: str, command: str, cfg: RouterConfig) -> list[SetLine]:
    """Set-lines from either form; version from the tree footer when present."""
    version = _VERSION.search(text)
    cfg.version = cfg.version or (version.group(1) if version else "")
    if re.search(r"^\s*set\s+\S", text, re.MULTILINE):
        return from_set(text, command, cfg)
    if re.search(r"^\s*[\w-]+(\s+\S+)?\s*\{\s*$", text, re.MULTILINE):
        return from_tree(text, command)
    raise ParseError(f"{command or 'input'}: neither 'set ...' lines nor a config tree")


def under(lines: list[SetLine], *prefix: str) -> dict[str, list[SetLine]]:
    """Lines below `prefix`, grouped by the next word, with that prefix and word removed."""
    groups: dict[str, list[SetLine]] = {}
    size = len(prefix)
    for line in lines:
        if len(line.words) > size and tuple(line.words[:size]) == prefix:
            groups.setdefault(line.words[size], []).append(SetLine(line.number, line.words[size + 1:], line.raw))
    return groups


def attrs(lines: list[SetLine]) -> dict[str, list[tuple[str, int]]]:
    """'destination port 80' -> {'destination port': [('80', n)]}; a flag like 'disable' -> {'disable': [('', n)]}."""
    out: dict[str, list[tuple[str, int]]] = {}
    for line in lines:
        key, value = (" ".join(line.words[:-1]), line.words[-1]) if len(line.words) > 1 else (" ".join(line.words), "")
        out.setdefault(key, []).append((value, line.number))
    return out


def block_ref(command: str, lines: list[SetLine], rule_id: str) -> SourceRef:
    numbers = [line.number for line in lines]
    raws = sorted({(line.number, line.raw) for line in lines})
    return SourceRef(command, min(numbers), max(numbers) if len(set(numbers)) > 1 else None, rule_id,
                     "\n".join(raw for _, raw in raws))


@dataclass
class DnatKeys:
    """Which attribute names a platform's destination rule uses."""
    internal_ip: tuple[str, ...]
    internal_port: tuple[str, ...]
    iif: tuple[str, ...]
    known: frozenset[str]
    external_port: tuple[str, ...] = ("destination port",)


def unparsed(cfg: RouterConfig, command: str, lines: list[SetLine], number: int, reason: str) -> None:
    raw = next((line.raw for line in lines if line.number == number), "")
    cfg.unparsed.append(Unparsed(command, number, raw.strip(), "nat", reason))


def first(a: dict[str, list[tuple[str, int]]], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in a:
            return a[key][0][0]
    return None


def dnat_rule(rule_id: str, lines: list[SetLine], keys: DnatKeys, command: str, cfg: RouterConfig,
              proto_default: str = "any") -> PortForward | None:
    """A destination-NAT rule's attributes as a forward (None for excluded/untranslated rules)."""
    a = attrs(lines)
    for key, values in a.items():
        if key not in keys.known and key not in SOURCE_KEYS:
            unparsed(cfg, command, lines, values[0][1], f"unknown attribute {key!r} of {rule_id}: what it "
                     "matches or rewrites is not modelled")
    internal_ip = first(a, keys.internal_ip)
    if "exclude" in a:
        return None
    if not internal_ip or not is_address(internal_ip):
        what = f"translation address {internal_ip!r} is not an address" if internal_ip else "no translation address"
        unparsed(cfg, command, lines, lines[0].number, f"{rule_id}: {what}: where it forwards is unknown")
        return None
    ports = {}
    for name, key in (("ext", keys.external_port), ("int", keys.internal_port)):
        text = first(a, key)
        ports[name] = try_service_ports(text) if text else None
        if text and ports[name] is None:
            unparsed(cfg, command, lines, next(a[k][0][1] for k in key if k in a),
                     f"unreadable port {text!r} in {rule_id}: expected numbers or ranges")
    proto = norm_proto(first(a, ("protocol",)) or proto_default)
    written = (first(a, ("protocol",)) or "").lstrip("!")
    if written and not written.isdigit() and written not in _PROTOCOL_NAMES:
        unparsed(cfg, command, lines, a["protocol"][0][1], f"protocol {written!r} of {rule_id} not understood, "
                 "read as every protocol")
        proto = "any"
    elif (first(a, ("protocol",)) or "").startswith("!"):
        proto = "any"               # every protocol but one: the wider 'any' never hides an exposure
    sources, excluded = _sources(a)
    iif = first(a, keys.iif) or first(a, ("inbound-interface group",))
    kind = "dmz" if ports["ext"] is None and proto == "any" else "dnat"
    negated, external = negation(first(a, ("destination address",)) or "")
    comment = first(a, ("description",)) or ""
    if negated:        # any local address but these: the wider 'any' never hides an exposure
        comment = " ".join(x for x in (comment, f"[destination address !{external}: any but these]") if x)
    return PortForward(kind=kind, proto=proto, internal_ip=internal_ip.split("-")[0],
                       external_ip=None if negated else external or None, external_if=iif,
                       external_ports=ports["ext"], internal_ports=ports["int"], enabled="disable" not in a,
                       comment=comment, source_restriction=sources or None,
                       source_exclusions=excluded or None, source_ref=block_ref(command, lines, rule_id))


_PROTOCOL_NAMES = {"tcp", "udp", "tcp_udp", "all", "icmp", "icmpv6", "ipv6-icmp", "gre", "esp", "ah", "sctp",
                   "ipip", "ospf", "vrrp", "igmp", "pim", "l2tp", "udplite", "dccp"}
SOURCE_KEYS = ("source address", "source group address-group", "source group network-group",
               "source group ipv6-address-group", "source group ipv6-network-group", "source group domain-group")
_GROUP_KINDS = {"address-group": "address", "network-group": "network", "ipv6-address-group": "address",
                "ipv6-network-group": "network", "domain-group": "address"}


def _sources(a: dict[str, list[tuple[str, int]]]) -> tuple[list[str], list[str]]:
    """(restriction, exclusions): groups as list:<name>, `!` negations as exclusions. Several source
    matches must all hold; their union is wider than that, so a verdict on the union holds."""
    sources: list[str] = []
    excluded: list[str] = []
    for key in SOURCE_KEYS:
        for value, _ in a.get(key, []):
            negated, value = negation(value)
            value = value if key == "source address" else named(value)
            (excluded if negated else sources).append(value)
    return sources, excluded


def group_book(lines: list[SetLine]) -> AddressBook:
    """`firewall group address-group|network-group|ipv6-*|domain-group NAME address|network|include X`."""
    book = AddressBook()
    for kind, member_word in _GROUP_KINDS.items():
        for name, rows in under(lines, "firewall", "group", kind).items():
            book.add(name, [])
            for row in rows:
                if row.words[:1] == [member_word] and len(row.words) == 2:
                    book.add(name, [row.words[1] if kind != "domain-group" else f"fqdn:{row.words[1]}"])
                elif row.words[:1] == ["include"] and len(row.words) == 2:
                    book.add(name, [row.words[1]])
    return book


def interfaces(lines: list[SetLine], command: str, cfg: RouterConfig) -> None:
    """`interfaces <type> <name> [vif N | vif-s N [vif-c M]] address|description` -> interfaces and VLANs."""
    found: dict[str, tuple[Interface, list[SetLine]]] = {}
    for kind, by_name in ((k, under(lines, "interfaces", k)) for k in under(lines, "interfaces")):
        for name, rows in by_name.items():
            for row in rows:
                ifname, vid, rest = _vif(name, row.words)
                fresh = Interface(ifname, vlan_id=vid, parent=name if vid else None)
                iface, seen = found.setdefault(ifname, (fresh, []))
                seen.append(row)
                if rest[:1] == ["address"] and len(rest) == 2 and "/" in rest[1]:
                    iface.addresses.append(rest[1])
                elif rest[:1] == ["description"] and len(rest) == 2:
                    iface.description = rest[1]
    for ifname, (iface, rows) in found.items():
        cfg.interfaces.append(iface)
        if iface.vlan_id is not None:
            cfg.vlans.append(Vlan(iface.vlan_id, name=iface.description or ifname, member_ports=[iface.parent or ""],
                                  subnet=first_v4_network(iface.addresses), voice=is_voice(iface.description, ifname),
                                  interface=ifname, source_ref=block_ref(command, rows, f"interfaces {ifname}")))


def _vif(name: str, words: list[str]) -> tuple[str, int | None, list[str]]:
    """('eth0', ['vif', '20', 'address', 'x']) -> ('eth0.20', 20, ['address', 'x'])."""
    if len(words) >= 2 and words[0] in ("vif", "vif-s") and words[1].isdigit():
        if len(words) >= 4 and words[2] == "vif-c" and words[3].isdigit():
            return f"{name}.{words[1]}.{words[3]}", int(words[3]), words[4:]
        return f"{name}.{words[1]}", int(words[1]), words[2:]
    return name, None, words


def hostname(lines: list[SetLine]) -> str:
    for line in lines:
        if line.words[:2] == ["system", "host-name"] and len(line.words) == 3:
            return line.words[2]
    return ""


def show_interfaces(text: str, template: str, command: str, cfg: RouterConfig) -> None:
    """`show interfaces` through its ntc-templates template; `eth4.2900` style names are VLANs."""
    from firewall.parsers._text import TemplateMismatch, textfsm_rows
    try:
        rows = textfsm_rows(template, text)
    except TemplateMismatch as exc:
        raise ParseError(f"{command}: {exc}") from None
    if not rows:
        raise ParseError(f"{command}: no interface rows found; not `show interfaces` output")
    lines = numbered_lines(text)
    for row in rows:
        name = row.get("interface", "")
        number = next((n for n, t in lines if t.split()[:1] == [name]), None)
        addresses = [a for a in row.get("ip_address") or [] if a and a != "-"]
        parent, _, vid = name.rpartition(".")
        vlan_id = int(vid) if parent and vid.isdigit() else None
        iface = Interface(name, addresses, vlan_id=vlan_id, parent=parent or None,
                          description=row.get("description", "").strip())
        cfg.interfaces.append(iface)
        if vlan_id is not None:
            ref = SourceRef(command, number, None, name, next((t for n, t in lines if n == number), ""))
            cfg.vlans.append(Vlan(vlan_id, name=iface.description or name, member_ports=[parent],
                                  subnet=first_v4_network(addresses), voice=is_voice(iface.description, name),
                                  interface=name, source_ref=ref))


def is_interface_table(text: str) -> bool:
    return bool(re.search(r"^Interface\s+IP Address\s+S/L\s+Description", text, re.MULTILINE))


def read_output(platform: str, template: str, command: str, text: str,
                parse_config: Callable[[str, str], RouterConfig]) -> RouterConfig:
    """`show interfaces` through `template`, anything else as configuration."""
    if command.startswith("show interfaces") or (not command and is_interface_table(text)):
        part = RouterConfig(platform=platform, commands=[command])
        show_interfaces(text, template, command or "show interfaces", part)
        return part
    return parse_config(text, command)
