"""pfSense parser: config.xml port forwards, 1:1 NAT, VLANs, UPnP, and unsafe/garbled XML."""
from __future__ import annotations

import time

import pytest
from parser_b_helpers import line_text, sample, view

from firewall.model import ParseError
from firewall.parsers import pfsense

NAT = "config_xml_nat_port_forward_pfsensible.txt"
VLANS = "config_xml_interfaces_vlans_pfsensible.txt"


def test_port_forward_sample():
    text = sample("pfsense", NAT)
    cfg = pfsense.parse({"cat /conf/config.xml": text})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "tcp", "wan", "interface:wan", "22022", "10.255.1.20", "22", True, name) for name in ("one", "two", "last")]
    refs = [(f.source_ref.line, f.source_ref.end_line, f.source_ref.rule_id) for f in cfg.forwards]
    assert refs == [(263, 286, "nat/rule[1]"), (287, 310, "nat/rule[2]"), (311, 334, "nat/rule[3]")]
    assert line_text(text, 263).strip() == "<rule>" and "<descr>two</descr>" in cfg.forwards[1].source_ref.text
    assert cfg.forwards[0].internal_port_for(22022) == 22
    assert [(v.vlan_id, v.name, v.subnet, v.interface, v.member_ports) for v in cfg.vlans] == [
        (1100, "lan_100", "172.16.151.0/24", "opt3", ["vmx1"])]
    assert (cfg.hostname, cfg.version) == ("pfSense", "18.9")
    assert cfg.upnp.enabled is False and cfg.sip_alg.enabled is False and cfg.warnings == []


def test_interfaces_and_vlans_sample():
    cfg = pfsense.parse({"": sample("pfsense", VLANS)})
    assert [(v.vlan_id, v.interface, v.subnet, v.member_ports) for v in cfg.vlans] == [
        (100, "vmx0.100", None, ["vmx0"]), (100, "vmx1.100", None, ["vmx1"]),
        (1100, "opt3", "172.16.151.0/24", ["vmx1"]), (1100, "vmx2.1100", None, ["vmx2"]),
        (1200, "opt4", "172.16.152.0/24", ["vmx1"])]
    roles = {i.name: (i.role, i.addresses) for i in cfg.interfaces}
    assert roles["wan"] == ("wan", ["192.168.240.137/24"]) and roles["lan"] == ("lan", ["192.168.1.242/24"])
    assert [view(f)[4:7] for f in cfg.forwards] == [("22022", "10.255.1.20", "22")]


SYNTHETIC = """<?xml version="1.0"?>
<pfsense>
  <version>21.7</version>
  <aliases>
    <alias><name>rtp_ports</name><type>port</type><address>10000:10999</address></alias>
    <alias><name>pbx</name><type>host</type><address>192.168.1.20</address></alias>
  </aliases>
  <nat>
    <rule>
      <source><address>198.51.100.0/24</address></source>
      <destination><network>wanip</network><port>5060</port></destination>
      <protocol>tcp/udp</protocol>
      <target>pbx</target>
      <interface>wan</interface>
      <descr>sip</descr>
    </rule>
    <rule>
      <source><any/></source>
      <destination><address>203.0.113.9</address><port>rtp_ports</port></destination>
      <protocol>udp</protocol>
      <target>192.168.1.20</target>
      <local-port>20000</local-port>
      <interface>wan</interface>
      <disabled/>
    </rule>
    <rule>
      <source><any/></source>
      <destination><any/></destination>
      <target>192.168.1.30</target>
      <interface>wan</interface>
      <gizmo>1</gizmo>
    </rule>
    <rule>
      <nordr/>
      <destination><network>wanip</network><port>25</port></destination>
      <protocol>tcp</protocol>
      <interface>wan</interface>
    </rule>
    <onetoone>
      <external>203.0.113.50</external>
      <source><address>192.168.1.50</address></source>
      <destination><any/></destination>
      <interface>wan</interface>
      <descr>camera</descr>
    </onetoone>
  </nat>
  <installedpackages><miniupnpd><config><enable>on</enable></config></miniupnpd></installedpackages>
</pfsense>
"""


def test_synthetic_rules_aliases_ranges_disabled_nordr_onetoone_upnp():
    cfg = pfsense.parse({"cat /conf/config.xml": SYNTHETIC})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "tcp_udp", "wan", "interface:wan", "5060", "192.168.1.20", None, True, "sip"),
        ("dnat", "udp", "wan", "203.0.113.9", "10000-10999", "192.168.1.20", "20000-20999", False, ""),
        ("dmz", "any", "wan", None, None, "192.168.1.30", None, True, ""),
        ("static_1to1", "any", "wan", "203.0.113.50", None, "192.168.1.50", None, True, "camera"),
    ]
    assert cfg.forwards[0].source_restriction == ["198.51.100.0/24"]
    assert cfg.forwards[1].internal_port_for(10005) == 20005
    assert sorted((w.line, w.message.split()[0]) for w in cfg.warnings) == [(31, "unknown"), (33, "nat/rule[4]")]
    assert cfg.upnp.enabled is True and "enable=on" in cfg.upnp.detail


@pytest.mark.parametrize("text,match", [
    ('<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
     '<pfsense><system><hostname>&d;&d;&d;&d;&d;&d;&d;&d;</hostname></system></pfsense>', "unsafe XML"),
    ('<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<pfsense>&x;</pfsense>',
     "unsafe XML"),
    ("<pfsense><nat><rule><target>10.0.0.1</target>", "invalid XML"),
    ("<html><body>login</body></html>", "not <pfsense>"),
])
def test_bombs_entities_and_garbage_are_refused_fast(text, match):
    start = time.monotonic()
    with pytest.raises(ParseError, match=match):
        pfsense.parse({"cat /conf/config.xml": text})
    assert time.monotonic() - start < 1.0


def test_sniff():
    assert pfsense.sniff(sample("pfsense", NAT)) > 0.9
    assert pfsense.sniff(sample("openwrt", "etc_config_firewall_pklaus.txt")) == 0.0
