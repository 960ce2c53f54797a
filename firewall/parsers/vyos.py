"""VyOS: `show configuration commands` set-lines or the curly config.boot tree, and `show interfaces`.

Read: `nat destination rule N` and `nat66 destination rule N` (IPv6 destination NAT) (1.4 `inbound-interface name X`, 1.2/1.3 `inbound-interface X`,
destination address/port lists and ranges, translation address/port, protocol tcp_udp/all,
absent = all, disable, description, source address / firewall group restriction, `!` negations),
`service upnp`,
`system conntrack modules`, `system host-name` and `interfaces <type> <name> [vif N | vif-s N
vif-c M] address/description` (ethernet, bonding, ...). Skipped as a whole: firewall,
nat source, protocols, policy, service (other than upnp), system (other than conntrack and
host-name), vpn, high-availability. Unknown attributes of a destination rule become warnings.
"""
from __future__ import annotations

import re
from typing import Mapping

from firewall.model import FeatureState, RouterConfig
from firewall.parsers import _vyatta as vy
from firewall.parsers._addrbook import resolve_forwards
from firewall.parsers._fields import read_outputs

COMMANDS = ["show configuration commands", "show interfaces"]

KEYS = vy.DnatKeys(
    internal_ip=("translation address",), internal_port=("translation port",),
    iif=("inbound-interface name", "inbound-interface interface-name", "inbound-interface"),
    known=frozenset({
        "description", "destination port", "destination address", "source address", "source port",
        "protocol", "translation address", "translation port", "inbound-interface",
        "inbound-interface name", "inbound-interface interface-name", "inbound-interface group",
        "disable", "log", "exclude", "packet-type", "source group address-group",
        "destination group address-group"}))


def _sip(lines: list[vy.SetLine], version: str, command: str) -> FeatureState:
    modules = vy.under(lines, "system", "conntrack", "modules")
    if "sip" in modules:
        rows = modules["sip"]
        ref = vy.block_ref(command, rows, "system conntrack modules sip")
        if any(row.words[:1] == ["disable"] for row in rows):
            return FeatureState(False, "system conntrack modules sip disable", ref)
        return FeatureState(True, "system conntrack modules sip is configured", ref)
    legacy = any(row.words[:1] == ["disable"] for rows in modules.values() for row in rows)
    if legacy or version.startswith(("1.2", "1.3")):
        return FeatureState(True, "platform default: VyOS 1.2/1.3 load every helper unless disabled")
    new_syntax = any(line.words[:4] == ["nat", "destination", "rule"] and "name" in line.words[4:6]
                     for line in lines)
    if modules or version.startswith(("1.4", "1.5")) or new_syntax:
        return FeatureState(False, "VyOS 1.4+: only the listed conntrack modules load, and sip is not listed")
    return FeatureState(None, "no conntrack modules configured; the default depends on the VyOS release")


def parse_config(text: str, command: str) -> RouterConfig:
    cfg = RouterConfig(platform="vyos", commands=[command])
    lines = vy.read_config(text, command, cfg)
    for family in ("nat", "nat66"):
        for number, rows in vy.under(lines, family, "destination", "rule").items():
            forward = vy.dnat_rule(f"{family} destination rule {number}", rows, KEYS, command, cfg)
            if forward:
                cfg.forwards.append(forward)
    resolve_forwards(cfg, vy.group_book(lines), where="'firewall group'")
    upnp = vy.under(lines, "service", "upnp")
    rows = [row for group in upnp.values() for row in group]
    cfg.upnp = FeatureState(True, "service upnp is configured", vy.block_ref(command, rows, "service upnp")) \
        if rows else FeatureState(False, "no service upnp in the configuration")
    cfg.sip_alg = _sip(lines, cfg.version, command)
    vy.interfaces(lines, command, cfg)
    cfg.hostname = vy.hostname(lines)
    return cfg


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    """Parse VyOS `show configuration commands` / config.boot and `show interfaces` outputs."""
    return read_outputs("vyos", outputs, lambda command, text: vy.read_output(
        "vyos", "vyatta_vyos_show_interfaces", command, text, parse_config))


def sniff(text: str) -> float:
    """Confidence that `text` is VyOS configuration (EdgeOS shares the grammar; its markers win there)."""
    if "vyos-config-version" in text or "set nat destination rule" in text and "inbound-interface name" in text:
        return 0.95
    if "set nat destination rule" in text or "set interfaces ethernet" in text:
        return 0.75
    if "nat {" in text and "destination {" in text and "translation {" in text:
        return 0.8
    if vy.is_interface_table(text):
        return 0.35 if re.search(r"^(vtun\d|wg\d|dum\d|bond\d)", text, re.MULTILINE) else 0.3
    return 0.0
