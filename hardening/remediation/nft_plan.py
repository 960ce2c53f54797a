"""A Linux plan's edits, by content, from the ruleset it was planned on (`nft -j list ruleset`).

Three fixes: remove a forward (NET-EXP-001 and the other forward checks), limit a SIP/RTP forward to the
site's allowed SIP peers (NET-SIP-001: the rule gains `ip saddr { ... }`, it is not removed), and remove
the SIP helper (NET-ALG-001: every `ct helper` object of type "sip" and the rules that set one). Every
address is parsed by ipaddress before it reaches a rule; every name is a plain identifier or refused.
"""
from __future__ import annotations

import copy
import ipaddress
import re
from typing import Any

from firewall.nft_rules import Entry, Ruleset, RulesetError, chain_of, safe_names, scope_fingerprints

_RULE_ID = re.compile(r"^(ip|ip6|inet) (\S+) (\S+) handle (\d+)$")


class NotEditable(ValueError):
    """This fix cannot be expressed exactly for this rule (the plan refuses it, naming why)."""


def rule_entry(ruleset: Ruleset, rule_id: str | None) -> Entry:
    """The rule a parser's SourceRef.rule_id names ("ip portfwd prerouting handle 7"), as planned on."""
    found = _RULE_ID.match(rule_id or "")
    if not found:
        raise NotEditable(f"{rule_id!r} is not an nftables rule (iptables rules are not applied by the appliance: "
                          "they cannot be made atomic with the nft changes)")
    family, table, chain, handle = found.groups()
    safe_names(family, table, chain)
    for entry in ruleset.rules(f"{family} {table} {chain}"):
        if entry.handle == int(handle):
            return entry
    raise NotEditable(f"rule {rule_id!r} is not in the ruleset read for the plan")


def source_match(family: str, peers: list[str]) -> dict[str, Any]:
    """`ip saddr { ... }` (or ip6) for the peers of the rule's family, in the form nft lists it back."""
    try:
        nets = sorted({ipaddress.ip_network(p, strict=False) for p in peers}, key=lambda n: (n.version, n))
    except ValueError as exc:
        raise NotEditable(f"allowed SIP peer list has an entry that is not an address or network: {exc}") from None
    versions = {n.version for n in nets}
    if family == "inet" and len(versions) > 1:
        raise NotEditable("allowed SIP peers mix IPv4 and IPv6 and the rule is in an inet table: one match cannot "
                          "hold both; limit the forward by hand")
    wanted = {"ip": 4, "ip6": 6}.get(family) or next(iter(versions), 4)
    chosen = [n for n in nets if n.version == wanted]
    if not chosen:
        raise NotEditable(f"no allowed SIP peer of IPv{wanted}, the family of the rule: the forward would close")
    items = [str(n.network_address) if n.prefixlen == n.max_prefixlen else
             {"prefix": {"addr": str(n.network_address), "len": n.prefixlen}} for n in chosen]
    return {"match": {"op": "==", "left": {"payload": {"protocol": "ip" if wanted == 4 else "ip6", "field": "saddr"}},
                      "right": items[0] if len(items) == 1 else {"set": items}}}


def restricted(body: dict[str, Any], peers: list[str]) -> dict[str, Any]:
    """The rule with the source match added after its other matches, before its statements."""
    new = copy.deepcopy(body)
    expr = new.get("expr") or []
    at = next((i for i, e in enumerate(expr) if not (isinstance(e, dict) and "match" in e)), len(expr))
    expr.insert(at, source_match(body["family"], peers))
    new["expr"] = expr
    return new


def sip_helper_edits(ruleset: Ruleset) -> list[dict[str, Any]]:
    """Delete every rule that sets a sip helper, then the helper objects (nft refuses the other order)."""
    helpers = [e for e in ruleset.entries if e.kind == "ct helper" and e.body.get("type") == "sip"]
    names = {(h.body.get("family"), h.body.get("table"), h.body.get("name")) for h in helpers}
    edits = []
    for entry in ruleset.entries:
        if entry.kind == "rule" and any(isinstance(x, dict) and (entry.body.get("family"), entry.body.get("table"),
                                                                x.get("ct helper")) in names
                                        for x in entry.body.get("expr") or []):
            safe_names(*chain_of(entry.body).split(" "))
            edits.append({"op": "delete", "rule": entry.body})
    for helper in helpers:
        safe_names(helper.body.get("family"), helper.body.get("table"), helper.body.get("name"))
        edits.append({"op": "delete_object", "object": {"ct helper": helper.body}})
    return edits


def describe_edit(edit: dict[str, Any], handle: int | None) -> str:
    """A line for a person reading the plan (the apply renders nft JSON with the handles of that moment)."""
    if edit["op"] == "delete_object":
        kind, body = next(iter(edit["object"].items()))
        return f"delete {kind} {body['family']} {body['table']} {body['name']}"
    body = edit["rule"]
    where = f"{chain_of(body)} handle {handle}"
    if edit["op"] == "delete":
        return f"delete rule {where}"
    source = next(x for x in edit["with"]["expr"] if x not in body["expr"])["match"]
    return (f"restrict rule {where} to {source['left']['payload']['protocol']} saddr {_text(source['right'])} "
            "(one transaction: the restricted copy inserted in its place, the original deleted)")


def _text(right: Any) -> str:
    items = right["set"] if isinstance(right, dict) and "set" in right else [right]
    return "{ " + ", ".join(f"{i['prefix']['addr']}/{i['prefix']['len']}" if isinstance(i, dict) else str(i)
                            for i in items) + " }"


def nft_section(ruleset: Ruleset, edits: list[dict[str, Any]]) -> dict[str, Any]:
    """What the plan stores: the edits, each touched chain's rules as planned, the fingerprints."""
    chains = {chain: [e.body for e in ruleset.rules(chain)] for chain in dict.fromkeys(
        chain_of(e["rule"]) for e in edits if "rule" in e)}
    return {"edits": edits, "chains": chains, "scope": scope_fingerprints(ruleset, edits),
            "fingerprint": ruleset.fingerprint()}


__all__ = ["NotEditable", "RulesetError", "rule_entry", "restricted", "sip_helper_edits", "describe_edit",
           "nft_section", "source_match"]
