"""Fortinet FortiGate (FortiOS) parser: VIP port-forwards, VLAN interfaces, SIP ALG / helper.

Reads configuration text (`show firewall vip`, `show firewall policy`, `show system settings`,
`show system session-helper`, `show system interface`, or a whole config; see _fortios_config)
and the operational `get system interface` (ntc-templates template, one line per interface) and
`get system status`. `get system interface` prints no VLAN id: a VLAN-type interface that no
configured interface explains gets the number its name ends in, with a warning saying so.
Skipped on purpose: the `== [ name ]` banner lines and all `get system status` fields but
version and hostname.
"""
from __future__ import annotations

import re
from typing import Mapping

from firewall.model import Interface, RouterConfig, Vlan
from firewall.parsers._fortios_config import Tree, interfaces, sip_state, vip_forwards
from firewall.parsers._sections import marker_score, parse_sections, split_on_prompts, template_lines
from firewall.parsers._text import Line, is_voice_name, network_of, ref, to_cidr, warn

COMMANDS = [
    "get system status",
    "show firewall vip",
    "show firewall vipgrp",
    "show firewall policy",
    "show system settings",
    "show system session-helper",
    "show system interface",
    "get system interface",
]

_PROMPT = re.compile(r"^[\w.-]+(?: \([\w.-]+\))? [#$]\s*((?:show|get)\s.*)$")
_STRONG = [r"^\s*config firewall vip\b", r"^\s*config system (global|interface|settings)\b",
           r"^== \[ \S+ \]$", r"^Version: Forti", r"^\s*set (extip|mappedip|extintf) ", r"FortiGate",
           r"^name: \S+\s+(mode: \S+\s+)?ip: [\d.]+ [\d.]+"]
_WEAK = [r"^\s*edit \S+", r"^\s*next\s*$", r"^\s*end\s*$", r"^\s*config \w+"]


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    tree = Tree()
    operational: list[tuple[str, Line, Interface, str]] = []
    commands: list[str] = []

    def handle(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
        text = "\n".join(t for _, t in lines[:300])
        if re.search(r"^get sys\w* int", command) or re.search(r"^name: \S+ .*type: ", text, re.M):
            return _get_interfaces(cfg, command, lines, operational)
        if re.search(r"^get sys\w* stat", command) or re.search(r"^Version: ", text, re.M):
            return _status(cfg, lines)
        before = tree.recognised
        tree.read(cfg, command, lines)
        commands.append(command)
        return tree.recognised - before

    def finish(cfg: RouterConfig) -> None:
        command = commands[0] if commands else ""
        vip_forwards(tree, cfg, command)
        cfg.sip_alg = sip_state(tree, command) or cfg.sip_alg
        interfaces(tree, cfg, command)
        hostname = next((e.values["hostname"][0] for e in tree.get("system global")
                         if e.values.get("hostname")), "")
        cfg.hostname = cfg.hostname or hostname
        _guess_vlans(cfg, operational)

    return parse_sections("fortinet", outputs, split_on_prompts(_PROMPT), handle, finish)


def sniff(text: str) -> float:
    """Confidence that `text` is FortiOS output."""
    return marker_score(text, _STRONG, _WEAK)


def _get_interfaces(cfg: RouterConfig, command: str, lines: list[Line],
                    operational: list[tuple[str, Line, Interface, str]]) -> int:
    """`get system interface`: one `name: ...` line per interface."""
    recognised, parsed = template_lines(cfg, command, lines, "fortinet_get_system_interface",
                                        known=re.compile(r"^== \[ .* \]$"),
                                        what="a 'get system interface' line")
    for line, row in parsed:
        try:
            addresses = [] if row["ip_address"] == "0.0.0.0" else [to_cidr(row["ip_address"], row["netmask"])]
        except ValueError as exc:
            cfg.warnings.append(warn(command, line, f"bad address: {exc}"))
            continue
        iface = Interface(name=row["name"], addresses=addresses)
        cfg.interfaces.append(iface)
        operational.append((command, line, iface, row["type"]))
    return recognised


def _guess_vlans(cfg: RouterConfig, operational: list[tuple[str, Line, Interface, str]]) -> None:
    """VLAN-type interfaces the configuration did not explain: id from the name, with a warning."""
    known = {v.interface for v in cfg.vlans}
    for command, line, iface, kind in operational:
        if kind != "vlan" or iface.name in known:
            continue
        digits = re.search(r"(\d+)$", iface.name)
        if not digits or not 1 <= int(digits.group(1)) <= 4094:
            cfg.warnings.append(warn(command, line, f"VLAN interface {iface.name!r}: no VLAN id in this "
                                     "output; add 'show system interface'"))
            continue
        vlan_id = int(digits.group(1))
        iface.vlan_id = vlan_id
        cfg.warnings.append(warn(command, line, f"VLAN id {vlan_id} of {iface.name!r} is taken from its "
                                 "name; 'show system interface' gives the real one"))
        cfg.vlans.append(Vlan(vlan_id=vlan_id, name=iface.name, interface=iface.name,
                              subnet=_network(iface), voice=is_voice_name(iface.name),
                              source_ref=ref(command, line, iface.name)))


def _network(iface: Interface) -> str | None:
    return network_of(iface.addresses[0]) if iface.addresses else None


def _status(cfg: RouterConfig, lines: list[Line]) -> int:
    text = "\n".join(t for _, t in lines)
    version = re.search(r"^Version: .*? v(\d+\.\d+\.\d+)", text, re.M)
    host = re.search(r"^Hostname: (\S+)", text, re.M)
    cfg.version = cfg.version or (version.group(1) if version else "")
    cfg.hostname = cfg.hostname or (host.group(1) if host else "")
    return int(bool(version or host))
