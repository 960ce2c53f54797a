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
become warnings. `show interfaces` is read with its ntc-template; `show nat rules` line by line
(the template refuses ranges, `ANY`, group names and `when saddr` lines), each line it cannot place
an Unparsed item.
"""
from __future__ import annotations

import re
from typing import Mapping

from firewall.model import FeatureState, ParseError, PortForward, RouterConfig, SourceRef, SwitchPort, Unparsed
from firewall.parsers import _vyatta as vy
from firewall.parsers._addrbook import AddressBook, is_address, named, negation, resolve_destinations, resolve_forwards
from firewall.parsers._fields import norm_proto, read_outputs, try_ports
from firewall.parsers._text import numbered_lines

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


def parse_config(text: str, command: str, book: AddressBook | None = None) -> RouterConfig:
    cfg = RouterConfig(platform="ubiquiti_edgerouter", commands=[command])
    lines = vy.read_config(text, command, cfg)
    _port_forwards(lines, command, cfg)
    _service_nat(lines, command, cfg)
    groups = vy.group_book(lines)
    resolve_forwards(cfg, groups, where="'firewall group'")
    for name, members in groups.entries.items():
        (book or AddressBook()).add(name, members)
    _features(lines, command, cfg)
    vy.interfaces(lines, command, cfg)
    _switch_ports(lines, command, cfg)
    cfg.hostname = vy.hostname(lines)
    return cfg


_NAT_HEAD = re.compile(r"^(X?)(\d+)\s+(\S+)\s+(?:(\S+)\s+)?(daddr|saddr)\s+(\S+)(?:\s+to\s+(\S+))?\s*$")
_NAT_PROTO = re.compile(r"^\s+proto-(\S+)\s+(?:dport|sport)\s+(\S+)(?:\s+to\s+(\S+))?\s*$")
_NAT_WHEN = re.compile(r"^\s+when\s+(saddr|daddr)\s+(\S+),\s+(?:sport|dport)\s+(\S+)\s*$")
_NAT_NOISE = re.compile(r"^(Type Codes:|\s+X at the front of rule|rule\s+type\s+intf|[-\s]*$|\s*Desc: )")


def parse_nat_rules(text: str, command: str = "show nat rules") -> RouterConfig:
    """`show nat rules`: a rule line (type, interface, daddr X to INSIDE), its `proto-P dport A to B`
    line and, when the rule matches sources, a `when saddr S, sport T` line. A DST rule's external side
    is the daddr; a name where an address stands is a firewall group, resolved in parse()."""
    cfg = RouterConfig(platform="ubiquiti_edgerouter", commands=[command])
    lines, rules = numbered_lines(text), []
    for number, line in lines:
        head, proto, when = _NAT_HEAD.match(line), _NAT_PROTO.match(line), _NAT_WHEN.match(line)
        if head:
            rules.append(((number, line), head, []))
        elif (proto or when) and rules and not any(m.re is (proto or when).re for _, m in rules[-1][2]):
            rules[-1][2].append(((number, line), proto or when))
        elif not _NAT_NOISE.match(line):
            cfg.unparsed.append(Unparsed(command, number, line.strip(), "nat", "line not understood: expected a "
                                         "rule line 'N TYPE intf daddr A to B' or its 'proto-P dport A to B' line"))
    if not rules and "Type Codes" not in text:
        raise ParseError(f"{command}: no NAT rule rows; not `show nat rules` output")
    for first, head, more in rules:
        _nat_rule(cfg, command, first, head, more)
    return cfg


def _nat_rule(cfg: RouterConfig, command: str, first, head, more) -> None:
    excluded, rule, kind, iface, direction, original, inside = head.groups()
    if kind in ("SRC", "MASQ"):
        return
    block = [first] + [line for line, _ in more]
    where = SourceRef(command, first[0], block[-1][0], f"nat rule {rule}", "\n".join(t.rstrip() for _, t in block))
    proto = next((m for _, m in more if m.re is _NAT_PROTO), None)
    when = next((m for _, m in more if m.re is _NAT_WHEN), None)
    ports = [p for p in (proto.groups()[1:] if proto else ()) if p and p.upper() != "ANY"]
    problem = (f"rule type {kind!r} unknown, read as DST" if kind != "DST" else
               "no translation address ('to ...')" if not inside or direction != "daddr" else
               f"translation address {inside!r} is not an address" if not is_address(inside) else
               "its 'proto-P dport ...' line is missing: protocol and ports unknown" if not proto else
               f"ports {ports} not understood, read as every port" if any(try_ports(p) is None for p in ports)
               else "")
    if problem:
        cfg.unparsed.append(Unparsed(command, first[0], first[1].strip(), "nat", f"rule {rule}: {problem}"))
    if not inside or direction != "daddr":
        return
    ext, internal = (proto.group(2), proto.group(3) or "") if proto else ("ANY", "")
    sources, exclusions = _address_side(when.group(2)) if when else (None, None)
    forward = PortForward(
        kind="dnat", proto=norm_proto(proto.group(1)) if proto else "any", internal_ip=inside,
        external_ip=None if original.upper() == "ANY" else _named(original), external_if=iface or None,
        external_ports=try_ports(ext) if ext.upper() != "ANY" else None,
        internal_ports=try_ports(internal) if internal and internal.upper() != "ANY" else None,
        enabled=not excluded, source_restriction=sources, source_exclusions=exclusions, source_ref=where)
    cfg.forwards.append(forward)


def _named(value: str) -> str:
    return value if is_address(value) else named(value)


def _address_side(value: str) -> tuple[list[str] | None, list[str] | None]:
    negated, value = negation(value)
    if value.upper() == "ANY":
        return None, None
    return (None, [_named(value)]) if negated else ([_named(value)], None)


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    """Parse EdgeRouter outputs (configuration in either form, show nat rules, show interfaces).

    Groups named in `show nat rules` are resolved against the configuration's `firewall group`
    when that is among the outputs; otherwise they stay named and become Unparsed."""
    book = AddressBook()

    def config(text: str, command: str) -> RouterConfig:
        return parse_config(text, command, book)

    def read(command: str, text: str) -> RouterConfig:
        if command.startswith("show nat") or (not command and "Type Codes:" in text and "DST" in text):
            return parse_nat_rules(text, command or "show nat rules")
        return vy.read_output("ubiquiti_edgerouter", "ubiquiti_edgerouter_show_interfaces", command, text, config)

    cfg = read_outputs("ubiquiti_edgerouter", outputs, read)
    from_table = [f for f in cfg.forwards if f.source_ref.rule_id.startswith("nat rule ")]
    resolve_forwards(cfg, book, from_table, where="'firewall group' of the collected configuration")
    resolve_destinations(cfg, book, "daddr", "'firewall group' of the collected configuration")
    return cfg


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
