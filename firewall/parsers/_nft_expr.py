"""One meaning for nftables rules, whichever form they were read from (text or `nft -j`).

Both readers reduce a rule to Match records (a selector or a concatenation of selectors, an
operator and values, or an `@set` reference) and Stmt records (dnat to an address, dnat through
a map, a verdict map, jump/goto/accept/...). rule_of() turns those into a walker rule whose
branches are the alternatives the rule really holds: one per element of a dnat map, of a verdict
map or of a concatenated set, with the element's key applied as a match. Named sets and maps are
resolved to their elements; what cannot be resolved or is not understood becomes an Unparsed
reason on the rule, never a silently dropped or widened condition.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from firewall.model import PortRange, SourceRef
from firewall.parsers._fields import NatMatch, try_ports
from firewall.parsers._netfilter import NftRule

Values = list[tuple[str, ...]]          # each value a tuple: one item per component of the key


@dataclass
class Match:
    key: tuple[str, ...]                 # ("ip saddr",) or ("ip daddr", "tcp dport")
    negated: bool
    values: Values | str                 # the values, or "@name" of a named set


@dataclass
class Stmt:
    kind: str                            # dnat | dnat_map | vmap | jump | goto | accept | redirect | other ...
    target: str = ""                     # dnat "addr[:port]" or a chain name
    key: tuple[str, ...] = ()            # the map's key for dnat_map / vmap
    elements: list[tuple[tuple[str, ...], tuple[str, ...]]] | str = field(default_factory=list)


@dataclass
class NamedSet:
    elements: list[tuple[tuple[str, ...], tuple[str, ...]]] | None   # (key, data); None = not listed
    why: str = ""                                                     # why the elements are unknown


Sets = dict[str, NamedSet]              # by name, within one table

# Matches that only narrow which packets a rule takes and that the model does not carry: the rule is
# read as taking every such packet (a wider exposure, never a narrower one).
_NARROWING = {"meta nfproto", "meta protocol", "fib daddr type", "fib saddr type", "ct state", "ct status",
              "ct direction", "ct mark", "meta mark", "meta pkttype", "tcp sport", "udp sport", "th sport",
              "tcp flags", "icmp type", "icmpv6 type", "meta oifname", "meta oif", "ct helper", "meta l4proto ne",
              "ip length", "meta length", "limit", "ip ttl", "ip6 hoplimit"}
_SPREAD = {"numgen", "jhash", "symhash"}          # map keys that pick among elements: every element is possible
_ADDR = {"ip saddr", "ip6 saddr", "ip daddr", "ip6 daddr"}
_PORT = {"tcp dport", "udp dport", "th dport", "sctp dport", "udplite dport", "dccp dport"}
_PROTO = {"meta l4proto", "ip protocol", "ip6 nexthdr"}
_IIF = {"meta iifname", "meta iif"}


def cidrs(value: str) -> list[str]:
    """An address, prefix or a-b range as CIDRs (a range becomes the prefixes that cover it exactly)."""
    lo, sep, hi = value.partition("-")
    if sep and "." in lo + hi or sep and ":" in lo + hi:
        try:
            first, last = ipaddress.ip_address(lo.strip()), ipaddress.ip_address(hi.strip())
            return [str(n) for n in ipaddress.summarize_address_range(first, last)]
        except (ValueError, TypeError):
            return [value]
    return [value]


_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?")


def _is_address(value: str) -> bool:
    plain = _IPV4.fullmatch(value)           # the common case, without ipaddress's per-octet parsing
    if plain:
        *octets, prefix = plain.groups()
        return all(int(o) <= 255 and (len(o) == 1 or o[0] != "0") for o in octets) and int(prefix or 0) <= 32
    try:
        return all(ipaddress.ip_network(c, strict=False) for c in cidrs(value))
    except ValueError:
        return False


def _complement(ranges: list[PortRange]) -> list[PortRange]:
    out, lo = [], 0
    for rng in sorted(ranges, key=lambda r: r.lo):
        if rng.lo > lo:
            out.append(PortRange(lo, rng.lo - 1))
        lo = max(lo, rng.hi + 1)
    return out + ([PortRange(lo, 65535)] if lo <= 65535 else [])


def apply(m: NatMatch, key: str, negated: bool, values: list[str]) -> str:
    """Apply one selector's values to the match; '' when understood, else the reason it is not."""
    bang = "!" if negated else ""
    if key in _IIF:
        m.iif = bang + ",".join(values)
    elif key in _ADDR and not all(_is_address(v) for v in values):
        return f"{key} {', '.join(values)}: not an address, prefix or range"
    elif key in ("ip saddr", "ip6 saddr"):
        m.saddr = [bang + c for v in values for c in cidrs(v)]
    elif key in ("ip daddr", "ip6 daddr"):
        # "any local address but X" is at least as exposed as any address: kept as no restriction
        m.daddr = None if negated else ",".join(c for v in values for c in cidrs(v))
    elif key in _PROTO:
        m.protos = set() if negated else set(values)
    elif key in _PORT:
        ports = try_ports(",".join(values))
        if ports is None:
            return f"{key} {', '.join(values)}: not a port list"
        m.dports = _complement(ports) if negated else ports
        m.protos = m.protos or ({key.split()[0]} if key.split()[0] in ("tcp", "udp") else set())
    elif key.split()[0] in _SPREAD or key in _NARROWING or key.startswith("ct "):
        pass
    else:
        return f"match on {key} is not understood"
    return ""


def _element_values(sets: Sets, ref: str, what: str) -> tuple[list[tuple[tuple[str, ...], tuple[str, ...]]] | None, str]:
    found = sets.get(ref.lstrip("@"))
    if found is None:
        return None, f"{what} {ref} is not defined in this table"
    if found.elements is None:
        return None, f"{what} {ref} has no listed elements ({found.why or 'dynamic'})"
    return found.elements, ""


def _alternatives(base: list[NatMatch], key: tuple[str, ...], negated: bool, rows: Values) -> tuple[list[NatMatch], str]:
    """The match variants after one (possibly concatenated) match: one per row when the key has several parts."""
    if len(key) == 1:
        problems = [apply(m, key[0], negated, [row[0] for row in rows]) for m in base]
        return base, next((p for p in problems if p), "")
    if negated:
        return base, f"negated concatenation {' . '.join(key)} is not understood"
    out, problem = [], ""
    for m in base:
        for row in rows:
            variant = _copy(m)
            for part, value in zip(key, row):
                problem = problem or apply(variant, part, False, [value])
            out.append(variant)
    return out, problem


def _copy(m: NatMatch) -> NatMatch:
    return NatMatch(m.iif, m.daddr, list(m.saddr) if m.saddr else m.saddr, set(m.protos), m.dports, m.comment,
                    list(m.unknown))


def rule_of(matches: list[Match], stmts: list[Stmt], sets: Sets, ref: SourceRef, comment: str = "",
            unknown: list[str] | None = None) -> NftRule:
    """The walker rule for one nft rule: its base match, action and every branch it holds."""
    variants = [NatMatch(comment=comment)]
    reasons = [f"words not understood: {' '.join(unknown)}"] if unknown else []
    for match in matches:
        rows = match.values
        if isinstance(rows, str):
            elements, why = _element_values(sets, rows, "set")
            if elements is None:
                reasons.append(why)
                construct = "address_list" if match.key[0].endswith("saddr") else "nat"
                variants = [_mark_set(m, match, construct) for m in variants]
                continue
            rows = [k for k, _ in elements]
        variants, problem = _alternatives(variants, match.key, match.negated, rows)
        reasons += [problem] if problem else []
    action = next((s for s in stmts if s.kind not in ("other",)), Stmt("other"))
    branches, problem = _branches(variants, action, sets)
    reasons += [problem] if problem else []
    rule = NftRule(variants[0], action.kind if action.kind != "dnat_map" else "dnat", action.target, ref,
                   branches=branches)
    rule.unparsed = [r for r in reasons if r]
    rule.bare = not stmts and bool(matches)
    return rule


def _mark_set(m: NatMatch, match: Match, construct: str) -> NatMatch:
    """An unresolved named set: a source set still restricts (to members unknown); others leave the match open."""
    if construct == "address_list":
        m.saddr = [("!" if match.negated else "") + f"set:{str(match.values).lstrip('@')}"]
    return m


def _branches(variants: list[NatMatch], action: Stmt, sets: Sets) -> tuple[list[tuple[NatMatch, str, str]], str]:
    if action.kind not in ("dnat_map", "vmap"):
        return [(m, action.kind, action.target) for m in variants], ""
    elements = action.elements
    if isinstance(elements, str):
        found, why = _element_values(sets, elements, "map")
        if found is None:
            return [], why
        elements = found
    out, problem, spread = [], "", action.key[0].split()[0] in _SPREAD
    for m in variants:
        for key, data in elements:
            if not data or len(key) != len(action.key):
                problem = problem or f"map element {' . '.join(key)!r} does not fit the key {' . '.join(action.key)}"
                continue
            alts, extra = ([m], "") if spread else _alternatives([_copy(m)], action.key, False, [key])
            problem = problem or extra
            kind, target = _element_action(action, data)
            out += [(alt, kind, target) for alt in alts]
    return out, problem


def _element_action(action: Stmt, data: tuple[str, ...]) -> tuple[str, str]:
    """A map element's data as the branch's action: 'addr' or 'addr . port' for dnat, a verdict for vmap."""
    if action.kind == "dnat_map":
        addr = data[0]
        addr = f"[{addr}]" if ":" in addr and len(data) > 1 else addr
        return "dnat", addr + (f":{data[1]}" if len(data) > 1 else "")
    verdict = data[0].split()
    return verdict[0], verdict[1] if len(verdict) > 1 else ""
