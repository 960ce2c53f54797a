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

from typing import Mapping

from firewall.model import FeatureState, Interface, ParseError, PortForward, RouterConfig, SourceRef, Vlan
from firewall.parsers import linux
from firewall.parsers._fields import cidr, first_v4_network, is_voice, norm_proto, read_outputs, try_ports, warn
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


def _redirect(section: UciSection, command: str, cfg: RouterConfig) -> None:
    for key, values in section.options.items():
        if key not in _REDIRECT_OPTIONS:
            warn(cfg, command, values[0][1], f"{key} {values[0][0]}", "unknown redirect option")
    if (section.get("target") or "DNAT").upper() != "DNAT" or not section.get("dest_ip"):
        return
    proto = norm_proto(section.get("proto") or "tcp udp")
    ports = {key: section.get(key) for key in ("src_dport", "dest_port")}
    parsed = {key: try_ports(",".join(value.split())) if value else None for key, value in ports.items()}
    for key, value in ports.items():
        if value and parsed[key] is None:
            warn(cfg, command, section.line_of(key), f"{key} {value}", "unreadable port; rule kept as all ports")
    restriction = [v for v in (section.get("src_ip") or "").split()] or None
    if section.get("src_mac"):
        restriction = (restriction or []) + [f"mac:{m}" for m in section.get("src_mac", "").split()]
    kind = "dmz" if parsed["src_dport"] is None and proto == "any" else "dnat"
    ref = SourceRef(command, section.line, section.end_line, f"{section.package or 'firewall'}.{section.id}",
                    "\n".join(section.raw))
    cfg.forwards.append(PortForward(
        kind=kind, proto=proto, internal_ip=(section.get("dest_ip") or "").split()[0],
        external_ip=section.get("src_dip"), external_if=section.get("src"),
        external_ports=parsed["src_dport"], internal_ports=parsed["dest_port"],
        enabled=(section.get("enabled") or "1").lower() not in ("0", "false", "no", "off"),
        comment=section.get("name") or "", source_restriction=restriction, source_ref=ref))


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
    handlers = {"redirect": _redirect, "zone": _zone_helpers, "upnpd": _upnpd}
    for section in sections:
        if section.type in handlers and section not in network:
            handlers[section.type](section, command, cfg)
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
    return cfg


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
