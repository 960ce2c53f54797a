"""EdgeOS / VyOS: delete the rule's whole config node, limit it to sources, or turn the SIP
conntrack helper off; then commit and save.

A node name is rebuilt from fixed words and an ASCII rule number, never copied from the device;
every other value is single-quoted (configure mode runs through vbash) or refused (see _quote).
"""
from __future__ import annotations

import hashlib
import re

from firewall.model import PortForward, RouterConfig
from firewall.renderers._quote import Unrenderable, refuse, source_network, vyatta_value

_RULE = r"(?:nat destination|service nat|port-forward) rule [0-9]+"
_NODE = re.compile(rf"^set ({_RULE})(?: |$)")
_SOURCE_MATCH = re.compile(r"^source (address|group [a-z-]+)(?: |$)")
_ENTER, _LEAVE = ["configure"], ["commit", "save", "exit"]


def node_of(fwd: PortForward) -> str:
    """`nat destination rule 10` (VyOS), `service nat rule 10` or `port-forward rule 10` (EdgeOS)."""
    if re.fullmatch(_RULE, fwd.source_ref.rule_id):
        return fwd.source_ref.rule_id
    found = _NODE.match(fwd.source_ref.text.strip().split("\n")[0] if fwd.source_ref.text.strip() else "")
    if not found:
        raise Unrenderable(f"no config node for forward {fwd.source_ref.rule_id!r}")
    return found.group(1)


def render_removal(forwards: list[PortForward]) -> list[str]:
    nodes = list(dict.fromkeys(node_of(fwd) for fwd in forwards))
    return [*_ENTER, *[f"delete {node}" for node in nodes], *_LEAVE]


def _source_matches(fwd: PortForward, node: str) -> list[str]:
    """The rule's source matches now set (`source address`, `source group address-group`, ...), from its set-lines."""
    lines = [line.strip(" \t\r") for line in fwd.source_ref.text.split("\n") if line.strip(" \t\r")]
    if not lines or not all(line.startswith(f"set {node} ") or line == f"set {node}" for line in lines):
        refuse("rule text", fwd.source_ref.text, "restricting needs the rule's set-lines (read "
               "`show configuration commands`), to see which source matches it has")
    rest = [line[len(f"set {node} "):] for line in lines]
    return list(dict.fromkeys(m.group(1) for m in map(_SOURCE_MATCH.match, rest) if m))


def address_group_name(node: str, networks: list[str]) -> str:
    digest = hashlib.sha256("\n".join([node, *networks]).encode()).hexdigest()[:12]
    return f"AWXH-SRC-{digest}"


def _group_member(network) -> str:
    """An address-group holds addresses and ranges, not prefixes: a prefix becomes its exact range."""
    return str(network.network_address) if network.num_addresses == 1 else f"{network[0]}-{network[-1]}"


def _restrict(fwd: PortForward, sources: list[str]) -> list[str]:
    node = node_of(fwd)
    if node.startswith("port-forward"):
        raise Unrenderable(f"EdgeOS {node} cannot match sources (port-forward rules have no source option): "
                           "recreate it by hand as a `service nat rule` of type destination with `source address` "
                           "(and its firewall rule), or remove it")
    networks = list(dict.fromkeys(source_network(s) for s in sources))
    if not networks:
        refuse("source networks", sources, "no source at all would shut the forward; remove it instead")
    present = _source_matches(fwd, node)
    if len(networks) == 1:
        keep, change = "address", [f"set {node} source address {vyatta_value(str(networks[0]), 'source network')}"]
        members = []
    else:
        group = address_group_name(node, [str(n) for n in networks])
        keep, change = "group address-group", [f"set {node} source group address-group {vyatta_value(group, 'group')}"]
        members = [f"set firewall group address-group {group} address {vyatta_value(_group_member(n), 'member')}"
                   for n in networks]
    drops = [f"delete {node} source {match}" for match in present if match != keep]
    return members + drops + change


def render_restrict(restrictions: list[tuple[PortForward, list[str]]]) -> list[str]:
    """One source: `source address`; several: a new firewall address-group (ranges, exact) and
    `source group address-group`; any other source match of the rule is deleted (they would AND)."""
    if not restrictions:
        return []
    return [*_ENTER, *[line for fwd, sources in restrictions for line in _restrict(fwd, sources)], *_LEAVE]


def _vyos_release(config: RouterConfig) -> tuple[int, int] | None:
    found = re.search(r"(\d+)\.(\d+)", config.version or "")
    if found:
        return int(found.group(1)), int(found.group(2))
    if any("inbound-interface name" in fwd.source_ref.text for fwd in config.forwards):
        return (1, 4)                   # syntax only 1.4 and later write
    return None


def _vyos_sip_off(config: RouterConfig) -> str:
    """VyOS 1.2/1.3 load every helper unless `... sip disable`; 1.4+ load only the listed ones."""
    where = config.sip_alg.source_ref
    listed = where.rule_id == "system conntrack modules sip" and bool(where.text)
    if not listed:
        return "set system conntrack modules sip disable"
    release = _vyos_release(config)
    if release is None:
        raise Unrenderable("VyOS release unknown and `system conntrack modules sip` is configured: 1.2/1.3 "
                           "need `set system conntrack modules sip disable`, 1.4+ need `delete system conntrack "
                           "modules sip`; read `show version` with the configuration")
    return "delete system conntrack modules sip" if release >= (1, 4) else "set system conntrack modules sip disable"


def render_helper_removal(config: RouterConfig) -> list[str]:
    if config.sip_alg.enabled is False:
        return []
    if config.platform == "vyos" and config.sip_alg.enabled is None:
        raise Unrenderable("whether the VyOS SIP helper is on is not known (" + (config.sip_alg.detail or "no detail")
                           + "); read `show version` with the configuration")
    command = _vyos_sip_off(config) if config.platform == "vyos" else "set system conntrack modules sip disable"
    return [*_ENTER, command, *_LEAVE]
