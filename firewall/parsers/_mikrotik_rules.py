"""MikroTik RouterOS: NAT rule attributes to PortForwards, and the `export` (script) reader.

The export reader joins `\\` continuation lines, follows the current menu path (`/ip firewall nat`,
`/ip/firewall/nat`, or a path in front of the command as in `export terse`) and reads `add` /
`set` commands of the menus that matter: ip firewall nat, interface vlan, interface bridge vlan,
ip address, ip upnp, ip firewall service-port, system identity, and the entries of
`/ip firewall address-list` and `/ipv6 firewall address-list` (into an AddressBook, resolved at the
end of the parse). Commands under every other menu are skipped without warnings, as are script
statements (`:if`, `:foreach`, `}`) whose bodies are still read. An unknown command inside a menu
that matters becomes a warning; a NAT rule that cannot be modelled becomes an Unparsed item.
"""
from __future__ import annotations

import re

from firewall.model import FeatureState, Interface, PortForward, RouterConfig, SourceRef, Unparsed, Vlan, parse_ports
from firewall.parsers._addrbook import AddressBook, named, negation
from firewall.parsers._routeros_words import routeros_key_values
from firewall.parsers._text import Line, is_voice_name, key_values, network_of, ref, warn

ADDRESS_LISTS = ("ip firewall address-list", "ipv6 firewall address-list")
RELEVANT = {"ip firewall nat", "ipv6 firewall nat", "ipv6 firewall filter", "interface vlan", "interface bridge vlan", "ip address",
            "ip upnp", "ip firewall service-port", "system identity", *ADDRESS_LISTS}
_RULE_MENUS = {"ip firewall nat": "nat", "ipv6 firewall nat": "nat", "ipv6 firewall filter": "filter",
               **{menu: "address_list" for menu in ADDRESS_LISTS}}
_PROTO_NUMBERS = {"6": "tcp", "17": "udp"}
_NAT_ACTIONS = {"accept", "add-dst-to-address-list", "add-src-to-address-list", "dst-nat", "jump", "log",
                "masquerade", "netmap", "passthrough", "redirect", "return", "same", "src-nat",
                "endpoint-independent-nat"}
_VERBS = "add|set|remove|print|export|enable|disable|unset|move|comment"
_PATH = re.compile(rf"^/([\w\-/ ]*?)\s*((?:{_VERBS})\b.*)?$")


def nat_forward(kv: dict[str, str], flags: str, where: SourceRef) -> PortForward | None:
    """The forward a NAT rule makes: chain dstnat with dst-nat/netmap; redirect stays on the router.

    Raises ValueError for a destination rule it cannot model (the caller makes it Unparsed)."""
    if kv.get("action", "accept") not in _NAT_ACTIONS or ("action" not in kv and kv.get("to-addresses")):
        raise ValueError(f"action {kv.get('action', '(none)')!r} is not a NAT action")
    if kv.get("action") not in ("dst-nat", "netmap"):
        return None
    if kv.get("chain") != "dstnat":
        raise ValueError(f"{kv.get('action')} in chain {kv.get('chain')!r}, reached by a jump from dstnat: "
                         "jumps are not followed, so its match conditions are unknown")
    for key in ("dst-port", "dst-address", "to-addresses", "dst-address-list", "in-interface",
                "in-interface-list"):
        if kv.get(key, "").startswith("!"):
            raise ValueError(f"negated {key} is not modelled")
    proto = kv.get("protocol", "")
    proto = _PROTO_NUMBERS.get(proto, proto) or "any"
    if proto not in ("tcp", "udp", "any"):
        proto = f"other:{proto}"
    target = kv.get("to-addresses", "")
    if not target:
        raise ValueError("dst-nat rule without to-addresses")
    kind = ("upnp_dynamic" if "D" in flags else "static_1to1" if kv["action"] == "netmap"
            else "dmz" if proto == "any" and "dst-port" not in kv else "dnat")
    sources, excluded = _sources(kv)
    return PortForward(
        kind=kind, proto=proto, internal_ip=target,          # a pool stays 'a-b', as the analysis reads it
        external_ip=kv.get("dst-address") or (named(kv["dst-address-list"]) if kv.get("dst-address-list") else None),
        external_if=kv.get("in-interface") or kv.get("in-interface-list") or None,
        external_ports=parse_ports(kv["dst-port"]) if kv.get("dst-port") else None,
        internal_ports=parse_ports(kv["to-ports"]) if kv.get("to-ports") else None,
        enabled="X" not in flags and kv.get("disabled", "no") != "yes",
        comment=kv.get("comment", ""), source_restriction=sources or None, source_exclusions=excluded or None,
        source_ref=where)


def _sources(kv: dict[str, str]) -> tuple[list[str], list[str]]:
    """(restriction, exclusions). With both a src-address and a src-address-list, a source must match both:
    their union is wider than that, so a verdict on the union holds for the rule."""
    sources: list[str] = []
    excluded: list[str] = []
    for key, as_name in (("src-address", False), ("src-address-list", True)):
        if not kv.get(key):
            continue
        negated, value = negation(kv[key])
        value = named(value) if as_name else value
        (excluded if negated else sources).append(value)
    return sources, excluded


def nat_unparsed(where: SourceRef, why: str, construct: str = "nat") -> Unparsed:
    return Unparsed(command=where.command, line=where.line, text=where.text, construct=construct,
                    reason=f"rule not understood: {why}")


def pinhole(kv: dict[str, str], flags: str, where: SourceRef) -> PortForward | None:
    """An `/ipv6 firewall filter` accept in chain forward to a named inside address: a pinhole.

    Rules without a destination address (LAN to anywhere) or limited to established/related
    connections open nothing; ICMPv6 accepts are kept, as the checks decide what matters."""
    if kv.get("chain") != "forward" or kv.get("action") != "accept" or ":" not in kv.get("dst-address", ""):
        return None
    if kv.get("connection-state") and "new" not in kv["connection-state"].split(","):
        return None
    if kv["dst-address"].startswith("!"):
        raise ValueError("negated dst-address in an IPv6 accept rule is not modelled")
    proto = kv.get("protocol", "") or "any"
    proto = proto if proto in ("tcp", "udp", "any") else f"other:{proto}"
    sources, excluded = _sources(kv)
    return PortForward(
        kind="ipv6_pinhole", proto=proto, internal_ip=kv["dst-address"].removesuffix("/128"),
        external_if=kv.get("in-interface") or kv.get("in-interface-list") or None,
        external_ports=parse_ports(kv["dst-port"]) if kv.get("dst-port") else None,
        enabled="X" not in flags and kv.get("disabled", "no") != "yes", comment=kv.get("comment", ""),
        source_restriction=sources or None, source_exclusions=excluded or None, source_ref=where)


def address_list_entry(book: AddressBook, kv: dict[str, str], flags: str = "") -> None:
    """One `address-list add list=X address=Y` entry; a disabled entry matches nothing."""
    if "X" in flags or kv.get("disabled", "no") == "yes":
        return
    if not kv.get("list") or not kv.get("address"):
        raise ValueError("address-list entry without list= and address=")
    address = kv["address"]
    book.add(kv["list"], [address if _looks_numeric(address) else f"fqdn:{address}"])


def _looks_numeric(address: str) -> bool:
    return any(c.isdigit() for c in address) and all(c in "0123456789abcdefABCDEF.:/-" for c in address)


def add_vlan(cfg: RouterConfig, kv: dict[str, str], comment: str, where: SourceRef) -> None:
    """A `/interface vlan` entry: the VLAN (named by its comment, else its name) and its interface."""
    name, comment = kv.get("name", ""), comment or kv.get("comment", "")
    vlan_id = int(kv["vlan-id"])
    cfg.vlans.append(Vlan(vlan_id=vlan_id, name=comment or name, interface=name or None,
                          voice=is_voice_name(f"{name} {comment}"), source_ref=where))
    if name:
        cfg.interfaces.append(Interface(name=name, vlan_id=vlan_id, parent=kv.get("interface"),
                                        description=comment))


def joined_lines(lines: list[Line]) -> list[tuple[Line, list[Line]]]:
    """Export lines with `\\` continuations joined: (joined line, the raw lines it came from)."""
    out: list[tuple[Line, list[Line]]] = []
    pending: list[Line] = []
    for line in lines:
        pending.append(line)
        if line[1].rstrip().endswith("\\"):
            continue
        out.append(_join(pending))
        pending = []
    if pending:                       # a dangling continuation at the end of the text
        out.append(_join(pending))
    return out


def _join(pending: list[Line]) -> tuple[Line, list[Line]]:
    """The continuation indent is layout, not part of the value, so it is dropped."""
    parts = [t.rstrip().removesuffix("\\") for _, t in pending]
    return (pending[0][0], parts[0] + "".join(p.lstrip() for p in parts[1:])), pending


class Export:
    """Reads one export text; feed() joined lines, then close()."""

    def __init__(self, cfg: RouterConfig, command: str, book: AddressBook):
        self.cfg, self.command, self.book = cfg, command, book
        self.path, self.paths, self.recognised, self.nat_index = "", set(), 0, 0
        self.addresses: dict[str, list[str]] = {}
        self.sip_set = self.upnp_set = False

    def feed(self, line: Line, raw: list[Line]) -> None:
        text = line[1].strip()
        if not text or text.startswith(("#", ":", "}", "{")):
            self.recognised += bool(text)
            if text.startswith("#") and "by RouterOS" in text:
                self.cfg.version = self.cfg.version or text.split("by RouterOS")[-1].split()[0]
            return
        if text.startswith("/"):
            match = _PATH.match(text)
            if not match:
                self.cfg.warnings.append(warn(self.command, line, "menu path not understood"))
                return
            self.path = " ".join(match.group(1).replace("/", " ").split())
            self.paths.add(self.path)
            self.recognised += 1
            text = match.group(2) or ""
            if not text:
                return
        self._command(line, raw, text)

    def _command(self, line: Line, raw: list[Line], text: str) -> None:
        verb, _, rest = text.partition(" ")
        if not self.path:
            self.cfg.warnings.append(warn(self.command, line, "command outside any /menu path"))
            return
        if self.path not in RELEVANT:
            self.recognised += 1 if re.match(r"^[a-z-]+$", verb) else 0
            return
        if verb in ("remove", "print", "export"):
            self.recognised += 1
            return
        if verb not in ("add", "set"):
            if self.path in _RULE_MENUS:
                self.cfg.unparsed.append(nat_unparsed(ref(self.command, raw, ""), f"unknown command under "
                                                      f"/{self.path}", _RULE_MENUS[self.path]))
            else:
                self.cfg.warnings.append(warn(self.command, line, f"unknown command under /{self.path}"))
            return
        rest = re.sub(r"^\[\s*find[^\]]*\]\s*", "", rest)
        try:
            self._apply(verb, rest, ref(self.command, raw, ""))
            self.recognised += 1
        except (ValueError, KeyError) as exc:
            if self.path in _RULE_MENUS:
                self.cfg.unparsed.append(nat_unparsed(ref(self.command, raw, ""), str(exc), _RULE_MENUS[self.path]))
            else:
                self.cfg.warnings.append(warn(self.command, line, f"{self.path} entry not understood: {exc}"))

    def _apply(self, verb: str, rest: str, where: SourceRef) -> None:
        if self.path == "ip firewall service-port" and verb == "set":
            name, _, rest = rest.partition(" ")
            if name == "sip":
                self._sip(key_values(rest), where)
            return
        # rule lines are decoded as the router reads them (a comment shows what the router holds); a line
        # that is not plain words and strings is script, never guessed at
        kv = routeros_key_values(rest) if self.path in _RULE_MENUS else key_values(rest)
        if self.path in ("ip firewall nat", "ipv6 firewall nat") and verb == "add":
            where.rule_id = str(self.nat_index)        # the number `print` shows for this rule
            self.nat_index += 1
            self._rule(nat_forward, kv, where, "nat")
        elif self.path in ADDRESS_LISTS and verb == "add":
            address_list_entry(self.book, kv)
        elif self.path == "ipv6 firewall filter" and verb == "add":
            self._rule(pinhole, kv, where, "filter")
        elif self.path == "interface vlan" and verb == "add":
            where.rule_id = kv.get("name", "")
            add_vlan(self.cfg, kv, "", where)
        elif self.path == "interface bridge vlan" and verb == "add":
            self._bridge_vlan(kv, where)
        elif self.path == "ip address" and verb == "add":
            network_of(kv["address"])           # validates it
            self.addresses.setdefault(kv["interface"], []).append(kv["address"])
        elif self.path == "ip upnp" and verb == "set" and "enabled" in kv:
            self.upnp_set = True
            self.cfg.upnp = FeatureState(enabled=kv["enabled"] == "yes", source_ref=where,
                                         detail=f"/ip upnp set enabled={kv['enabled']}")
        elif self.path == "system identity" and verb == "set" and "name" in kv:
            self.cfg.hostname = self.cfg.hostname or kv["name"]

    def _rule(self, make, kv: dict[str, str], where: SourceRef, construct: str) -> None:
        try:
            forward = make(kv, "", where)
        except (ValueError, KeyError) as exc:
            self.cfg.unparsed.append(nat_unparsed(where, str(exc), construct))
            return
        if forward:
            self.cfg.forwards.append(forward)

    def _sip(self, kv: dict[str, str], where: SourceRef) -> None:
        self.sip_set = True
        where.rule_id = "service-port sip"
        off = kv.get("disabled") == "yes"
        self.cfg.sip_alg = FeatureState(enabled=not off, detail=f"/ip firewall service-port set sip "
                                        f"disabled={kv.get('disabled', 'no')}", source_ref=where)

    def _bridge_vlan(self, kv: dict[str, str], where: SourceRef) -> None:
        members = [p for key in ("tagged", "untagged") for p in kv.get(key, "").split(",") if p]
        for rng in parse_ports(kv["vlan-ids"]):
            for vlan_id in range(rng.lo, min(rng.hi, 4094) + 1):
                self.cfg.vlans.append(Vlan(vlan_id=vlan_id, member_ports=list(members),
                                           source_ref=where))

    def close(self) -> int:
        for name, addrs in self.addresses.items():
            self.cfg.interfaces.append(Interface(name=name, addresses=addrs))
        for vlan in self.cfg.vlans:
            if vlan.interface in self.addresses and not vlan.subnet:
                vlan.subnet = network_of(self.addresses[vlan.interface][0])
        full = len(self.paths) >= 3 or self.command.strip().lstrip("/") in ("export", "export verbose")
        if full and not self.sip_set and self.cfg.sip_alg.enabled is None:
            self.cfg.sip_alg = FeatureState(enabled=True, detail="full export without 'set sip "
                                            "disabled=yes': the SIP helper is on (platform default)")
        if full and not self.upnp_set and self.cfg.upnp.enabled is None:
            self.cfg.upnp = FeatureState(enabled=False, detail="full export without '/ip upnp set "
                                         "enabled=yes': UPnP is off (platform default)")
        return self.recognised
