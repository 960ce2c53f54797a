"""pfSense / OPNsense config.xml (`cat /conf/config.xml`) -> forwards, 1:1 NAT, VLANs, UPnP.

Read: `<nat><rule>` port forwards (interface, protocol tcp/udp/tcp/udp, absent = any,
source restriction unless <any/>, destination network/address and port or port range or
port alias, target, local-port = start of the internal range, descr, <disabled/>; <nordr/>
rules redirect nothing and are reported as a warning), `<nat><onetoone>` (1:1 NAT of all
ports), `<interfaces>` + `<vlans>` (subnets per VLAN), `<aliases>` of type port/host, and a
miniupnpd section anywhere (UPnP), `<nat><npt>` (IPv6 prefix translation, 1:1) and IPv6 pass rules on
WAN to inside hosts (`ipv6_pinhole`). Sources resolve through host/network aliases (nested, FQDNs kept
as such) and interface nets (`lan`, `lanip`); `<not/>` makes them exclusions. pf has no SIP ALG. Skipped as a whole: outbound NAT,
filter rules, system, services and every other section. The XML is read with defusedxml:
DTDs and entities (XML bombs) are refused with a ParseError.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Mapping

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from firewall.model import (
    FeatureState,
    Interface,
    ParseError,
    PortForward,
    PortRange,
    RouterConfig,
    SourceRef,
    Unparsed,
    Vlan,
)
from firewall.parsers._addrbook import AddressBook, is_address, named, negation, resolve_forwards
from firewall.parsers._fields import (
    cidr,
    first_v4_network,
    is_voice,
    network_of,
    norm_proto,
    read_outputs,
    try_ports,
    warn,
)

COMMANDS = ["cat /conf/config.xml"]
_RULE_KEYS = {"source", "destination", "protocol", "target", "local-port", "interface", "descr", "disabled",
              "nordr", "associated-rule-id", "updated", "created", "ipprotocol", "natreflection", "nosync",
              "poolopts", "source_hash_key", "tracker"}


class _LineBuilder(ET.TreeBuilder):
    """TreeBuilder that remembers each element's first and last line."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DET.XMLParser | None = None
        self.lines: dict[ET.Element, list[int]] = {}

    def _line(self) -> int:
        return self.parser.parser.CurrentLineNumber if self.parser else 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        self.lines[element] = [self._line(), self._line()]
        return element

    def end(self, tag: str) -> ET.Element:
        element = super().end(tag)
        self.lines[element][1] = self._line()
        return element


def _load(text: str, command: str) -> tuple[ET.Element, dict[ET.Element, list[int]]]:
    builder = _LineBuilder()
    parser = DET.XMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except DefusedXmlException as exc:
        raise ParseError(f"{command}: refused unsafe XML ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ParseError(f"{command}: invalid XML: {exc}") from None
    if root.tag not in ("pfsense", "opnsense"):
        raise ParseError(f"{command}: root element <{root.tag}> is not <pfsense> or <opnsense>")
    return root, builder.lines


class _Doc:
    """The parsed config plus what every mapping needs: lines, raw text, aliases, the address book."""

    def __init__(self, text: str, command: str):
        self.root, self.lines = _load(text, command)
        self.raw = text.split("\n")
        self.command = command
        self.aliases = {(a.findtext("name") or "").strip(): (a.findtext("address") or "").split()
                        for a in self.root.iterfind("aliases/alias")}
        self.book = _book(self.root, self.aliases)

    def ref(self, element: ET.Element, rule_id: str) -> SourceRef:
        start, end = self.lines.get(element, [None, None])
        text = "\n".join(self.raw[start - 1:end]) if start and end else ""
        return SourceRef(self.command, start, end, rule_id, text)

    def ports(self, value: str) -> list[PortRange] | None:
        value = value.strip()
        return try_ports(",".join(self.aliases.get(value, [value])).replace(":", "-"))

    def sources(self, side: ET.Element | None) -> tuple[list[str] | None, list[str] | None]:
        """(restriction, exclusions) of a rule's <source>: an alias or interface net as list:<name>."""
        value = _side(side)
        if value is None:
            return None, None
        negated, value = negation(value)
        value = value if is_address(value) else named(value.removeprefix("interface:") + (
            "ip" if value.startswith("interface:") else ""))
        return (None, [value]) if negated else ([value], None)


def _book(root: ET.Element, aliases: dict[str, list[str]]) -> AddressBook:
    """Host and network aliases (members may be other aliases or FQDNs) and each interface's net / address."""
    book = AddressBook(any_names=frozenset({"any"}))
    for alias in root.iterfind("aliases/alias"):
        name = (alias.findtext("name") or "").strip()
        if (alias.findtext("type") or "").strip() in ("host", "network"):
            book.add(name, [m if is_address(m) or m in aliases else f"fqdn:{m}" for m in aliases.get(name, [])])
    for element in root.iterfind("interfaces/*"):
        address = cidr(element.findtext("ipaddr") or "", element.findtext("subnet") or "32")
        if address:
            book.add(element.tag, [network_of(address)])
            book.add(f"{element.tag}ip", [address.split("/")[0]])
    return book


def _side(side: ET.Element | None) -> str | None:
    """A <source>/<destination> as one address text, None for <any/>."""
    if side is None or side.find("any") is not None:
        return None
    network, address = (side.findtext("network") or "").strip(), (side.findtext("address") or "").strip()
    value = f"interface:{network[:-2]}" if network.endswith("ip") and network != "ip" else network or address
    return ("!" if side.find("not") is not None else "") + value if value else None


def _local_ports(doc: _Doc, rule: ET.Element, external: list[PortRange] | None) -> list[PortRange] | None:
    local = (rule.findtext("local-port") or "").strip()
    if not local:
        return None
    start = doc.ports(local)
    if not start:
        return None
    span = sum(r.size for r in external) if external else 1
    return [PortRange(start[0].lo, min(65535, start[0].lo + span - 1))]


def _nat_rule(doc: _Doc, rule: ET.Element, index: int, cfg: RouterConfig) -> None:
    rule_id = f"nat/rule[{index}]"
    ref = doc.ref(rule, rule_id)
    for child in rule:
        if child.tag not in _RULE_KEYS:
            warn(cfg, doc.command, doc.lines.get(child, [None])[0], f"<{child.tag}>", f"unknown element in {rule_id}")
    if rule.find("nordr") is not None:
        warn(cfg, doc.command, ref.line, ref.text.split("\n")[0],
             f"{rule_id} is a no-redirect (nordr) rule, not a forward")
        return
    destination = rule.find("destination")
    port_text = (destination.findtext("port") or "").strip() if destination is not None else ""
    external = doc.ports(port_text) if port_text else None
    if port_text and external is None:
        warn(cfg, doc.command, ref.line, port_text, f"unreadable destination port in {rule_id}; kept as all ports")
    sources, excluded = doc.sources(rule.find("source"))
    proto = norm_proto(rule.findtext("protocol") or "any")
    target = (rule.findtext("target") or "").strip()
    target = (doc.aliases.get(target) or [target])[0]
    if not target or not is_address(target):
        cfg.unparsed.append(Unparsed(doc.command, ref.line, ref.text.split("\n")[0], "nat",
                                     f"{rule_id}: redirect target {target or '(none)'!r} is not an address or "
                                     "host alias: where it forwards is unknown"))
    cfg.forwards.append(PortForward(
        kind="dmz" if external is None and proto == "any" else "dnat", proto=proto, internal_ip=target or None,
        external_ip=_side(destination), external_if=(rule.findtext("interface") or "").strip() or None,
        external_ports=external, internal_ports=_local_ports(doc, rule, external),
        enabled=rule.find("disabled") is None, comment=(rule.findtext("descr") or "").strip(),
        source_restriction=sources, source_exclusions=excluded, source_ref=ref))


def _one_to_one(doc: _Doc, rule: ET.Element, index: int, cfg: RouterConfig) -> None:
    internal = _side(rule.find("source")) or (rule.findtext("internal") or "").strip()
    sources, excluded = doc.sources(rule.find("destination"))
    cfg.forwards.append(PortForward(
        kind="static_1to1", proto="any", internal_ip=internal.split("/")[0] or None,
        external_ip=(rule.findtext("external") or "").strip() or None,
        external_if=(rule.findtext("interface") or "").strip() or None, enabled=rule.find("disabled") is None,
        comment=(rule.findtext("descr") or "").strip(), source_restriction=sources, source_exclusions=excluded,
        source_ref=doc.ref(rule, f"nat/onetoone[{index}]")))


def _npt(doc: _Doc, rule: ET.Element, index: int, cfg: RouterConfig) -> None:
    """IPv6 network prefix translation: the external prefix maps 1:1 onto the inside one (every port)."""
    inside, outside = _side(rule.find("source")), _side(rule.find("destination"))
    ref = doc.ref(rule, f"nat/npt[{index}]")
    if not inside or not outside or not is_address(inside) or not is_address(outside):
        cfg.unparsed.append(Unparsed(doc.command, ref.line, ref.text.split("\n")[0], "nat",
                                     f"NPt rule {index}: expected inside and outside IPv6 prefixes"))
        return
    cfg.forwards.append(PortForward(
        kind="static_1to1", proto="any", internal_ip=inside, external_ip=outside,
        external_if=(rule.findtext("interface") or "").strip() or None, enabled=rule.find("disabled") is None,
        comment=(rule.findtext("descr") or "").strip(), source_ref=ref))


def _pinhole(doc: _Doc, rule: ET.Element, index: int, cfg: RouterConfig) -> None:
    """A WAN pass rule for IPv6 to an inside address (no NAT): an IPv6 pinhole. Other filter rules are
    not forwards; a WAN IPv6 pass whose destination cannot be read becomes Unparsed."""
    family = (rule.findtext("ipprotocol") or "inet").strip()
    interfaces = (rule.findtext("interface") or "").split(",")
    if family not in ("inet6", "inet46") or "wan" not in interfaces or (rule.findtext("type") or "pass") != "pass":
        return
    ref = doc.ref(rule, f"filter/rule[{index}]")
    destination = _side(rule.find("destination"))
    if destination and destination.startswith("interface:"):
        return                                  # the firewall's own address: a service on the router
    found = doc.book.resolve([destination]) if destination and not is_address(destination) else None
    if destination is None or destination.startswith("!") or (found and (found.missing or found.any)):
        cfg.unparsed.append(Unparsed(doc.command, ref.line, ref.text.split("\n")[0], "filter",
                                     f"IPv6 WAN pass rule {index}: destination {destination or 'any'!r} is not one "
                                     "inside host or prefix, so what it opens is not modelled"))
        return
    port_text = (rule.find("destination").findtext("port") or "").strip()
    sources, excluded = doc.sources(rule.find("source"))
    for target in (found.members if found else [destination]):
        if ":" not in target:
            continue
        cfg.forwards.append(PortForward(
            kind="ipv6_pinhole", proto=norm_proto(rule.findtext("protocol") or "any"), internal_ip=target,
            external_if="wan", external_ports=doc.ports(port_text) if port_text else None,
            enabled=rule.find("disabled") is None, comment=(rule.findtext("descr") or "").strip(),
            source_restriction=sources, source_exclusions=excluded, source_ref=ref))


def _interfaces(doc: _Doc, cfg: RouterConfig) -> None:
    by_if: dict[str, Interface] = {}
    for element in doc.root.iterfind("interfaces/*"):
        device = (element.findtext("if") or "").strip()
        address = cidr(element.findtext("ipaddr") or "", element.findtext("subnet") or "32")
        parent, _, tag = device.rpartition(".")
        role = element.tag if element.tag in ("wan", "lan") else ""
        iface = Interface(element.tag, [address] if address else [], role=role,
                          vlan_id=int(tag) if parent and tag.isdigit() else None, parent=parent or None,
                          description=(element.findtext("descr") or "").strip())
        cfg.interfaces.append(iface)
        by_if[device] = iface
    for index, vlan in enumerate(doc.root.iterfind("vlans/vlan"), 1):
        tag, device = (vlan.findtext("tag") or "").strip(), (vlan.findtext("vlanif") or "").strip()
        if not tag.isdigit():
            warn(cfg, doc.command, doc.lines.get(vlan, [None])[0], f"<tag>{tag}</tag>", "VLAN without a numeric tag")
            continue
        iface = by_if.get(device)
        descr = (vlan.findtext("descr") or "").strip()
        name = descr or (iface.description if iface else "") or device
        cfg.vlans.append(Vlan(int(tag), name=name, member_ports=[(vlan.findtext("if") or "").strip()],
                              subnet=first_v4_network(iface.addresses) if iface else None,
                              voice=is_voice(name, descr), interface=iface.name if iface else device,
                              source_ref=doc.ref(vlan, f"vlans/vlan[{index}]")))
    for device, iface in by_if.items():
        if iface.vlan_id is not None and not any(v.interface == iface.name for v in cfg.vlans):
            # assigned as `<if>vmx1.1200</if>` without a <vlans> entry: still that VLAN's subnet
            cfg.vlans.append(Vlan(iface.vlan_id, name=iface.description or device, member_ports=[iface.parent or ""],
                                  subnet=first_v4_network(iface.addresses), voice=is_voice(iface.description),
                                  interface=iface.name,
                                  source_ref=SourceRef(doc.command, rule_id=f"interfaces/{iface.name}")))


def _features(doc: _Doc, cfg: RouterConfig) -> None:
    upnp = next(doc.root.iter("miniupnpd"), None)
    if upnp is None:
        cfg.upnp = FeatureState(False, "no miniupnpd (UPnP) configuration")
    else:
        enable = (upnp.findtext(".//enable") or "").strip().lower()
        cfg.upnp = FeatureState(enable in ("on", "1", "yes"), f"miniupnpd enable={enable or 'absent'}",
                                doc.ref(upnp, "miniupnpd"))
    siproxd = next(doc.root.iter("siproxd"), None)
    note = " (a siproxd package section exists)" if siproxd is not None else ""
    cfg.sip_alg = FeatureState(False, "pf has no SIP ALG" + note)


def parse_xml(text: str, command: str = "cat /conf/config.xml") -> RouterConfig:
    cfg = RouterConfig(platform="pfsense", commands=[command])
    doc = _Doc(text, command)
    for index, rule in enumerate(doc.root.iterfind("nat/rule"), 1):
        _nat_rule(doc, rule, index, cfg)
    for index, rule in enumerate(doc.root.iterfind("nat/onetoone"), 1):
        _one_to_one(doc, rule, index, cfg)
    for index, rule in enumerate(doc.root.iterfind("nat/npt"), 1):
        _npt(doc, rule, index, cfg)
    for index, rule in enumerate(doc.root.iterfind("filter/rule"), 1):
        _pinhole(doc, rule, index, cfg)
    resolve_forwards(cfg, doc.book, where="<aliases> (host/network) or <interfaces>")
    _interfaces(doc, cfg)
    _features(doc, cfg)
    cfg.hostname = (doc.root.findtext("system/hostname") or "").strip()
    cfg.version = (doc.root.findtext("version") or "").strip()
    return cfg


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    """Parse config.xml output(s); a shell error becomes a warning."""
    return read_outputs("pfsense", outputs, lambda command, text: parse_xml(text, command or "config.xml"))


def sniff(text: str) -> float:
    """Confidence that `text` is a pfSense/OPNsense config.xml."""
    head = text.lstrip()[:2000]
    if "<pfsense>" in head or "<opnsense>" in head:
        return 0.98
    return 0.3 if head.startswith("<?xml") and "<nat>" in text else 0.0
