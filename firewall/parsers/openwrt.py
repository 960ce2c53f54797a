"""OpenWrt: UCI firewall/network/upnpd (export or show form) plus fw4 nftables / fw3 iptables output.

Read from the firewall package: `redirect` sections (DNAT forwards; SNAT redirects and DNAT
redirects without dest_ip, which target the router itself, are not forwards) and zones'
`helper` lists (SIP ALG). From network: `interface` (device/ifname, ipaddr/netmask),
swconfig `switch_vlan`, DSA `bridge-vlan` and 8021q `device` sections. From upnpd: the
`upnpd` section's `enabled`. Skipped as a whole: rule, forwarding, defaults, include, ipset,
nat and every other section type. Unknown options inside a redirect become ParseWarnings.
fw4's nft ruleset (or fw3's iptables-save) is read with the Linux readers; its rules named
`!fw4: <name>` / `!fw3: <name>` are dropped when the UCI firewall config was also given,
because they are the same redirects (UCI keeps the disabled ones too).
"""
from __future__ import annotations

import ipaddress
from typing import Mapping

from firewall.model import FeatureState, Interface, ParseError, PortForward, RouterConfig, SourceRef, Unparsed, Vlan
from firewall.parsers import linux
from firewall.parsers._fields import cidr, first_v4_network, is_voice, norm_proto, read_outputs, try_ports, warn
from firewall.parsers._netfilter import split_sources
from firewall.parsers._uci import UciSection, looks_like_show, parse_export, parse_show

COMMANDS = [
    "uci export firewall",
    "uci export network",
    "uci show upnpd",
    "nft list ruleset",
    "pgrep -a miniupnpd",
]

_REDIRECT_OPTIONS = {
    "name", "src", "dest", "src_dport", "src_ip", "src_dip", "src_mac", "src_port", "dest_ip",
    "dest_port", "proto", "target", "enabled", "family", "reflection", "reflection_src",
    "reflection_zone", "ipset", "mark", "helper", "limit", "limit_burst", "extra", "utc_time",
    "start_date", "stop_date", "start_time", "stop_time", "weekdays", "monthdays", "device",
    "log", "log_limit", "counter", "set_helper", "set_mark", "set_xmark",
}
_FW_PACKAGES = {"redirect": "firewall", "zone": "firewall", "rule": "firewall", "defaults": "firewall",
                "forwarding": "firewall", "interface": "network", "switch_vlan": "network",
                "bridge-vlan": "network", "device": "network", "upnpd": "upnpd"}


_WAN_NETWORKS = {"wan", "wan6"}
_OTHER_PROTOS = {"icmp", "icmpv6", "esp", "ah", "gre", "sctp", "udplite", "igmp"}
_SECTION_TYPES = {"redirect", "zone", "rule", "defaults", "forwarding", "include", "ipset", "nat", "helper",
                  "interface", "switch", "switch_vlan", "switch_port", "bridge-vlan", "device", "globals", "route",
                  "route6", "rule6", "upnpd", "perm_rule", "alias"}
_REDIRECT_HINTS = ("dest_ip", "src_dport", "dest_port")
_INCLUDE_UNREAD = " loads firewall rules that are not in this input: its NAT rules and forwards were not read"
# Outputs of the kernel's own state: whatever an include loaded is in them (fw4 print is not one of them)
_LIVE_RULESETS = ("nft list ruleset", "nft -a list ruleset", "nft -j list ruleset", "iptables-save")


def _unparsed(cfg: RouterConfig, command: str, section: UciSection, line: int, reason: str) -> None:
    cfg.unparsed.append(Unparsed(command, line, "\n".join(section.raw), "nat", reason))


def _is_address(value: str) -> bool:
    try:
        return bool(ipaddress.ip_network(value.split("-")[0], strict=False))
    except ValueError:
        return False


def zone_roles(sections: list[UciSection]) -> dict[str, str]:
    """Zone name -> 'wan' when the zone faces the internet (masq, or it covers network wan/wan6), else 'lan'."""
    roles = {}
    for section in sections:
        if section.type == "zone" and section.get("name"):
            networks = set((section.get("network") or "").split()) | set((section.get("device") or "").split())
            masq = (section.get("masq") or "0").strip() in ("1", "true", "yes", "on")
            roles[section.get("name") or ""] = "wan" if masq or networks & _WAN_NETWORKS else "lan"
    return roles


def _zone_interfaces(sections: list[UciSection], roles: dict[str, str], cfg: RouterConfig) -> None:
    """Each firewall zone as an interface 'zone:<name>' with its role, so exposure can tell inside from out."""
    for section in sections:
        name = section.get("name") or ""
        if section.type == "zone" and name in roles:
            networks = section.get("network") or section.get("device") or "no networks"
            cfg.interfaces.append(Interface(f"zone:{name}", role=roles[name],
                                            description=f"OpenWrt firewall zone {name} ({networks})"))


def _ipset_sources(section: UciSection, ipsets: dict[str, UciSection], command: str,
                   cfg: RouterConfig) -> list[str] | None:
    """A redirect's `option ipset 'name'` (or '!name') as source entries, resolved to its listed entries."""
    value = (section.get("ipset") or "").strip()
    if not value:
        return None
    name, bang = value.lstrip("!"), "!" if value.startswith("!") else ""
    found = ipsets.get(name)
    entries = (found.get("entry") or "").split() if found else []
    matches = (found.get("match") or "src_ip").split() if found else ["src_ip"]
    if not entries or not any(m.startswith("src") for m in matches):
        reason = (f"ipset {name!r} is not defined here" if not found else
                  f"ipset {name!r} has no listed entries (loadfile or matches {' '.join(matches)})")
        cfg.unparsed.append(Unparsed(command, section.line_of("ipset"), "\n".join(section.raw), "address_list",
                                     reason + "; the redirect's allowed sources are unknown"))
        return [f"{bang}ipset:{name}"]
    return [bang + entry for entry in entries]


def _redirect(section: UciSection, command: str, cfg: RouterConfig, roles: dict[str, str] | None = None,
              ipsets: dict[str, UciSection] | None = None) -> None:
    for key, values in section.options.items():
        if key not in _REDIRECT_OPTIONS:
            _unparsed(cfg, command, section, values[0][1], f"unknown redirect option {key!r}")
    for number, line in section.bad:
        _unparsed(cfg, command, section, number, f"line {line.strip()!r} inside the redirect is not a uci option")
    target = (section.get("target") or "DNAT").upper()
    if target not in ("DNAT", "SNAT"):
        _unparsed(cfg, command, section, section.line_of("target"), f"redirect target {target!r} not understood")
    if target == "DNAT" and not section.get("dest_ip") and section.get("dest"):
        _unparsed(cfg, command, section, section.line, f"DNAT redirect to zone {section.get('dest')!r} without "
                  "dest_ip: no inside host to send it to (a line lost?)")
    if target != "DNAT" or not section.get("dest_ip"):
        return
    proto = norm_proto(section.get("proto") or "tcp udp")
    if proto.startswith("other:") and not set(proto[6:].split()) <= _OTHER_PROTOS:
        _unparsed(cfg, command, section, section.line_of("proto"), f"protocol {section.get('proto')!r} not understood")
    if not _is_address((section.get("dest_ip") or "").split()[0]):
        _unparsed(cfg, command, section, section.line_of("dest_ip"), f"dest_ip {section.get('dest_ip')!r} is not an address")
    ports = {key: section.get(key) for key in ("src_dport", "dest_port")}
    parsed = {key: try_ports(",".join(value.split())) if value else None for key, value in ports.items()}
    for key, value in ports.items():
        if value and parsed[key] is None:
            warn(cfg, command, section.line_of(key), f"{key} {value}", "unreadable port; rule kept as all ports")
    restriction = [v for v in (section.get("src_ip") or "").split()] or None
    if section.get("src_mac"):
        restriction = (restriction or []) + [f"mac:{m}" for m in section.get("src_mac", "").split()]
    listed = _ipset_sources(section, ipsets or {}, command, cfg)
    restriction = (restriction or []) + listed if listed else restriction
    zone = section.get("src")
    if zone and roles and zone not in roles:
        cfg.unparsed.append(Unparsed(command, section.line_of("src"), "\n".join(section.raw), "nat",
                                     f"redirect from zone {zone!r}, which this firewall config does not define: "
                                     "whether it faces the internet is unknown"))
    external_ip = section.get("src_dip")
    external_ip = None if external_ip and external_ip.startswith("!") else external_ip   # any address but one
    kind = "dmz" if parsed["src_dport"] is None and proto == "any" else "dnat"
    ref = SourceRef(command, section.line, section.end_line, f"{section.package or 'firewall'}.{section.id}",
                    "\n".join(section.raw))
    cfg.forwards.append(split_sources(PortForward(
        kind=kind, proto=proto, internal_ip=(section.get("dest_ip") or "").split()[0],
        external_ip=external_ip, external_if=f"zone:{zone}" if zone else None,
        external_ports=parsed["src_dport"], internal_ports=parsed["dest_port"],
        enabled=(section.get("enabled") or "1").lower() not in ("0", "false", "no", "off"),
        comment=section.get("name") or "", source_restriction=restriction, source_ref=ref)))


def _include(section: UciSection, command: str, cfg: RouterConfig) -> None:
    """A firewall include (fw3 /etc/firewall.user script, fw4 nftables snippet) loads rules this input lacks."""
    if (section.get("enabled") or "1").strip().lower() in ("0", "false", "no", "off"):
        return
    what = section.get("path") or section.id
    kind = section.get("type") or "script"
    _unparsed(cfg, command, section, section.line, f"include {what!r} (type {kind}){_INCLUDE_UNREAD}")
    if cfg.sip_alg.enabled is None:
        cfg.sip_alg = FeatureState(None, f"include {what!r} was not read: it can attach the sip helper",
                                   SourceRef(command, section.line, section.end_line, f"firewall.{section.id}",
                                             "\n".join(section.raw)))


def _zone_helpers(section: UciSection, command: str, cfg: RouterConfig) -> None:
    helpers = (section.get("helper") or "").split()
    if "sip" in helpers:
        ref = SourceRef(command, section.line, section.end_line, f"firewall.{section.id}", "\n".join(section.raw))
        cfg.sip_alg = FeatureState(True, f"zone {section.get('name')} attaches the sip helper", ref)


def _upnpd(section: UciSection, command: str, cfg: RouterConfig) -> None:
    ref = SourceRef(command, section.line, section.end_line, f"upnpd.{section.id}", "\n".join(section.raw))
    value = section.get("enabled")
    if value is None:
        cfg.upnp = FeatureState(None, "upnpd section has no 'enabled' option", ref)
    else:
        on = value.strip() in ("1", "true", "yes", "on")
        cfg.upnp = FeatureState(on, f"upnpd.{section.id}.enabled='{value}'", ref)


def _l3_interfaces(sections: list[UciSection], cfg: RouterConfig) -> dict[str, Interface]:
    """Logical interfaces keyed by their device name ('eth0.7', 'br-lan.10', ...)."""
    by_device: dict[str, Interface] = {}
    for section in sections:
        if section.type != "interface":
            continue
        device = (section.get("device") or section.get("ifname") or "").split()
        addresses = []
        for value in (section.get("ipaddr") or "").split():
            address = cidr(value, None if "/" in value else section.get("netmask") or "32")
            addresses += [address] if address else []
        parent, _, vid = device[0].rpartition(".") if device else ("", "", "")
        iface = Interface(section.id, addresses, vlan_id=int(vid) if vid.isdigit() and parent else None,
                          parent=parent or None, description=" ".join(device))
        cfg.interfaces.append(iface)
        for name in device:
            by_device[name] = iface
    return by_device


def _network(sections: list[UciSection], command: str, cfg: RouterConfig) -> None:
    by_device = _l3_interfaces(sections, cfg)
    for section in sections:
        ref = SourceRef(command, section.line, section.end_line, f"network.{section.id}", "\n".join(section.raw))
        vid_text = section.get("vid") or section.get("vlan") or ""
        if section.type == "device" and (section.get("type") or "") not in ("8021q", "8021ad"):
            continue
        if section.type not in ("switch_vlan", "bridge-vlan", "device"):
            continue
        if not vid_text.strip().isdigit():
            warn(cfg, command, section.line, section.raw[0], "VLAN section without a numeric vid/vlan")
            continue
        vid = int(vid_text)
        iface = next((i for d, i in by_device.items() if d.rpartition(".")[2] == str(vid) and "." in d), None)
        if section.type == "device":
            iface = by_device.get(section.get("name") or "", iface)
        ports = (section.get("ports") or section.get("ifname") or section.get("device") or "").split()
        name = iface.name if iface else section.id
        cfg.vlans.append(Vlan(vid, name=name, member_ports=ports,
                              subnet=first_v4_network(iface.addresses) if iface else None,
                              voice=is_voice(name, section.id), interface=iface.name if iface else None,
                              source_ref=ref))
    for device, iface in by_device.items():
        if iface.vlan_id is not None and not any(v.vlan_id == iface.vlan_id for v in cfg.vlans):
            cfg.vlans.append(Vlan(iface.vlan_id, name=iface.name, member_ports=[iface.parent or ""],
                                  subnet=first_v4_network(iface.addresses), voice=is_voice(iface.name),
                                  interface=iface.name, source_ref=SourceRef(command, rule_id=f"network.{iface.name}")))


def _uci(command: str, text: str) -> RouterConfig:
    cfg = RouterConfig(platform="openwrt", commands=[command])
    package = command.split()[-1] if command.startswith("uci ") else ""
    sections = parse_show(text, command, cfg) if looks_like_show(text) else parse_export(text, command, cfg, package)
    if not sections:
        raise ParseError(f"{command or 'input'}: no uci 'config <type>' sections found")
    network = [s for s in sections if (s.package or _FW_PACKAGES.get(s.type)) == "network"]
    if network:
        _network(network, command, cfg)
    firewall = [s for s in sections if s not in network]
    roles = zone_roles(firewall)
    _zone_interfaces(firewall, roles, cfg)
    ipsets = {s.get("name") or s.id: s for s in firewall if s.type == "ipset"}
    for section in firewall:
        if section.type == "redirect":
            _redirect(section, command, cfg, roles, ipsets)
        elif section.type == "zone":
            _zone_helpers(section, command, cfg)
        elif section.type == "upnpd":
            _upnpd(section, command, cfg)
        elif section.type == "include":
            _include(section, command, cfg)
        elif section.type not in _SECTION_TYPES and any(k in section.options for k in _REDIRECT_HINTS):
            _unparsed(cfg, command, section, section.line, f"section type {section.type!r} is not known, "
                      "yet it carries redirect options (dest_ip, src_dport): read as nothing")
    return cfg


def _is_uci(command: str, text: str) -> bool:
    if command.startswith("uci ") or command.startswith(("cat /etc/config", "/etc/config")):
        return True
    return not command and (looks_like_show(text) or any(
        line.startswith(("config ", "package ")) for line in text.splitlines()))


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    """Parse OpenWrt outputs (uci export/show, nft list ruleset / fw4 print, iptables-save, pgrep)."""
    cfg = read_outputs("openwrt", outputs, lambda command, text: _uci(command, text) if _is_uci(command, text)
                       else linux.parse({command: text}))
    if any(f.source_ref.rule_id.startswith("firewall.") for f in cfg.forwards):
        cfg.forwards = [f for f in cfg.forwards if not f.comment.startswith(("!fw4: ", "!fw3: "))]
    if any(" ".join(command.split()).startswith(_LIVE_RULESETS) for command in outputs):
        _includes_read_live(cfg)
    return cfg


def _includes_read_live(cfg: RouterConfig) -> None:
    """A UCI include's rules are in the live ruleset that was also read: a note, no longer an unread construct."""
    for item in [u for u in cfg.unparsed if u.reason.endswith(_INCLUDE_UNREAD)]:
        cfg.unparsed.remove(item)
        warn(cfg, item.command, item.line, item.text, item.reason.removesuffix(_INCLUDE_UNREAD) +
             ": its rules were read from the live ruleset")


def sniff(text: str) -> float:
    """Confidence that `text` is OpenWrt UCI config or fw4 output."""
    lines = [line.strip() for line in text.splitlines()[:400]]
    if any(line.startswith(("config redirect", "config zone", "config switch_vlan", "package firewall",
                            "config upnpd")) for line in lines):
        return 0.95
    if looks_like_show(text) and any(line.startswith(("firewall.", "network.", "upnpd.")) for line in lines):
        return 0.95
    if "!fw4:" in text and "table inet fw4" in text:
        return 0.9
    if any(line.startswith("config interface") for line in lines):
        return 0.8
    return 0.0
