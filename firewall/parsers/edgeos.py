"""Ubiquiti EdgeOS (EdgeRouter): config tree / `show configuration commands`, `show nat rules`, `show interfaces`.

Read from the configuration: `port-forward` (wan-interface, rule N original-port /
forward-to address+port / protocol / description), `service nat rule N` of type destination
(inbound-interface, destination address/port, inside-address address/port, protocol
absent = all, disable, exclude; sources through `firewall group` address/network groups, `!` negations as
exclusions), `service upnp2` / `service upnp` (UPnP on, NAT-PMP noted),
`system conntrack modules sip` (absent = SIP ALG on, the platform default; `disable` = off),
`interfaces <type> <name> [vif N] address/description`, switch-port `vlan pvid/vid`, host-name.
Skipped as a whole: firewall, zone-policy, service (other than nat/upnp), system (other than
conntrack and host-name), protocols, vpn. Unknown attributes of a NAT or port-forward rule
become warnings. `show nat rules` and `show interfaces` are read with their ntc-templates.
"""
from __future__ import annotations

import re
from typing import Mapping

from firewall.model import FeatureState, ParseError, PortForward, RouterConfig, SourceRef, SwitchPort
from firewall.parsers import _vyatta as vy
from firewall.parsers._addrbook import resolve_forwards
from firewall.parsers._fields import norm_proto, read_outputs, try_ports
from firewall.parsers._text import TemplateMismatch, numbered_lines, textfsm_rows

COMMANDS = ["show configuration commands", "show nat rules", "show interfaces"]

NAT_KEYS = vy.DnatKeys(
    internal_ip=("inside-address address",), internal_port=("inside-address port",), iif=("inbound-interface",),
    known=frozenset({"type", "description", "destination port", "destination address", "source address",
                     "source port", "protocol", "inside-address address", "inside-address port",
                     "inbound-interface", "disable", "log", "exclude", "source group address-group",
                     "destination group address-group"}))
PF_KEYS = vy.DnatKeys(
    internal_ip=("forward-to address",), internal_port=("forward-to port",), iif=(),
    known=frozenset({"description", "forward-to address", "forward-to port", "original-port", "protocol"}),
    external_port=("original-port",))


def _port_forwards(lines: list[vy.SetLine], command: str, cfg: RouterConfig) -> None:
    wan = next((line.words[2] for line in lines if line.words[:2] == ["port-forward", "wan-interface"]
                and len(line.words) == 3), None)
    for number, rows in vy.under(lines, "port-forward", "rule").items():
        # the GUI's default for a port-forward rule is "Both" (tcp_udp)
        forward = vy.dnat_rule(f"port-forward rule {number}", rows, PF_KEYS, command, cfg, "tcp_udp")
        if forward:
            forward.external_if = wan
            cfg.forwards.append(forward)


def _service_nat(lines: list[vy.SetLine], command: str, cfg: RouterConfig) -> None:
    for number, rows in vy.under(lines, "service", "nat", "rule").items():
        kind = next((row.words[1] for row in rows if row.words[:1] == ["type"] and len(row.words) == 2), "")
        if kind != "destination":
            continue
        forward = vy.dnat_rule(f"service nat rule {number}", rows, NAT_KEYS, command, cfg)
        if forward:
            cfg.forwards.append(forward)


def _features(lines: list[vy.SetLine], command: str, cfg: RouterConfig) -> None:
    services = vy.under(lines, "service")
    upnp = [row for name in ("upnp2", "upnp") for row in services.get(name, [])]
    if upnp:
        pmp = " with NAT-PMP" if any(row.words[:2] == ["nat-pmp", "enable"] for row in upnp) else ""
        cfg.upnp = FeatureState(True, f"service upnp2/upnp is configured{pmp}",
                                vy.block_ref(command, upnp, "service upnp2"))
    else:
        cfg.upnp = FeatureState(False, "no service upnp2/upnp in the configuration")
    sip = vy.under(lines, "system", "conntrack", "modules").get("sip", [])
    if any(row.words[:1] == ["disable"] for row in sip):
        cfg.sip_alg = FeatureState(False, "system conntrack modules sip disable",
                                   vy.block_ref(command, sip, "system conntrack modules sip"))
    else:
        cfg.sip_alg = FeatureState(True, "platform default: the sip conntrack module is on unless disabled")


def _switch_ports(lines: list[vy.SetLine], command: str, cfg: RouterConfig) -> None:
    for switch, rows in vy.under(lines, "interfaces", "switch").items():
        ports = vy.under(rows, "switch-port", "interface")
        for port, port_rows in ports.items():
            pvid = [r.words[2] for r in port_rows if r.words[:2] == ["vlan", "pvid"] and len(r.words) == 3]
            vids = [r.words[2] for r in port_rows if r.words[:2] == ["vlan", "vid"] and len(r.words) == 3]
            access = int(pvid[0]) if pvid and pvid[0].isdigit() else None
            ref = vy.block_ref(command, port_rows, f"{switch} switch-port {port}")
            cfg.switchports.append(SwitchPort(port, mode="trunk" if vids else "access", access_vlan=access,
                                              trunk_vlans=",".join(vids), source_ref=ref))


def parse_config(text: str, command: str) -> RouterConfig:
    cfg = RouterConfig(platform="ubiquiti_edgerouter", commands=[command])
    lines = vy.read_config(text, command, cfg)
    _port_forwards(lines, command, cfg)
    _service_nat(lines, command, cfg)
    resolve_forwards(cfg, vy.group_book(lines), where="'firewall group'")
    _features(lines, command, cfg)
    vy.interfaces(lines, command, cfg)
    _switch_ports(lines, command, cfg)
    cfg.hostname = vy.hostname(lines)
    return cfg


def parse_nat_rules(text: str, command: str = "show nat rules") -> RouterConfig:
    """`show nat rules`: DST rows carry the external side in src_* and the internal in dest_*."""
    cfg = RouterConfig(platform="ubiquiti_edgerouter", commands=[command])
    try:
        rows = textfsm_rows("ubiquiti_edgerouter_show_nat_rules", text)
    except TemplateMismatch as exc:
        raise ParseError(f"{command}: {exc}") from None
    if not rows and "Type Codes" not in text:
        raise ParseError(f"{command}: no NAT rule rows; not `show nat rules` output")
    lines = numbered_lines(text)
    for row in rows:
        if row.get("type") != "DST":
            continue
        block = [(n, t) for n, t in lines if re.match(rf"^X?{re.escape(row['rule'])}\s+DST\b", t.strip())]
        start = block[0][0] if block else None
        raw = "\n".join(t.rstrip() for n, t in lines if start and start <= n <= start + 1)
        ext, internal = (row.get("src_port") or "").strip(), (row.get("dest_port") or "").strip()
        cfg.forwards.append(PortForward(
            kind="dnat", proto=norm_proto(row.get("protocol", "all")),
            internal_ip=row.get("dest_address") or None, external_ip=row.get("src_address") or None,
            external_if=row.get("interface") or None,
            external_ports=try_ports(ext) if ext and ext.upper() != "ANY" else None,
            internal_ports=try_ports(internal) if internal and internal.upper() != "ANY" else None,
            enabled=not raw.lstrip().startswith("X"),
            source_ref=SourceRef(command, start, start + 1 if start else None, f"nat rule {row['rule']}", raw)))
    return cfg


def _read(command: str, text: str) -> RouterConfig:
    if command.startswith("show nat") or (not command and "Type Codes:" in text and "DST" in text):
        return parse_nat_rules(text, command or "show nat rules")
    return vy.read_output("ubiquiti_edgerouter", "ubiquiti_edgerouter_show_interfaces", command, text, parse_config)


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    """Parse EdgeRouter outputs (configuration in either form, show nat rules, show interfaces)."""
    return read_outputs("ubiquiti_edgerouter", outputs, _read)


def sniff(text: str) -> float:
    """Confidence that `text` is EdgeOS output."""
    if "port-forward" in text and ("forward-to" in text or "wan-interface" in text):
        return 0.95
    if "vyatta-config-version" in text or "Type Codes:  SRC" in text or "ubnt" in text:
        return 0.9
    if re.search(r"^set service nat rule \d+", text, re.MULTILINE):
        return 0.85
    if vy.is_interface_table(text):
        return 0.35 if re.search(r"^(switch\d|imq\d|pppoe\d)", text, re.MULTILINE) else 0.3
    return 0.0
