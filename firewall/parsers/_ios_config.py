"""Cisco IOS running-config reader: static NAT, interface roles and addresses, dot1Q, SIP ALG.

Read: `hostname`, `version`, `interface` sections (`ip address`, `ip nat inside|outside`,
`encapsulation dot1Q`, `description`, `switchport access|voice|mode|trunk`), top-level
`vlan N` / ` name X`, every `ip nat ...` line and `[no] ip nat service sip ...`.
Skipped as whole sections, without warnings: every other top-level command (routing, ACLs,
crypto, lines, AAA, ...) and interface settings that carry no NAT/VLAN meaning (speed, duplex,
ACL bindings, ...). Unparsable `ip nat` lines and lines that are not configuration syntax at
all become warnings. Forum posts often lose indentation, so an unindented interface setting
right after `interface X` still belongs to that interface until `!` or a global command.
"""
from __future__ import annotations

import ipaddress
import re

from firewall.model import (
    FeatureState,
    Interface,
    PortForward,
    PortRange,
    RouterConfig,
    SourceRef,
    SwitchPort,
    Unparsed,
    Vlan,
)
from firewall.parsers._text import Line, is_voice_name, network_of, ref, to_cidr, warn

_CHILD_UNINDENTED = re.compile(
    r"^(ip address|ip nat (inside|outside|enable)\s*$|encapsulation|description|switchport|"
    r"(no )?shutdown|speed|duplex|full-duplex|half-duplex|ip access-group|ip virtual-reassembly|"
    r"ip tcp|ip mtu|mtu|no ip|ip helper-address|pppoe|dialer|load-interval|bandwidth|ipv6 )")
_COMMAND_WORD = re.compile(r"^(no\s+)?[a-z][\w.-]*(\s|$)")
_KNOWN_TOP = {"!", "end", "version", "hostname", "interface", "ip", "ipv6", "router", "access-list",
              "line", "service", "boot", "logging", "aaa", "username", "enable", "crypto",
              "snmp-server", "ntp", "banner", "control-plane", "clock", "no", "vlan", "spanning-tree",
              "class-map", "policy-map", "license", "redundancy", "archive", "dial-peer", "voice",
              "Building", "Current", "vtp", "dot11", "object-group", "track", "event", "alias"}
# a damaged NAT statement: the words of one without the 'ip nat' it needs
_NAT_LIKE = re.compile(r"\b(inside|outside)\s+source\b|\bsource\s+(static|list|route-map)\b|^\S+\s+nat\s+(inside|outside)\b")
_STATIC_OPTS_WITH_ARG = {"route-map", "vrf", "redundancy", "mapping-id"}
_STATIC_OPTS = {"extendable", "no-alias", "no-payload", "reversible", "match-in-vrf", "stateless",
                "add-route", "portmap"}


class IosConfig:
    """One pass over running-config lines; call feed() per line, then close()."""

    def __init__(self, cfg: RouterConfig, command: str):
        self.cfg, self.command = cfg, command
        self.recognised = 0
        self.iface: Interface | None = None
        self.iface_lines: list[Line] = []
        self.port: SwitchPort | None = None
        self.vlan: Vlan | None = None
        self.sip_off: dict[str, Line] = {}
        self.banner_end = ""

    def feed(self, line: Line) -> None:
        text = line[1]
        if self.banner_end:                 # banner text is free prose up to its delimiter
            self.banner_end = "" if self.banner_end in text else self.banner_end
            return
        if not text.strip():
            return
        indented = text[0] in " \t"
        if self.iface and (indented or _CHILD_UNINDENTED.match(text)):
            self._interface_child(line, text.strip())
        elif self.vlan and indented:
            self._vlan_child(line, text.strip())
        elif not indented:
            self._end_section()
            self._top(line, text.strip())
        # else: a child line of a section without NAT/VLAN meaning (router, ACL, crypto, ...)

    def close(self) -> int:
        self._end_section()
        self._decide_sip()
        return self.recognised

    def _top(self, line: Line, text: str) -> None:
        words = text.split()
        if text.startswith("!"):            # comments, also NX-OS style '!Command: show running-config'
            self.recognised += 1
            return
        if words[0] in _KNOWN_TOP:
            self.recognised += 1
        if words[0] == "hostname" and len(words) > 1:
            self.cfg.hostname = self.cfg.hostname or words[1]
        elif words[0] == "version" and len(words) > 1:
            self.cfg.version = self.cfg.version or words[1]
        elif words[0] == "interface" and len(words) > 1:
            self.iface, self.iface_lines = Interface(name=words[1]), [line]
        elif words[0] == "banner" and len(words) > 2:
            delimiter = words[2][:2] if words[2].startswith("^") else words[2][:1]
            self.banner_end = "" if delimiter in text[text.index(words[2]) + len(delimiter):] else delimiter
        elif words[0] == "vlan" and len(words) == 2 and words[1].isdigit():
            self.vlan = Vlan(vlan_id=int(words[1]), source_ref=ref(self.command, line, text))
        elif text.startswith(("ip nat ", "no ip nat ")):
            self._nat_line(line, text)
        elif _NAT_LIKE.search(text):
            self._unparsed(line, "nat", "looks like an 'ip nat inside|outside source ...' statement but is not one")
        elif words[0] not in _KNOWN_TOP and not _COMMAND_WORD.match(text):
            self.cfg.warnings.append(warn(self.command, line, "not IOS configuration syntax"))

    def _end_section(self) -> None:
        if self.vlan:
            self.cfg.vlans.append(self.vlan)
            self.vlan = None
        if self.iface:
            self._finish_interface()
            self.iface = None

    def _vlan_child(self, line: Line, text: str) -> None:
        if text.startswith("name ") and self.vlan:
            self.vlan.name = text[5:].strip()
            self.vlan.voice = is_voice_name(self.vlan.name)
            self.recognised += 1

    def _interface_child(self, line: Line, text: str) -> None:
        assert self.iface is not None
        self.iface_lines.append(line)
        words = text.split()
        try:
            if text.startswith("ip address ") and len(words) >= 4:
                self.iface.addresses.append(to_cidr(words[2], words[3]))
            elif text in ("ip nat inside", "ip nat outside"):
                self.iface.role = "lan" if words[2] == "inside" else "wan"
            elif words[0] == "encapsulation" and len(words) >= 3 and words[1].lower() == "dot1q":
                self.iface.vlan_id = int(words[2])
                self.iface.parent = self.iface.name.split(".")[0]
            elif words[0] == "description":
                self.iface.description = text[len("description"):].strip()
            elif words[0] == "switchport":
                self._switchport(words)
            elif text.startswith("ip nat ") and text != "ip nat enable":
                self._unparsed(line, "interface", "expected 'ip nat inside', 'ip nat outside' or 'ip nat enable'")
                return
            else:
                return                      # an interface setting without NAT/VLAN meaning
            self.recognised += 1
        except ValueError as exc:
            self.cfg.warnings.append(warn(self.command, line, f"bad value: {exc}"))

    def _switchport(self, words: list[str]) -> None:
        assert self.iface is not None
        port = self.port = self.port if self.port and self.port.name == self.iface.name \
            else SwitchPort(name=self.iface.name, source_ref=ref(self.command, self.iface_lines[0]))
        if words[1:3] == ["access", "vlan"] and len(words) > 3:
            port.access_vlan = int(words[3])
        elif words[1:3] == ["voice", "vlan"] and len(words) > 3 and words[3].isdigit():
            port.voice_vlan = int(words[3])
        elif words[1:2] == ["mode"] and len(words) > 2:
            port.mode = words[2]
        elif words[1:4] == ["trunk", "allowed", "vlan"] and len(words) > 4:
            port.trunk_vlans = " ".join(words[4:])

    def _finish_interface(self) -> None:
        iface = self.iface
        assert iface is not None
        self.cfg.interfaces.append(iface)
        if self.port and self.port.name == iface.name:
            self.port.source_ref = ref(self.command, self.iface_lines, iface.name)
            self.cfg.switchports.append(self.port)
            self.port = None
        svi = re.fullmatch(r"[Vv]lan(\d+)", iface.name)
        vlan_id = iface.vlan_id if iface.vlan_id is not None else int(svi.group(1)) if svi else None
        if vlan_id is None:
            return
        subnet = network_of(iface.addresses[0]) if iface.addresses else None
        self.cfg.vlans.append(Vlan(vlan_id=vlan_id, name=iface.description, subnet=subnet,
                                   interface=iface.name, voice=is_voice_name(iface.description),
                                   source_ref=ref(self.command, self.iface_lines, iface.name)))

    def _nat_line(self, line: Line, text: str) -> None:
        words = text.split()
        if words[:5] == ["no", "ip", "nat", "service", "sip"] and len(words) >= 6:
            self.sip_off[words[5]] = line
        elif words[:5] == ["ip", "nat", "inside", "source", "static"]:
            try:
                self._static(line, words[5:])
            except (ValueError, IndexError) as exc:
                self._unparsed(line, "nat", f"static NAT not understood ({exc or 'too few words'}); expected "
                               "'ip nat inside source static [tcp|udp] LOCAL [PORT] GLOBAL|interface IF [PORT]'")
        elif not _known_nat(words):
            self._unparsed(line, "nat", "not an ip nat statement this parser knows")

    def _static(self, line: Line, words: list[str]) -> None:
        proto = words.pop(0) if words[0] in ("tcp", "udp") else None
        network = words[0] == "network"
        if network:
            words.pop(0)
        local = str(ipaddress.ip_address(words.pop(0)))
        local_port = int(words.pop(0)) if proto else None
        iface = None
        if words[0] == "interface":
            iface = words[1]
            del words[:2]
            external: str | None = f"interface:{iface}"
        else:
            external = str(ipaddress.ip_address(words.pop(0)))
        if network:
            mask = words.pop(0).lstrip("/")
            local, external = network_of(f"{local}/{mask}"), network_of(f"{external}/{mask}")
        global_port = int(words.pop(0)) if proto else None
        self._static_options(line, words)
        rule_id = f"{proto or 'ip'} {local}" + (f":{local_port}" if local_port is not None else "")
        self.cfg.forwards.append(PortForward(
            kind="static_pat" if proto else "static_1to1", proto=proto or "any",
            internal_ip=local, external_ip=external, external_if=iface,
            external_ports=[PortRange(global_port, global_port)] if global_port is not None else None,
            internal_ports=[PortRange(local_port, local_port)] if local_port is not None else None,
            source_ref=ref(self.command, line, rule_id)))
        self.recognised += 1

    def _static_options(self, line: Line, words: list[str]) -> None:
        while words:
            word = words.pop(0)
            if word in _STATIC_OPTS_WITH_ARG and words:
                words.pop(0)
            elif word not in _STATIC_OPTS:
                self._unparsed(line, "nat", f"unknown static NAT option {word!r}")

    def _unparsed(self, line: Line, construct: str, reason: str) -> None:
        """A NAT construct not fully understood: an Unparsed item (the checks it touches say error)."""
        self.cfg.unparsed.append(Unparsed(self.command, line[0], line[1].strip(), construct, reason))

    def _decide_sip(self) -> None:
        if self.sip_off:
            still_on = sorted({"udp", "tcp"} - set(self.sip_off))
            first = min(self.sip_off.values())
            detail = ("SIP ALG disabled for " + " and ".join(sorted(self.sip_off)) +
                      (f"; still on for {still_on[0]} (platform default)" if still_on else ""))
            self.cfg.sip_alg = FeatureState(enabled=bool(still_on), detail=detail,
                                            source_ref=ref(self.command, first, "ip nat service sip"))
        elif self.recognised and self.cfg.sip_alg.enabled is None:
            self.cfg.sip_alg = FeatureState(
                enabled=True, detail="no 'no ip nat service sip' line: IOS enables the SIP ALG by "
                "default (platform default)",
                source_ref=SourceRef(command=self.command, rule_id="ip nat service sip"))


def _known_nat(words: list[str]) -> bool:
    """ip nat lines that are valid but are not inbound forwards (PAT, pools, outside NAT, timers)."""
    head = " ".join(words)
    return (head.startswith(("ip nat inside source list", "ip nat inside source route-map",
                             "ip nat outside source", "ip nat pool", "ip nat translation",
                             "ip nat log", "ip nat settings", "ip nat service", "ip nat create",
                             "no ip nat service", "no ip nat create", "ip nat name")))
