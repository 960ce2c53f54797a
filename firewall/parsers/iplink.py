"""iproute2 `ip -j -d addr|link show` (JSON) and `ip addr` / `ip -d link` text -> interfaces and VLANs.

A VLAN is a link whose kind is `vlan` (JSON `linkinfo.info_kind`, text `vlan protocol 802.1Q
id N`) or, in output without `-d`, a `parent.N@parent` name. A veth's `name@peer` is not a VLAN.
Inside an interface block only `inet`/`inet6` and `vlan` detail lines are read; other indented
detail lines (link/ether, valid_lft, bridge/veth attributes, ...) are skipped as irrelevant.
Non-blank lines outside any interface block become ParseWarnings.
"""
from __future__ import annotations

import json
import re
from typing import Any

from firewall.model import Interface, ParseError, RouterConfig, SourceRef, Vlan
from firewall.parsers._fields import cidr, first_v4_network, is_voice, warn
from firewall.parsers._text import numbered_lines

_LINK = re.compile(r"^(\d+):\s+([^:@\s]+)(?:@([^:\s]+))?:\s+<")
_INET = re.compile(r"^\s+inet6?\s+(\S+)(?:\s+peer\s+(\S+))?")
_VLAN = re.compile(r"^\s+vlan\s+protocol\s+\S+\s+id\s+(\d+)")


def _name_vlan(name: str, parent: str | None) -> int | None:
    """VLAN id from iproute2/vconfig naming 'bond1.57' on parent 'bond1'."""
    head, _, tail = name.rpartition(".")
    if parent and head == parent and tail.isdigit() and 0 < int(tail) < 4095:
        return int(tail)
    return None


def _finish(cfg: RouterConfig, iface: Interface, ref: SourceRef) -> None:
    cfg.interfaces.append(iface)
    if iface.vlan_id is not None:
        cfg.vlans.append(Vlan(iface.vlan_id, name=iface.name, subnet=first_v4_network(iface.addresses),
                              voice=is_voice(iface.name, iface.description), interface=iface.name,
                              member_ports=[iface.parent] if iface.parent else [], source_ref=ref))


def parse_json(text: str, command: str = "ip -j -d addr show") -> RouterConfig:
    """Parse `ip -j [-d] addr show` or `ip -j [-d] link show`."""
    cfg = RouterConfig(platform="linux", commands=[command])
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    try:
        links, _ = json.JSONDecoder().raw_decode(text, start) if start >= 0 else (None, 0)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{command}: invalid JSON: {exc}") from None
    except RecursionError:          # the decoder recurses per level: a hostile text is not a 500
        raise ParseError(f"{command}: JSON nested too deeply; not ip -j output") from None
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        raise ParseError(f"{command}: expected a JSON list of links")
    for index, link in enumerate(links):
        _json_link(cfg, link, index, command)
    return cfg


def _json_link(cfg: RouterConfig, link: dict[str, Any], index: int, command: str) -> None:
    name = str(link.get("ifname", ""))
    if not name:
        warn(cfg, command, None, json.dumps(link)[:200], f"$[{index}] has no ifname")
        return
    info = link.get("linkinfo") if isinstance(link.get("linkinfo"), dict) else {}
    data = info.get("info_data") if isinstance(info.get("info_data"), dict) else {}
    parent = link.get("link") if isinstance(link.get("link"), str) else None
    vlan_id = data.get("id") if info.get("info_kind") == "vlan" else _name_vlan(name, parent)
    addresses = [cidr(str(a.get("local")), a.get("prefixlen")) for a in link.get("addr_info") or []
                 if isinstance(a, dict) and a.get("local")]
    iface = Interface(name, [a for a in addresses if a], vlan_id=vlan_id if isinstance(vlan_id, int) else None,
                      parent=parent, description=str(link.get("ifalias", "")))
    _finish(cfg, iface, SourceRef(command, None, None, f"$[{index}] {name}", json.dumps(link)[:500]))


def parse_text(text: str, command: str = "ip addr") -> RouterConfig:
    """Parse `ip addr`, `ip -d link show` or `ip -d addr show` text."""
    cfg = RouterConfig(platform="linux", commands=[command])
    current: tuple[Interface, SourceRef] | None = None
    for number, line in numbered_lines(text):
        head = _LINK.match(line)
        if head:
            if current:
                _finish(cfg, *current)
            name, parent = head.group(2), head.group(3)
            iface = Interface(name, vlan_id=_name_vlan(name, parent), parent=parent)
            current = (iface, SourceRef(command, number, number, name, line.strip()))
        elif current and line[:1].isspace():
            _detail(current, number, line)
        elif line.strip():
            warn(cfg, command, number, line, "line outside an interface block")
    if current:
        _finish(cfg, *current)
    if not cfg.interfaces:
        raise ParseError(f"{command}: no 'N: name: <FLAGS>' interface line found; not ip addr/link output")
    return cfg


def _detail(current: tuple[Interface, SourceRef], number: int, line: str) -> None:
    iface, ref = current
    ref.end_line = number
    inet, vlan = _INET.match(line), _VLAN.match(line)
    if inet:
        address = inet.group(1) if "/" in inet.group(1) or not inet.group(2) else \
            f"{inet.group(1)}/{inet.group(2).partition('/')[2] or 32}"
        iface.addresses.append(cidr(address, None) or address)
    elif vlan:
        iface.vlan_id = int(vlan.group(1))
        ref.text += "\n" + line.strip()
