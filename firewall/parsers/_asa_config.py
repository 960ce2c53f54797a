"""Cisco ASA running-config reader: objects, object NAT, twice NAT, interfaces/VLANs, inspect sip.

Read: `hostname`, `ASA Version`, `name`, `object network` (definitions through the ntc-templates
template, plus the object's ` nat` line), `object service`, top-level `nat (...)` lines,
`interface` sections (`nameif`, `vlan`, `ip address`, `security-level`, `description`) and
`policy-map` sections (only `inspect sip` matters), `object-group network`, `object-group
service`, `access-list` and `access-group` (see _asa_acl). Skipped as whole sections, without
warnings: every other top-level command (routes, crypto, AAA...).
Lines that are not configuration syntax and unparsable NAT statements become warnings.
"""
from __future__ import annotations

import re

from firewall.model import FeatureState, Interface, RouterConfig, SourceRef, Unparsed, Vlan
from firewall.parsers._asa_acl import op_ports
from firewall.parsers._asa_nat import Names, NatRule, parse_nat_words
from firewall.parsers._text import (
    Line,
    TemplateMismatch,
    is_voice_name,
    network_of,
    ref,
    textfsm_rows,
    to_cidr,
    warn,
)

_COMMAND_WORD = re.compile(r"^(no\s+)?[a-z][\w.-]*(\s|$)|^:")
_KNOWN_TOP = {"hostname", "ASA", "name", "names", "object", "object-group", "nat", "interface",
              "policy-map", "access-list", "access-group", "route", "service-policy", "class-map",
              "crypto", "aaa", "ssh", "http", "telnet", "logging", "mtu", "icmp", "arp", "timeout",
              "user-identity", "domain-name", "dns", "same-security-traffic", "pager", "enable",
              "passwd", "username", "firewall", "xlate", ":", "!", "end", "snmp-server", "ntp"}


class AsaConfig:
    """One pass over running-config lines; feed() each line, then close()."""

    def __init__(self, cfg: RouterConfig, command: str, names: Names, rules: list[NatRule]):
        self.cfg, self.command, self.names, self.rules = cfg, command, names, rules
        self.recognised = 0
        self.section: list[Line] = []
        self.sip: Line | None = None
        self.saw_policy_map = False

    def feed(self, line: Line) -> None:
        if not line[1].strip():
            return
        if line[1][0] in " \t":
            if self.section:
                self.section.append(line)
            return                          # a child of a section we skip
        self._end_section()
        words = line[1].split()
        if words[0] in _KNOWN_TOP or words[0].startswith(":"):
            self.recognised += 1
        if words[0] in ("object", "object-group", "interface", "policy-map"):
            self.section = [line]
        else:
            self._top(line, words)

    def close(self) -> int:
        self._end_section()
        if self.saw_policy_map:
            self.cfg.sip_alg = FeatureState(
                enabled=self.sip is not None,
                detail="'inspect sip' in a policy-map" if self.sip else
                "no 'inspect sip' in any policy-map (it is on in the default global_policy)",
                source_ref=ref(self.command, self.sip, "inspect sip") if self.sip
                else SourceRef(command=self.command, rule_id="inspect sip"))
        return self.recognised

    def _top(self, line: Line, words: list[str]) -> None:
        if words[0] == "hostname" and len(words) > 1:
            self.cfg.hostname = self.cfg.hostname or words[1]
        elif words[:2] == ["ASA", "Version"] and len(words) > 2:
            self.cfg.version = self.cfg.version or words[2].strip("<>")
        elif words[0] == "name" and len(words) >= 3:
            self.names.objects[words[2]] = words[1]
        elif words[0] == "nat":
            self._twice_nat(line, words)
        elif words[0] == "access-list" and len(words) > 2:
            self.names.acls.access_list(line, words)
        elif words[0] == "access-group":
            self.names.acls.access_group(words)
        elif words[0] not in _KNOWN_TOP and not _COMMAND_WORD.match(line[1]):
            self.cfg.warnings.append(warn(self.command, line, "not ASA configuration syntax"))

    def _end_section(self) -> None:
        section, self.section = self.section, []
        if not section:
            return
        words = section[0][1].split()
        if words[:2] == ["object", "network"] and len(words) > 2:
            self._network_object(words[2], section)
        elif words[:2] == ["object", "service"] and len(words) > 2:
            self._service_object(words[2], section)
        elif words[:2] == ["object-group", "network"] and len(words) > 2:
            self._network_group(words[2], section)
        elif words[:2] == ["object-group", "service"] and len(words) > 2:
            self._service_group(words[2], words[3] if len(words) > 3 else "", section)
        elif words[0] == "interface" and len(words) > 1:
            self._interface(words[1], section)
        elif words[0] == "policy-map":
            self.saw_policy_map = True
            self.sip = self.sip or next((l for l in section if l[1].split()[:2] == ["inspect", "sip"]), None)
        self.recognised += len(section) - 1

    def _network_object(self, name: str, section: list[Line]) -> None:
        nat_lines = [l for l in section[1:] if l[1].split()[:1] == ["nat"]]
        body = [t for n, t in section if (n, t) not in nat_lines]
        if len(body) > 1:
            try:
                row = textfsm_rows("cisco_asa_show_running-config_object_network", "\n".join(body))[0]
                self.names.objects[name] = _object_address(row)
            except (TemplateMismatch, IndexError, ValueError) as exc:
                self.cfg.warnings.append(warn(self.command, section[0], f"object not understood: {exc}"))
        for line in nat_lines:
            self._object_nat(name, line)

    def _object_nat(self, name: str, line: Line) -> None:
        words = line[1].split()
        if len(words) > 2 and words[1] in ("static", "dynamic"):
            words[1:1] = ["(any,any)"]           # no interfaces: the rule applies between any two
        match = re.fullmatch(r"\(([^,]+),([^)]+)\)", words[1]) if len(words) > 3 else None
        if not match or words[2] not in ("static", "dynamic"):
            self.cfg.unparsed.append(Unparsed(self.command, line[0], line[1].strip(), "nat",
                                              "object NAT line not understood: expected "
                                              "'nat [(real,mapped)] static|dynamic MAPPED ...'"))
            return
        rule = NatRule(real_if=match.group(1), mapped_if=match.group(2), static=words[2] == "static",
                       real=name, mapped=words[3], ref=ref(self.command, line, name))
        self._add(rule, words[4:], line)

    def _twice_nat(self, line: Line, words: list[str]) -> None:
        match = re.fullmatch(r"\(([^,]+),([^)]+)\)", words[1]) if len(words) > 1 else None
        rest = words[2:]
        while rest[:1] in (["after-auto"], ["after-object"]) or rest[:1] == ["line"]:
            del rest[:2 if rest[0] == "line" else 1]
        if not match or rest[:1] != ["source"] or len(rest) < 4 or rest[1] not in ("static", "dynamic"):
            self.cfg.unparsed.append(Unparsed(self.command, line[0], line[1].strip(), "nat",
                                              "twice NAT line not understood: expected "
                                              "'nat (real,mapped) source static|dynamic REAL MAPPED ...'"))
            return
        rule = NatRule(real_if=match.group(1), mapped_if=match.group(2), static=rest[1] == "static",
                       real=rest[2], mapped=rest[3],
                       ref=ref(self.command, line, f"nat {rest[2]}->{rest[3]}"))
        self._add(rule, rest[4:], line)

    def _add(self, rule: NatRule, words: list[str], line: Line) -> None:
        if rule.mapped == "pat-pool" and words:
            rule.mapped = f"pat-pool {words.pop(0)}"
        unknown = parse_nat_words(words, rule)
        if unknown:
            self.cfg.unparsed.append(Unparsed(self.command, line[0], line[1].strip(), "nat",
                                              f"unknown NAT words {' '.join(unknown)!r}: the rule may match "
                                              "or translate more than modelled"))
        self.rules.append(rule)

    def _network_group(self, name: str, section: list[Line]) -> None:
        for line in section[1:]:
            try:
                understood = self.names.acls.group_member(name, line[1].split())
            except ValueError:
                understood = False
            if not understood:
                self.cfg.unparsed.append(Unparsed(self.command, line[0], line[1].strip(), "address_list",
                                                  f"object-group network {name}: member line not understood"))

    def _service_group(self, name: str, proto: str, section: list[Line]) -> None:
        for line in section[1:]:
            try:
                understood = self.names.acls.service_member(name, proto, line[1].split())
            except (ValueError, IndexError):
                understood = False
            if not understood:
                self.names.acls.services[name].append(("ip", None))    # count it as every port
                self.cfg.unparsed.append(Unparsed(self.command, line[0], line[1].strip(), "filter",
                                                  f"object-group service {name}: member line not understood, "
                                                  "taken as every port"))

    def _service_object(self, name: str, section: list[Line]) -> None:
        try:
            row = textfsm_rows("cisco_asa_show_running-config_object_service",
                               "\n".join(t for _, t in section))[0]
            op, lo, hi = ((row["src_operator"], row["src_port_start"], row["src_port_end"])
                          if row["src_operator"] else
                          (row["dst_operator"], row["dst_port_start"], row["dst_port_end"]))
            self.names.services[name] = (row["protocol"], op_ports(op, lo, hi))
            dst = op_ports(row["dst_operator"], row["dst_port_start"], row["dst_port_end"] or None)
            self.names.acls.services[name] = [(row["protocol"], dst)]
        except (TemplateMismatch, IndexError, ValueError) as exc:
            self.cfg.warnings.append(warn(self.command, section[0], f"service object not understood: {exc}"))

    def _interface(self, name: str, section: list[Line]) -> None:
        iface = Interface(name=name)
        nameif, level = "", None
        for line in section[1:]:
            words = line[1].split()
            try:
                if words[:2] == ["ip", "address"] and len(words) >= 4:
                    iface.addresses.append(to_cidr(words[2], words[3]))
                elif words[0] == "vlan" and len(words) == 2:
                    iface.vlan_id, iface.parent = int(words[1]), name.split(".")[0]
                elif words[0] == "nameif" and len(words) == 2:
                    nameif = words[1]
                elif words[0] == "security-level" and len(words) == 2:
                    level = int(words[1])
                elif words[0] == "description":
                    iface.description = line[1].strip()[len("description"):].strip()
            except ValueError as exc:
                self.cfg.warnings.append(warn(self.command, line, f"bad value: {exc}"))
        iface.role = "wan" if "outside" in nameif or level == 0 else "lan" if nameif else ""
        iface.description = iface.description or nameif
        self.cfg.interfaces.append(iface)
        if iface.vlan_id is not None:
            self.cfg.vlans.append(Vlan(
                vlan_id=iface.vlan_id, name=nameif, interface=name,
                subnet=network_of(iface.addresses[0]) if iface.addresses else None,
                voice=is_voice_name(f"{nameif} {iface.description}"),
                source_ref=ref(self.command, section, name)))


def _object_address(row: dict) -> str:
    """The address an object stands for: host, subnet as CIDR, range as 'a-b', or the fqdn."""
    if row["host"]:
        return row["host"]
    if row["network"]:
        return network_of(f"{row['network']}/{row['netmask'] or row['prefix_length']}")
    return f"{row['start_ip']}-{row['end_ip']}" if row["start_ip"] else row["fqdn"]
