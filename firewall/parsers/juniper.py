"""Juniper SRX (Junos) parser: destination/static NAT, VLANs, SIP ALG, from `| display set` and show.

Read from `show configuration | display set`: `set|deactivate security nat destination|static`
(see _junos_nat), the global and per-zone address books (address, range-address, dns-name, address-set;
resolved in the NAT rules' source-address-name), `security zones ... interfaces` (WAN/LAN role by zone
name), `security alg sip disable`, `interfaces X unit N vlan-id|family inet address|description`,
`vlans NAME vlan-id|l3-interface|description`, `system host-name`, `version`, `security policies`
(who reaches a NAT'd host, IPv6 pinholes; see _junos_nat). Skipped without warnings: every other
`set` hierarchy (routing, screens, system services...), source NAT and proxy-arp. `show vlans`
goes through the ntc-templates template one VLAN at a time.
A configuration in brace format is refused with a hint to add `| display set`.
"""
from __future__ import annotations

import ipaddress
import re
import shlex
from typing import Mapping

from firewall.model import FeatureState, Interface, ParseError, RouterConfig, Unparsed, Vlan
from firewall.parsers._addrbook import resolve_forwards
from firewall.parsers._junos_nat import NatConfig
from firewall.parsers._sections import marker_score, parse_sections, split_on_prompts, template_blocks
from firewall.parsers._text import Line, is_voice_name, network_of, ref, warn

COMMANDS = [
    "show version",
    "show configuration | display set",
    "show vlans",
    "show security alg status",
]

_PROMPT = re.compile(r"^[\w.-]+@[\w.-]+[>#]\s*(\S.*)$")
_NOISE = re.compile(r"^\s*(#|\{(master|primary|secondary|backup)[:\w]*\}|\[edit.*\]$)")
_VERBS = {"set", "deactivate", "delete", "activate", "protect", "annotate"}
_MATCH_KEYS = {"destination-address", "destination-address-name", "destination-port", "protocol",
               "source-address", "source-address-name"}
_STRONG = [r"^set security nat (destination|static) ", r"^set interfaces \S+ unit \d+ ",
           r"^Routing instance\s+VLAN name", r"^\{master:\d+\}", r"^set version \d",
           r"^set security (zones|policies|address-book) "]
_WEAK = [r"^set ", r"^deactivate ", r"^set system host-name ", r"JUNOS "]


class _State:
    """What the display-set lines of one parse have said so far."""

    def __init__(self) -> None:
        self.nat = NatConfig()
        self.units: dict[str, Interface] = {}
        self.unit_lines: dict[str, Line] = {}
        self.vlans: dict[str, Vlan] = {}
        self.zones: dict[str, str] = {}
        self.command = ""
        self.saw_config = False


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    state = _State()

    def handle(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
        text = "\n".join(t for _, t in lines[:300])
        if re.search(r"display set|^sh(ow)? conf", command) or re.search(r"^(set|deactivate) ", text, re.M):
            state.command, state.saw_config = command, True
            return _display_set(cfg, command, lines, state)
        if re.search(r"^sh(ow)? vlans", command) or re.search(r"Routing instance\s+VLAN name", text):
            return _show_vlans(cfg, command, lines)
        if re.search(r"alg status", command) or re.search(r"^\s*SIP\s*:", text, re.M):
            return _alg_status(cfg, command, lines)
        if re.search(r"^[\w-]+ \{\s*$", text, re.M):
            raise ParseError("juniper_junos: configuration in brace format; run it with '| display set'")
        return _version(cfg, lines)

    return parse_sections("juniper_junos", outputs, split_on_prompts(_PROMPT), handle,
                          lambda cfg: _finish(cfg, state))


def sniff(text: str) -> float:
    """Confidence that `text` is Junos output."""
    return marker_score(text, _STRONG, _WEAK)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:                  # an unbalanced quote in a description
        return text.split()


def _display_set(cfg: RouterConfig, command: str, lines: list[Line], state: _State) -> int:
    recognised = 0
    for line in lines:
        if not line[1].strip() or _NOISE.match(line[1]):
            recognised += bool(line[1].strip())
            continue
        words = _words(line[1])
        if words[0] not in _VERBS or len(words) < 2:
            cfg.warnings.append(warn(command, line, "not a display-set statement"))
            continue
        recognised += 1
        if words[0] == "deactivate":
            state.nat.inactive.append(tuple(words[1:]))
        elif words[0] == "set":
            try:
                _set(cfg, command, line, words[1:], state)
            except (ValueError, IndexError) as exc:
                cfg.warnings.append(warn(command, line, f"value not understood: {exc}"))
    return recognised


def _set(cfg: RouterConfig, command: str, line: Line, path: list[str], state: _State) -> None:
    if path[0] == "version":
        cfg.version = cfg.version or path[1]
    elif path[:2] == ["system", "host-name"]:
        cfg.hostname = cfg.hostname or path[2]
    elif path[:3] in (["security", "nat", "destination"], ["security", "nat", "static"]):
        if not state.nat.statement(path[2:], line):
            cfg.unparsed.append(_unparsed(command, line, "nat", "NAT statement not understood: expected a pool, "
                                          "rule-set from/to, or rule match/then"))
    elif path[:2] == ["security", "policies"] and len(path) > 2:
        if not state.nat.policy(path[2:], line):
            cfg.unparsed.append(_unparsed(command, line, "filter", "security policy statement not understood: "
                                          "expected from-zone/to-zone/policy or global policy match/then"))
    elif path[:4] == ["security", "alg", "sip", "disable"]:
        cfg.sip_alg = FeatureState(enabled=False, detail="set security alg sip disable",
                                   source_ref=ref(command, line, "security alg sip"))
    elif path[:2] == ["security", "address-book"] and len(path) >= 4:
        if not state.nat.address_book(path[3:]):
            cfg.unparsed.append(_unparsed(command, line, "address_list", "address-book entry not understood"))
    elif path[:3] == ["security", "zones", "security-zone"] and path[4:5] == ["address-book"]:
        if not state.nat.address_book(path[5:]):
            cfg.unparsed.append(_unparsed(command, line, "address_list", "zone address-book entry not understood"))
    elif path[:3] == ["security", "zones", "security-zone"] and path[4:5] == ["interfaces"]:
        state.zones[path[5]] = path[3]
    elif path[0] == "interfaces" and len(path) >= 5 and path[2] == "unit":
        _unit(path, line, state)
    elif path[0] == "vlans" and len(path) >= 4:
        _vlan(path, line, command, state)


def _unparsed(command: str, line: Line, construct: str, reason: str) -> Unparsed:
    return Unparsed(command, line[0], line[1].strip(), construct, reason)


def _unit(path: list[str], line: Line, state: _State) -> None:
    name = f"{path[1]}.{path[3]}"
    unit = state.units.setdefault(name, Interface(name=name, parent=path[1]))
    state.unit_lines.setdefault(name, line)
    if path[4] == "vlan-id":
        unit.vlan_id = int(path[5])
    elif path[4:6] in (["family", "inet"], ["family", "inet6"]) and path[6:7] == ["address"]:
        network_of(path[7])                               # validates it
        if not ipaddress.ip_interface(path[7]).is_link_local:    # fe80:: never reaches the internet
            unit.addresses.append(path[7])
    elif path[4] == "description":
        unit.description = " ".join(path[5:])


def _vlan(path: list[str], line: Line, command: str, state: _State) -> None:
    vlan = state.vlans.setdefault(path[1], Vlan(vlan_id=0, name=path[1],
                                                source_ref=ref(command, line, f"vlans {path[1]}")))
    if path[2] == "vlan-id":
        vlan.vlan_id = int(path[3])
    elif path[2] == "l3-interface":
        vlan.interface = path[3]
    elif path[2] == "description":
        vlan.voice = is_voice_name(" ".join(path[3:]))


def _finish(cfg: RouterConfig, state: _State) -> None:
    if state.saw_config and cfg.sip_alg.enabled is None:
        cfg.sip_alg = FeatureState(detail="not disabled in the configuration; the default depends "
                                   "on the Junos release: run 'show security alg status'")
    for (kind, rs, name), rule in state.nat.rules.items():
        for key in sorted(set(rule.match) - _MATCH_KEYS):
            cfg.warnings.append(warn(state.command, rule.match_lines[key], f"match {key} is not modelled"))
        try:
            cfg.forwards += state.nat.rule_forwards(rule, state.command)
        except ValueError as exc:
            cfg.unparsed.append(_unparsed(state.command, rule.lines[0], "nat", f"NAT rule {rs}/{name}: {exc}"))
    cfg.warnings += [warn(state.command, rule.lines[0], note) for rule, note in state.nat.notes]
    state.nat.restrict(cfg.forwards, state.zones)
    cfg.forwards += state.nat.pinholes(state.command, cfg.unparsed)
    resolve_forwards(cfg, state.nat.book, where="the security address-book")
    for name, unit in state.units.items():
        zone = state.zones.get(name, "").lower()
        unit.role = "wan" if re.search(r"untrust|outside|internet|wan", zone) else "lan" if zone else ""
        cfg.interfaces.append(unit)
        if unit.vlan_id is not None:
            cfg.vlans.append(_unit_vlan(unit, state.command, state.unit_lines[name]))
    for vlan in state.vlans.values():
        unit = state.units.get(vlan.interface or "")
        if unit and unit.addresses:
            vlan.subnet = network_of(unit.addresses[0])
        vlan.voice = vlan.voice or is_voice_name(vlan.name)
        if vlan.vlan_id:
            cfg.vlans.append(vlan)


def _unit_vlan(unit: Interface, command: str, line: Line) -> Vlan:
    return Vlan(vlan_id=unit.vlan_id or 0, name=unit.description, interface=unit.name,
                subnet=network_of(unit.addresses[0]) if unit.addresses else None,
                voice=is_voice_name(unit.description), source_ref=ref(command, line, unit.name))


def _show_vlans(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    header = "Routing instance        VLAN name             Tag          Interfaces"
    body = [l for l in lines if not re.match(r"^Routing instance\s+VLAN name", l[1])]
    recognised, parsed = template_blocks(
        cfg, command, body, lambda t: bool(re.match(r"^\S", t)) and not _NOISE.match(t),
        "juniper_junos_show_vlans", header=header, known=_NOISE, what="VLAN entry")
    for block, row in parsed:
        if not row["tag"].isdigit():
            cfg.warnings.append(warn(command, block[0], f"VLAN {row['vlan_name']} has no numeric tag"))
            continue
        cfg.vlans.append(Vlan(vlan_id=int(row["tag"]), name=row["vlan_name"],
                              member_ports=[i.rstrip("*") for i in row["interfaces"]],
                              voice=is_voice_name(row["vlan_name"]),
                              source_ref=ref(command, block[0], row["vlan_name"])))
    return recognised + len(lines) - len(body)


def _alg_status(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    recognised = 0
    for line in lines:
        match = re.match(r"^\s*([\w -]+?)\s*:\s*(\w+)", line[1])
        recognised += bool(match)
        if match and match.group(1).upper() == "SIP":
            on = match.group(2).lower() == "enabled"
            cfg.sip_alg = FeatureState(enabled=on, detail=f"show security alg status: SIP {match.group(2)}",
                                       source_ref=ref(command, line, "SIP"))
    return recognised


def _version(cfg: RouterConfig, lines: list[Line]) -> int:
    text = "\n".join(t for _, t in lines)
    version = re.search(r"^Junos:\s*(\S+)|JUNOS .*\[(\S+)\]", text, re.M)
    host_name = re.search(r"^Hostname:\s*(\S+)", text, re.M)
    cfg.version = cfg.version or (next(g for g in version.groups() if g) if version else "")
    cfg.hostname = cfg.hostname or (host_name.group(1) if host_name else "")
    return int(bool(version or host_name))

