"""Cisco IOS / IOS-XE parser: static NAT forwards, NAT runtime table, VLANs, voice VLANs, SIP ALG.

Outputs are recognised by command name (abbreviations allowed) or, for pasted text, by content;
a paste holding several commands is split at `host#show ...` prompt lines. The running config
is read by _ios_config (see its docstring for what is skipped). `show` outputs go through the
ntc-templates TextFSM templates one record at a time, so every record keeps its line number
and a line the template rejects becomes a warning instead of failing the whole output.
Skipped on purpose: the second and later tables of `show vlan` (type/SAID, remote SPAN, private
VLANs) and every `show version` line (only hostname and version are taken from it).
"""
from __future__ import annotations

import ipaddress
import re

from firewall.model import Interface, PortForward, PortRange, RouterConfig, SwitchPort, Unparsed, Vlan
from firewall.parsers._ios_config import IosConfig
from firewall.parsers._sections import marker_score, parse_sections, split_on_prompts, template_blocks, template_lines
from firewall.parsers._text import Line, TemplateMismatch, is_voice_name, ref, textfsm_rows, warn

COMMANDS = [
    "show version",
    "show running-config",
    "show ip nat translations | include ---",
    "show ip interface brief",
    "show vlan brief",
    "show interfaces switchport",
    "show vlans",
]

_PROMPT = re.compile(r"^[A-Za-z0-9][\w.\-]*(?:\([\w-]+\))?[#>]\s*((?:sh(?:ow)?|more)\s.*)$")
_BY_COMMAND = [
    (re.compile(r"^sh(ow)?\s+ip\s+nat\s+tr"), "nat_translations"),
    (re.compile(r"^sh(ow)?\s+vlans\b"), "dot1q_vlans"),
    (re.compile(r"^sh(ow)?\s+vlan(-switch)?\b"), "vlan"),
    (re.compile(r"^sh(ow)?\s+int(erfaces?)?(\s+\S+)?\s+sw"), "switchport"),
    (re.compile(r"^sh(ow)?\s+ip\s+int(erface)?\s+br"), "ip_brief"),
    (re.compile(r"^sh(ow)?\s+ver"), "version"),
    (re.compile(r"^(sh(ow)?\s+(run|start|conf)|more\s)"), "config"),
]
_ANY_SHOW = re.compile(r"^(sh(ow?)?|do sh(ow?)?)\s")
_BY_CONTENT = [
    (re.compile(r"^Pro\s+Inside global|^(tcp|udp|icmp|---)\s+[\d.]+(:\d+)?\s+[\d.]+", re.M),
     "nat_translations"),
    (re.compile(r"^Virtual LAN ID:|^VLAN ID:", re.M), "dot1q_vlans"),
    (re.compile(r"^VLAN\s+Name\s+Status\s+Ports", re.M), "vlan"),
    (re.compile(r"^Name:\s+\S+\s*\n\s*Switchport:", re.M), "switchport"),
    (re.compile(r"^Interface\s+IP-Address\s+OK\?", re.M), "ip_brief"),
    (re.compile(r"Cisco IOS.*Software|^\S+ uptime is ", re.M), "version"),
]
_STRONG = [r"^ip nat inside source static ", r"^Pro\s+Inside global", r"Cisco IOS Software",
           r"^Voice VLAN:", r"^Virtual LAN ID:", r"IP-Address\s+OK\? Method",
           r"^VLAN\s+Name\s+Status\s+Ports", r"^ip nat (inside|outside)$"]
_WEAK = [r"^interface \S+", r"^ encapsulation dot1Q \d+", r"^ switchport ", r"^hostname ",
         r"^!$", r"^ip nat ", r"^Building configuration"]
_OTHER_PLATFORM = [r"^ASA Version", r"^\s*nameif ", r"^object network ", r"NAT Policies \(Section"]


def parse(outputs: dict[str, str]) -> RouterConfig:
    return parse_sections("cisco_ios", outputs, split_on_prompts(_PROMPT), _handle, _finish)


def sniff(text: str) -> float:
    """Confidence that `text` is Cisco IOS output."""
    return marker_score(text, _STRONG, _WEAK, _OTHER_PLATFORM)


def kind_of(command: str, lines: list[Line]) -> str:
    """Which output this is: by command name first, by content when the command is unknown.

    A `show` command this parser has no reader for (`sh ip route` in a pasted session) is "unread"."""
    for pattern, kind in _BY_COMMAND:
        if pattern.match(command.strip()):
            return kind
    if _ANY_SHOW.match(command.strip()):
        return "unread"
    text = "\n".join(t for _, t in lines[:200])
    for pattern, kind in _BY_CONTENT:
        if pattern.search(text):
            return kind
    return "config"


def _handle(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    kind = kind_of(command, lines)
    if kind == "config":
        reader = IosConfig(cfg, command)
        for line in lines:
            reader.feed(line)
        return reader.close()
    return _HANDLERS[kind](cfg, command, lines)


def _unread(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    """Output of a command with no NAT/VLAN reader: named in a warning, its lines counted as seen."""
    first = next(line for line in lines if line[1].strip())
    cfg.warnings.append(warn(command, first, f"output of {command!r} skipped: not a command this parser reads "
                                             f"(it reads {', '.join(COMMANDS)})"))
    return sum(1 for _, text in lines if text.strip())


def _finish(cfg: RouterConfig) -> None:
    """A voice VLAN on a switch port marks that VLAN as voice, creating it when unseen."""
    for port in cfg.switchports:
        if port.voice_vlan is not None:
            cfg.vlans.append(Vlan(vlan_id=port.voice_vlan, voice=True, source_ref=port.source_ref))


def _nat_translations(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    header = re.compile(r"^Pro\s+Inside")
    recognised, parsed = template_lines(cfg, command, lines, "cisco_ios_show_ip_nat_translations",
                                        known=header, what="a NAT translation entry")
    read = {line[0] for line, _ in parsed}
    for line in lines:
        if line[1].strip() and not header.match(line[1]) and line[0] not in read:
            cfg.unparsed.append(Unparsed(command, line[0], line[1].strip(), "nat", _TRANSLATION))
    for line, row in parsed:
        try:
            forward = _translation_forward(row, command, line)
        except ValueError as exc:
            cfg.unparsed.append(Unparsed(command, line[0], line[1].strip(), "nat", f"{exc}; {_TRANSLATION}"))
            continue
        if forward:
            cfg.forwards.append(forward)
    return recognised


_TRANSLATION = "expected 'PROTO INSIDE-GLOBAL[:PORT] INSIDE-LOCAL[:PORT] OUTSIDE-LOCAL OUTSIDE-GLOBAL' (--- for none)"


def _checked(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an address") from None


def _translation_forward(row: dict, command: str, line: Line) -> PortForward | None:
    """Static entries (outside columns '---') are forwards; dynamic sessions and icmp are not."""
    if row["outside_local_ip"] != "---" or row["outside_global_ip"] != "---":
        return None
    proto = row["protocol"]
    if proto == "icmp" or row["inside_local_ip"] == "---":
        return None
    _checked(row["inside_local_ip"], "inside local")
    _checked(row["inside_global_ip"], "inside global")
    if proto not in ("tcp", "udp", "---", ""):
        raise ValueError(f"protocol {proto!r} not known")
    ports = proto in ("tcp", "udp") and row["inside_global_port"].isdigit() \
        and row["inside_local_port"].isdigit()
    if proto in ("tcp", "udp") and not ports:
        raise ValueError("a tcp/udp entry without numeric ports")
    ext = [PortRange(int(row["inside_global_port"]), int(row["inside_global_port"]))] if ports else None
    local = [PortRange(int(row["inside_local_port"]), int(row["inside_local_port"]))] if ports else None
    rule_id = f"{row['inside_global_ip']}" + (f":{row['inside_global_port']}" if ports else "")
    return PortForward(kind="runtime_translation", proto=proto if ports else "any",
                       internal_ip=row["inside_local_ip"], external_ip=row["inside_global_ip"],
                       external_ports=ext, internal_ports=local,
                       source_ref=ref(command, line, rule_id))


def _vlan_table(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    end = next((i for i, (_, t) in enumerate(lines) if re.match(r"^VLAN\s+Type\s+SAID", t)), len(lines))
    recognised, parsed = template_blocks(
        cfg, command, lines[:end], lambda t: bool(re.match(r"^\d+\s+\S", t)), "cisco_ios_show_vlan",
        header="VLAN Name                             Status    Ports",
        known=re.compile(r"^(VLAN\s+Name|-{4})"), what="VLAN table row")
    for block, row in parsed:
        cfg.vlans.append(Vlan(vlan_id=int(row["vlan_id"]), name=row["vlan_name"],
                              member_ports=list(row["interfaces"]),
                              voice=is_voice_name(row["vlan_name"]),
                              source_ref=ref(command, block, f"vlan {row['vlan_id']}")))
    return recognised + len(lines) - end        # the later tables are known, and skipped


def _switchports(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    recognised, parsed = template_blocks(cfg, command, lines, lambda t: t.startswith("Name:"),
                                         "cisco_ios_show_interfaces_switchport", what="switchport block")
    for block, row in parsed:
        cfg.switchports.append(_switchport(row, command, block))
        for line in block:
            voice = re.match(r"^Voice VLAN:\s+(\d+)\s*(?:\((.*)\))?", line[1])
            if voice:
                cfg.vlans.append(Vlan(vlan_id=int(voice.group(1)), name=voice.group(2) or "",
                                      voice=True, source_ref=ref(command, line, row["interface"])))
    return recognised


def _switchport(row: dict, command: str, block: list[Line]) -> SwitchPort:
    def vlan(value: str) -> int | None:
        return int(value) if value.isdigit() else None
    return SwitchPort(name=row["interface"], mode=row["admin_mode"].replace("static ", ""),
                      access_vlan=vlan(row["access_vlan"]), voice_vlan=vlan(row["voice_vlan"]),
                      trunk_vlans=",".join(row["trunking_vlans"]),
                      source_ref=ref(command, block, row["interface"]))


def _dot1q_vlans(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    recognised, parsed = template_blocks(
        cfg, command, lines, lambda t: bool(re.match(r"^(Virtual LAN ID|VLAN ID):", t)),
        "cisco_ios_show_vlans", what="VLAN block")
    for block, row in parsed:
        subifs = [i for i in row["interfaces"] if "." in i] or row["interfaces"]
        name = subifs[0] if subifs else None
        cfg.vlans.append(Vlan(vlan_id=int(row["vlan_id"]), interface=name,
                              source_ref=ref(command, block, f"vlan {row['vlan_id']}")))
        if name:
            cfg.interfaces.append(Interface(name=name, addresses=list(row["ip_addresses"]),
                                            vlan_id=int(row["vlan_id"]), parent=name.split(".")[0]))
    return recognised


def _ip_brief(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    recognised, parsed = template_lines(cfg, command, lines, "cisco_ios_show_ip_interface_brief",
                                        known=re.compile(r"^Interface\s+IP-Address"), what="an interface row")
    for _, row in parsed:
        name, address = row["interface"], row["ip_address"]
        cfg.interfaces.append(Interface(
            name=name, addresses=[] if address == "unassigned" else [address],   # no mask here
            parent=name.split(".")[0] if "." in name else None))
    return recognised


def _version(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    try:
        rows = textfsm_rows("cisco_ios_show_version", "\n".join(t for _, t in lines))
    except TemplateMismatch:
        return 0
    if not rows or not (rows[0]["version"] or rows[0]["hostname"]):
        return 0
    cfg.hostname = cfg.hostname or rows[0]["hostname"]
    cfg.version = cfg.version or rows[0]["version"]
    return 1


_HANDLERS = {
    "nat_translations": _nat_translations,
    "vlan": _vlan_table,
    "switchport": _switchports,
    "dot1q_vlans": _dot1q_vlans,
    "ip_brief": _ip_brief,
    "version": _version,
    "unread": _unread,
}
