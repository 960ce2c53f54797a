"""Netfilter NAT and forward chains shared by the nftables (text, JSON) and iptables readers.

Each reader turns its rules into NftChain/NftRule records; collect() then walks the
`type nat hook prerouting` chains and every chain they jump/goto into (a verdict map's jumps
too), passing a jump's own matches down, and turns `dnat` branches into forwards (chains named
like miniupnpd give `upnp_dynamic` forwards and mean UPnP is on). Filter chains on the forward
hook are walked the same way for IPv6 pinholes: an accept of traffic to an `ip6 daddr` host.
A walked rule with a part the reader did not understand becomes an Unparsed item (with its line
and text), so the checks it could change cannot pass on it; negated sources become exclusions.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from firewall.model import FeatureState, Interface, PortForward, PortRange, RouterConfig, SourceRef, Unparsed
from firewall.parsers._fields import NatMatch, first_address, split_target, try_ports, warn

_MAX_DEPTH = 16
_BUILTIN = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}      # iptables' own chains
# OpenWrt device names of the WAN network (DSA port `wan`, PPPoE session `pppoe-wan`): the zone holding one faces out
_WAN_DEVICES = {"wan", "wan6", "pppoe-wan", "pppoe-wan6"}


@dataclass
class NftRule:
    match: NatMatch
    action: str                       # dnat | jump | goto | redirect | accept | xt_dnat | other ...
    target: str
    ref: SourceRef
    branches: list[tuple[NatMatch, str, str]] | None = None   # (match, action, target); None = the one above
    unparsed: list[str] = field(default_factory=list)          # why parts of the rule were not understood
    bare: bool = False                # matches only, no statement: legal, but in NAT most likely a cut line

    def alternatives(self) -> list[tuple[NatMatch, str, str]]:
        return self.branches if self.branches is not None else [(self.match, self.action, self.target)]


@dataclass
class NftChain:
    family: str
    table: str
    name: str
    type: str = ""
    hook: str = ""
    rules: list[NftRule] = field(default_factory=list)


def dnat_target(target: str) -> tuple[str, list[PortRange] | None] | None:
    """'10.0.0.5:8000-8009' -> ('10.0.0.5', [8000-8009]); None when unreadable."""
    addr, port = split_target(target)
    if not addr or addr.startswith(("{", "@", "$")) or " " in addr:
        return None
    try:
        ipaddress.ip_network(first_address(addr), strict=False)     # a prefix target is an address range
    except ValueError:
        return None
    ports = try_ports(port) if port else None
    if port and ports is None:
        return None
    return first_address(addr), ports


def collect(chains: dict[tuple[str, str, str], NftChain], cfg: RouterConfig, command: str) -> None:
    """Walk NAT prerouting chains (and what they jump to) for forwards, forward-hook chains for pinholes."""
    walker = _Walker(chains, cfg, command)
    for chain in chains.values():
        if chain.type == "nat" and chain.hook == "prerouting":
            walker.walk(chain, NatMatch(), (chain.name,), nat=True)
    for chain in chains.values():
        if chain.name not in walker.visited and not chain.hook and chain.name not in _BUILTIN:
            for rule in chain.rules:
                if rule.action in ("dnat", "xt_dnat"):
                    walker.unparsed(rule, f"NAT rule in chain {chain.name!r}, which no prerouting chain reaches "
                                          "(a name changed or garbled?)", "nat")
    for chain in chains.values():
        if chain.hook == "forward" and chain.type in ("filter", ""):
            walker.walk(chain, NatMatch(), (chain.name,), nat=False)


def fw4_zones(chains: dict[tuple[str, str, str], NftChain], cfg: RouterConfig) -> None:
    """OpenWrt fw4 (`table inet fw4`): its zones as 'zone:<name>' interfaces, as the UCI reader gives them.

    A zone is the dstnat_<zone> chain the `dstnat` chain jumps to for its devices; it faces the internet
    when its srcnat_<zone> chain masquerades, it is named wan/wan6 or holds a WAN device, else it is inside.
    A redirect in dstnat_<zone> is then bound to that zone. With no zone seen to face out the roles are not
    trusted (the WAN side is unknown) and forwards stay bound to their devices (internet-facing)."""
    fw4 = {name: chain for (family, table, name), chain in chains.items() if (family, table) == ("inet", "fw4")}
    devices: dict[str, list[str]] = {}
    for rule in fw4["dstnat"].rules if "dstnat" in fw4 else []:
        for match, action, target in rule.alternatives():
            if action == "jump" and target.startswith("dstnat_"):
                devices.setdefault(target.removeprefix("dstnat_"), []).extend((match.iif or "").split(","))
    roles = {zone: "wan" if _faces_out(zone, names, fw4.get(f"srcnat_{zone}")) else "lan"
             for zone, names in devices.items()}
    if "wan" not in roles.values():
        return
    for zone, role in roles.items():
        cfg.interfaces.append(Interface(f"zone:{zone}", role=role, description=f"OpenWrt fw4 zone {zone} "
                                        f"({', '.join(d for d in devices[zone] if d) or 'no devices'})"))
    for fwd in cfg.forwards:
        family, table, chain = (fwd.source_ref.rule_id.split() + ["", "", ""])[:3]
        if (family, table) == ("inet", "fw4") and chain.removeprefix("dstnat_") in roles:
            fwd.external_if = f"zone:{chain.removeprefix('dstnat_')}"


def _faces_out(zone: str, devices: list[str], srcnat: NftChain | None) -> bool:
    masq = srcnat is not None and any(rule.action == "masquerade" for rule in srcnat.rules)
    return masq or zone in ("wan", "wan6") or any(d.lstrip("!") in _WAN_DEVICES for d in devices)


def split_sources(fwd: PortForward) -> PortForward:
    """Negated sources (`!10.0.0.1`) are exclusions (any source but these), never a restriction."""
    sources = fwd.source_restriction or []
    negated = [s[1:] for s in sources if s.startswith("!")]
    if negated:
        fwd.source_exclusions = negated
        fwd.source_restriction = [s for s in sources if not s.startswith("!")] or None
    return fwd


class _Walker:
    def __init__(self, chains: dict, cfg: RouterConfig, command: str):
        self.chains, self.cfg, self.command = chains, cfg, command
        self.noted: set[tuple[int | None, str, str]] = set()
        self.visited: set[str] = set()

    def unparsed(self, rule: NftRule, reason: str, construct: str) -> None:
        key = (rule.ref.line, rule.ref.text, reason)
        if key not in self.noted:
            self.noted.add(key)
            self.cfg.unparsed.append(Unparsed(self.command, rule.ref.line, rule.ref.text, construct, reason))

    def walk(self, chain: NftChain, parent: NatMatch, path: tuple[str, ...], nat: bool) -> None:
        upnp = "miniupnpd" in chain.name.lower()
        if nat:
            self.visited.add(chain.name)
        for rule in chain.rules:
            unknown = [f"words not understood: {' '.join(rule.match.unknown)}"] if rule.match.unknown else []
            bare = ["a rule with matches and no statement: truncated or garbled?"] if rule.bare and nat else []
            for reason in rule.unparsed + unknown + bare:
                construct = "address_list" if "set @" in reason or "--match-set" in reason else (
                    "nat" if nat else "forward")
                self.unparsed(rule, reason, construct)
            for own, action, target in rule.alternatives():
                match = own.inherit(parent)
                if action in ("jump", "goto"):
                    self._follow(chain, rule, match, target, path, nat)
                elif nat:
                    self._nat(chain, rule, match, action, target, upnp)
                elif action == "accept":
                    self._pinhole(rule, match)

    def _follow(self, chain: NftChain, rule: NftRule, match: NatMatch, target: str, path: tuple[str, ...],
                nat: bool) -> None:
        nxt = self.chains.get((chain.family, chain.table, target))
        if nxt is None or target in path or len(path) > _MAX_DEPTH:
            self.unparsed(rule, f"cannot follow the jump to chain {target!r} (missing, or a loop)",
                          "nat" if nat else "forward")
        else:
            self.walk(nxt, match, path + (target,), nat)

    def _nat(self, chain: NftChain, rule: NftRule, match: NatMatch, action: str, target: str, upnp: bool) -> None:
        if action == "xt_dnat":
            warn(self.cfg, self.command, rule.ref.line, rule.ref.text,
                 "iptables-nft DNAT rule: its target is only readable with iptables-save")
        elif action == "dnat":
            read = dnat_target(target)
            if read is None:
                self.unparsed(rule, f"unreadable dnat target {target!r}", "nat")
                return
            fwd = match.forward(read[0], read[1], rule.ref, "upnp_dynamic" if upnp else "dnat")
            self.cfg.forwards.append(split_sources(fwd))
            if upnp:
                self.cfg.upnp = FeatureState(True, f"miniupnpd chain {chain.name} holds forwards", rule.ref)

    def _pinhole(self, rule: NftRule, match: NatMatch) -> None:
        """An accept in a forward chain of traffic to an IPv6 inside host: that host is reachable."""
        for host in (match.daddr or "").split(","):
            if ":" not in host or host.startswith("!"):
                continue
            fwd = match.forward(host.removesuffix("/128"), None, rule.ref, "ipv6_pinhole")
            fwd.external_ip = None
            self.cfg.forwards.append(split_sources(fwd))


@dataclass
class HelperUse:
    """A `ct helper set` statement: the helper object names it can assign (None = not a plain name)."""
    family: str
    table: str
    names: list[str] | None
    ref: SourceRef


HelperObjects = dict[tuple[str, str, str], tuple[str, SourceRef]]     # (family, table, name) -> (type, where)


def sip_helper_state(objects: HelperObjects, uses: list[HelperUse], cfg: RouterConfig, command: str,
                     xt_ct: bool = False, includes: list[str] | None = None) -> FeatureState:
    """SIP ALG from the `ct helper set` rules resolved to their table's `ct helper` objects (type "sip" = on).

    An object alone does nothing (kernels since 4.7 attach helpers only by explicit rule); a rule naming
    no object here is an Unparsed "helper" item; an unread include can define and assign one."""
    on, unresolved = None, 0
    for use in uses:
        for name in use.names if use.names is not None else []:
            found = objects.get((use.family, use.table, name))
            if found and found[0] == "sip" and on is None:
                # no line number in the words: evidence text must not drift when unrelated lines move
                on = FeatureState(True, f"rule assigns nftables ct helper {name!r} of type sip (object in table "
                                        f"{use.family} {use.table})", use.ref)
        missing = (["ct helper set: which helper it assigns is not readable (a map or expression)"]
                   if use.names is None else
                   [f"ct helper set {n!r}: no ct helper object {n!r} in table {use.family} {use.table} of this input"
                    for n in use.names if (use.family, use.table, n) not in objects])
        unresolved += len(missing)
        cfg.unparsed += [Unparsed(command, use.ref.line, use.ref.text, "helper", why) for why in missing]
    if on is not None:
        return on
    if xt_ct:
        return FeatureState(None, "iptables-nft CT target present: helpers only readable with iptables-save")
    if includes:
        return FeatureState(None, f"include {includes[0]!r} was not read: it can define and assign a ct helper")
    if unresolved:
        return FeatureState(None, f"{unresolved} ct helper set statement(s) name no helper object of this input")
    unused = sorted(name for (_, _, name), (kind, _) in objects.items() if kind == "sip")
    if unused:
        return FeatureState(False, f"ct helper object(s) {', '.join(unused)} of type sip defined but no rule "
                                   "assigns them (kernels since 4.7 attach helpers only by explicit rule)")
    return FeatureState(False, "no ct helper of type sip in the nftables ruleset "
                               "(kernels since 4.7 attach helpers only by explicit rule)")
