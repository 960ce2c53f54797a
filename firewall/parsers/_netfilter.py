"""Netfilter NAT chains shared by the nftables (text, JSON) and iptables readers.

Each reader turns its rules into NftChain/NftRule records; collect() then walks the
`type nat hook prerouting` chains and every chain they jump/goto into, passing a jump's own
matches down, and turns `dnat` rules into forwards (chains named like miniupnpd give
`upnp_dynamic` forwards and mean UPnP is on).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from firewall.model import FeatureState, PortRange, RouterConfig, SourceRef
from firewall.parsers._fields import NatMatch, first_address, split_target, try_ports, warn


@dataclass
class NftRule:
    match: NatMatch
    action: str                       # dnat | jump | goto | redirect | xt_dnat | other
    target: str
    ref: SourceRef


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
    ports = try_ports(port) if port else None
    if port and ports is None:
        return None
    return first_address(addr), ports


def collect(chains: dict[tuple[str, str, str], NftChain], cfg: RouterConfig, command: str) -> None:
    """Walk NAT prerouting chains (and what they jump to) and add their DNAT rules as forwards."""
    for chain in chains.values():
        if chain.type == "nat" and chain.hook == "prerouting":
            _walk(chain, NatMatch(), chains, cfg, command, (chain.name,))


def _walk(chain: NftChain, parent: NatMatch, chains: dict, cfg: RouterConfig, command: str,
          path: tuple[str, ...]) -> None:
    upnp = "miniupnpd" in chain.name.lower()
    for rule in chain.rules:
        match = rule.match.inherit(parent)
        if rule.match.unknown:
            warn(cfg, command, rule.ref.line, rule.ref.text,
                 f"unrecognised part of a NAT rule: {' '.join(rule.match.unknown)}")
        if rule.action in ("jump", "goto"):
            nxt = chains.get((chain.family, chain.table, rule.target))
            if nxt is None or rule.target in path or len(path) > 16:
                warn(cfg, command, rule.ref.line, rule.ref.text, f"cannot follow {rule.action} {rule.target}")
            else:
                _walk(nxt, match, chains, cfg, command, path + (rule.target,))
        elif rule.action == "xt_dnat":
            warn(cfg, command, rule.ref.line, rule.ref.text,
                 "iptables-nft DNAT rule: its target is only readable with iptables-save")
        elif rule.action == "dnat":
            target = dnat_target(rule.target)
            if target is None:
                warn(cfg, command, rule.ref.line, rule.ref.text, f"unreadable dnat target {rule.target!r}")
                continue
            cfg.forwards.append(match.forward(target[0], target[1], rule.ref,
                                              "upnp_dynamic" if upnp else "dnat"))
            if upnp:
                cfg.upnp = FeatureState(True, f"miniupnpd chain {chain.name} holds forwards", rule.ref)


def sip_helper_state(helpers: list[tuple[str, SourceRef]], xt_ct: bool) -> FeatureState:
    """SIP ALG from the ruleset's `ct helper` objects (type "sip" = on)."""
    for name, ref in helpers:
        return FeatureState(True, f"nftables ct helper {name!r} of type sip", ref)
    if xt_ct:
        return FeatureState(None, "iptables-nft CT target present: helpers only readable with iptables-save")
    return FeatureState(False, "no ct helper of type sip in the nftables ruleset "
                               "(kernels since 4.7 attach helpers only by explicit rule)")
