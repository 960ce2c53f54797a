"""Address lists, address books, groups and aliases resolved to their members, per vendor platform.

Each input is written by hand from the platform's documented syntax; the expected members are read
off the input before running. A named list with no definition in the input stays `list:<name>` and
becomes an Unparsed item (construct address_list), so the analysis never passes on it.
"""
from __future__ import annotations

import re

from firewall.model import PortForward, RouterConfig, SourceRef
from firewall.parsers import cisco_asa, edgeos, fortinet, juniper, mikrotik, pfsense, vyos
from firewall.parsers._addrbook import AddressBook, resolve_forwards
from hardening.engine.analyze import analyze

CARRIERS = ["198.51.100.0/24", "203.0.113.64/27"]

ROUTEROS = """\
# 2024-05-01 10:00:00 by RouterOS 7.14
/ip firewall address-list
add address=198.51.100.0/24 list=sip-carriers
add address=203.0.113.64/27 list=sip-carriers
add address=192.0.2.99 disabled=yes list=sip-carriers
add address=sip.example.net list=dns-peers
/ip firewall nat
add action=dst-nat chain=dstnat dst-port=5060 in-interface-list=WAN protocol=udp \\
    src-address-list=sip-carriers to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-port=10000-20000 in-interface-list=WAN protocol=udp \\
    src-address-list=!sip-carriers to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-port=5061 protocol=tcp src-address=!192.0.2.1 to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-port=5080 protocol=udp src-address-list=dns-peers to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-port=5090 protocol=udp src-address-list=nowhere to-addresses=192.168.88.10
add action=dst-nat chain=pbx-in to-addresses=192.168.88.11
"""


def _sip_verdict(cfg: RouterConfig, allowed: list[str]) -> tuple[str, str]:
    found = analyze(cfg, server_lan_ip="192.168.88.10", allowed_sip_sources=allowed)["findings"]
    sip = next(f for f in found if f["check_id"] == "NET-SIP-001")
    return sip["status"], sip["message"]


def test_routeros_lists_negations_and_unknown_names():
    cfg = mikrotik.parse({"/export": ROUTEROS})
    got = [(f.external_ports[0].lo, f.source_restriction, f.source_exclusions) for f in cfg.forwards]
    assert got == [
        (5060, CARRIERS, None),                         # the disabled 192.0.2.99 entry matches nothing
        (10000, None, CARRIERS),                        # any source but the carriers
        (5061, None, ["192.0.2.1"]),
        (5080, ["fqdn:sip.example.net"], None),         # a DNS name is a member, not an address
        (5090, ["list:nowhere"], None),                 # kept unresolved
    ]
    unparsed = sorted(cfg.unparsed, key=lambda u: u.line)
    assert [(u.line, u.construct) for u in unparsed] == [(14, "address_list"), (15, "nat")]
    assert "'nowhere'" in unparsed[0].reason
    assert "chain 'pbx-in'" in unparsed[1].reason      # a jump target: its conditions are not followed


def test_routeros_list_from_another_output_is_resolved():
    lists = ("Flags: X - disabled, D - dynamic\n"
             " 0   list=sip-carriers address=198.51.100.0/24 creation-time=2024-05-01 10:00:00\n"
             " 1 X list=sip-carriers address=192.0.2.99\n")
    nat = "/ip firewall nat\nadd action=dst-nat chain=dstnat dst-port=5060 protocol=udp " \
          "src-address-list=sip-carriers to-addresses=192.168.88.10\n"
    cfg = mikrotik.parse({"/ip firewall nat export": nat, "/ip firewall address-list print detail": lists})
    assert cfg.forwards[0].source_restriction == ["198.51.100.0/24"] and cfg.unparsed == []


def test_routeros_carrier_list_end_to_end_through_net_sip_001():
    nat_only = "\n".join(ROUTEROS.splitlines()[:9]) + "\n"        # the list and the first forward
    cfg = mikrotik.parse({"/export": nat_only})
    assert _sip_verdict(cfg, CARRIERS)[0] == "pass"
    status, message = _sip_verdict(cfg, ["198.51.100.0/24"])
    assert status == "fail" and "203.0.113.64/27" in message
    without_list = mikrotik.parse({"/ip firewall nat export": "\n".join(ROUTEROS.splitlines()[6:9]) + "\n"})
    assert without_list.unparsed and _sip_verdict(without_list, CARRIERS)[0] != "pass"


def test_routeros_ipv6_filter_accept_is_a_pinhole():
    text = ("/ipv6 firewall filter\n"
            "add action=accept chain=forward connection-state=established,related\n"
            "add action=accept chain=forward dst-address=2001:db8:1::10/128 dst-port=5060 in-interface-list=WAN "
            "protocol=udp src-address-list=v6-carriers\n"
            "/ipv6 firewall address-list\nadd address=2001:db8:ffff::/48 list=v6-carriers\n")
    cfg = mikrotik.parse({"/ipv6 firewall filter export": text})
    assert [(f.kind, f.proto, f.internal_ip, f.external_if, f.source_restriction) for f in cfg.forwards] == [
        ("ipv6_pinhole", "udp", "2001:db8:1::10", "WAN", ["2001:db8:ffff::/48"])]


JUNOS = """\
set security address-book global address CARRIER-A 198.51.100.0/24
set security address-book global address CARRIER-B range-address 203.0.113.64 to 203.0.113.95
set security address-book global address CARRIER-A description "first carrier"
set security address-book global address-set CARRIERS address CARRIER-A
set security address-book global address-set CARRIERS address CARRIER-B
set security address-book global address-set ALL-PEERS address-set CARRIERS
set security zones security-zone untrust address-book address PBX-PUB 203.0.113.10/32
set security nat destination pool PBX address 192.168.20.10/32
set security nat destination rule-set IN from zone untrust
set security nat destination rule-set IN rule SIP match source-address-name ALL-PEERS
set security nat destination rule-set IN rule SIP match destination-address-name PBX-PUB
set security nat destination rule-set IN rule SIP match destination-port 5060
set security nat destination rule-set IN rule SIP then destination-nat pool PBX
set security nat destination rule-set IN rule ANY match source-address-name any
set security nat destination rule-set IN rule ANY match destination-address 203.0.113.11/32
set security nat destination rule-set IN rule ANY then destination-nat pool PBX
set security nat destination rule-set IN rule GHOST match source-address-name NOT-THERE
set security nat destination rule-set IN rule GHOST match destination-address 203.0.113.12/32
set security nat destination rule-set IN rule GHOST then destination-nat pool PBX
"""


def test_junos_address_books_sets_zones_and_any():
    cfg = juniper.parse({"show configuration | display set": JUNOS})
    got = {f.source_ref.rule_id: (f.external_ip, f.source_restriction) for f in cfg.forwards}
    assert got == {"IN/SIP": ("203.0.113.10", ["198.51.100.0/24", "203.0.113.64-203.0.113.95"]),
                   "IN/ANY": ("203.0.113.11", None),
                   "IN/GHOST": ("203.0.113.12", ["list:NOT-THERE"])}
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(17, "address_list")]


FORTI = """\
config firewall address
    edit "all"
        set subnet 0.0.0.0 0.0.0.0
    next
    edit "carrier-a"
        set subnet 198.51.100.0 255.255.255.0
    next
    edit "carrier-b"
        set type iprange
        set start-ip 203.0.113.64
        set end-ip 203.0.113.95
    next
end
config firewall addrgrp
    edit "carriers"
        set member "carrier-a" "carrier-b"
    next
end
config firewall vip
    edit "pbx-sip"
        set extip 203.0.113.5
        set extintf "wan1"
        set portforward enable
        set protocol udp
        set mappedip "10.40.0.10"
        set extport 5060
        set mappedport 5060
    next
    edit "pbx-web"
        set extip 203.0.113.5
        set extintf "wan1"
        set portforward enable
        set mappedip "10.40.0.10"
        set extport 8443
        set mappedport 443
    next
    edit "pbx-rtp"
        set extip 203.0.113.5
        set extintf "wan1"
        set portforward enable
        set protocol udp
        set mappedip "10.40.0.10"
        set extport 10000-20000
    next
end
config firewall vip6
    edit "pbx6"
        set extip 2001:db8::5
        set mappedip 2001:db8:1::10
    next
end
config firewall policy
    edit 1
        set srcintf "wan1"
        set dstintf "internal"
        set srcaddr "carriers"
        set dstaddr "pbx-sip"
        set action accept
    next
    edit 2
        set srcaddr "all"
        set dstaddr "pbx-web"
        set action accept
    next
    edit 3
        set srcaddr "carrier-a"
        set srcaddr-negate enable
        set dstaddr "pbx-rtp"
        set action accept
    next
    edit 4
        set srcaddr "partner-net"
        set dstaddr6 "pbx6"
        set action accept
    next
end
"""


def test_fortigate_addrgrp_all_negate_and_vip6():
    cfg = fortinet.parse({"show": FORTI})
    got = {f.source_ref.rule_id: (f.internal_ip, f.source_restriction, f.source_exclusions) for f in cfg.forwards}
    assert got == {"pbx-sip": ("10.40.0.10", ["198.51.100.0/24", "203.0.113.64-203.0.113.95"], None),
                   "pbx-web": ("10.40.0.10", None, None),
                   "pbx-rtp": ("10.40.0.10", None, ["198.51.100.0/24"]),
                   "pbx6": ("2001:db8:1::10", ["list:partner-net"], None)}
    assert [(u.construct, "'partner-net'" in u.reason) for u in cfg.unparsed] == [("address_list", True)]
    assert cfg.forwards[3].external_ip == "2001:db8::5"


PFSENSE = """<?xml version="1.0"?>
<pfsense>
  <interfaces>
    <wan><if>vmx0</if><ipaddr>203.0.113.2</ipaddr><subnet>29</subnet></wan>
    <lan><if>vmx1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>
  </interfaces>
  <aliases>
    <alias><name>carrier_a</name><type>network</type><address>198.51.100.0/24</address></alias>
    <alias><name>carriers</name><type>host</type><address>carrier_a 203.0.113.70 sip.example.net</address></alias>
    <alias><name>feed</name><type>urltable</type><url>https://example.net/list.txt</url></alias>
  </aliases>
  <nat>
    <rule><source><address>carriers</address></source>
      <destination><network>wanip</network><port>5060</port></destination>
      <protocol>udp</protocol><target>192.168.1.20</target><interface>wan</interface></rule>
    <rule><source><address>carriers</address><not/></source>
      <destination><network>wanip</network><port>10000:20000</port></destination>
      <protocol>udp</protocol><target>192.168.1.20</target><interface>wan</interface></rule>
    <rule><source><address>feed</address></source>
      <destination><network>wanip</network><port>5061</port></destination>
      <protocol>tcp</protocol><target>192.168.1.20</target><interface>wan</interface></rule>
    <rule><source><network>lan</network></source>
      <destination><network>wanip</network><port>443</port></destination>
      <protocol>tcp</protocol><target>192.168.1.20</target><interface>lan</interface></rule>
    <npt><interface>wan</interface><source><address>fd00:1::/64</address></source>
      <destination><address>2001:db8:1::/64</address></destination></npt>
  </nat>
  <filter>
    <rule><type>pass</type><ipprotocol>inet6</ipprotocol><interface>wan</interface><protocol>udp</protocol>
      <source><address>carrier_a</address></source>
      <destination><address>2001:db8:1::20</address><port>5060</port></destination></rule>
    <rule><type>pass</type><ipprotocol>inet</ipprotocol><interface>wan</interface>
      <source><any/></source><destination><address>192.168.1.20</address></destination></rule>
  </filter>
</pfsense>
"""


def test_pfsense_nested_aliases_not_interface_nets_npt_and_pinholes():
    cfg = pfsense.parse({"cat /conf/config.xml": PFSENSE})
    got = [(f.kind, f.internal_ip, f.source_restriction, f.source_exclusions) for f in cfg.forwards]
    members = ["198.51.100.0/24", "203.0.113.70", "fqdn:sip.example.net"]
    assert got == [
        ("dnat", "192.168.1.20", members, None),
        ("dnat", "192.168.1.20", None, members),
        ("dnat", "192.168.1.20", ["list:feed"], None),          # a URL table's members are not in config.xml
        ("dnat", "192.168.1.20", ["192.168.1.0/24"], None),     # <network>lan</network>: the LAN subnet
        ("static_1to1", "fd00:1::/64", None, None),
        ("ipv6_pinhole", "2001:db8:1::20", ["198.51.100.0/24"], None),
    ]
    assert cfg.forwards[4].external_ip == "2001:db8:1::/64"
    assert [(u.construct, "'feed'" in u.reason) for u in cfg.unparsed] == [("address_list", True)]


VYATTA_GROUPS = """\
set firewall group network-group CARRIERS network '198.51.100.0/24'
set firewall group address-group CARRIER-HOSTS address '203.0.113.70-203.0.113.71'
set firewall group network-group ALL-PEERS include 'CARRIERS'
"""


def test_vyos_groups_nested_negated_and_unknown():
    text = VYATTA_GROUPS + """\
set nat destination rule 10 inbound-interface name 'eth0'
set nat destination rule 10 destination port '5060'
set nat destination rule 10 protocol 'udp'
set nat destination rule 10 source group network-group 'ALL-PEERS'
set nat destination rule 10 translation address '10.0.20.5'
set nat destination rule 20 inbound-interface name 'eth0'
set nat destination rule 20 destination port '10000-20000'
set nat destination rule 20 protocol 'udp'
set nat destination rule 20 source group address-group '!CARRIER-HOSTS'
set nat destination rule 20 translation address '10.0.20.5'
set nat destination rule 30 inbound-interface name 'eth0'
set nat destination rule 30 destination port '5061'
set nat destination rule 30 protocol 'tcp'
set nat destination rule 30 source group address-group 'MISSING'
set nat destination rule 30 translation address '10.0.20.5'
set nat66 destination rule 40 inbound-interface name 'eth0'
set nat66 destination rule 40 destination address '2001:db8::5'
set nat66 destination rule 40 translation address '2001:db8:1::10'
"""
    cfg = vyos.parse({"show configuration commands": text})
    got = [(f.source_ref.rule_id, f.internal_ip, f.source_restriction, f.source_exclusions) for f in cfg.forwards]
    assert got == [("nat destination rule 10", "10.0.20.5", ["198.51.100.0/24"], None),
                   ("nat destination rule 20", "10.0.20.5", None, ["203.0.113.70-203.0.113.71"]),
                   ("nat destination rule 30", "10.0.20.5", ["list:MISSING"], None),
                   ("nat66 destination rule 40", "2001:db8:1::10", None, None)]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(14, "address_list")]     # rule 30's first line


def test_edgeos_service_nat_with_address_group():
    text = VYATTA_GROUPS + """\
set service nat rule 1 type destination
set service nat rule 1 inbound-interface eth0
set service nat rule 1 protocol udp
set service nat rule 1 destination port 5060
set service nat rule 1 source group address-group CARRIER-HOSTS
set service nat rule 1 inside-address address 192.168.1.20
"""
    cfg = edgeos.parse({"show configuration commands": text})
    assert cfg.forwards[0].source_restriction == ["203.0.113.70-203.0.113.71"] and cfg.unparsed == []


def test_address_book_cycles_any_and_resolution_of_exclusions():
    book = AddressBook(any_names=frozenset({"all"}))
    book.add("a", ["b", "10.0.0.0/8"])
    book.add("b", ["a", "192.0.2.1"])
    book.add("world", ["all"])
    assert book.resolve(["a"]).members == ["192.0.2.1", "10.0.0.0/8"]
    cfg = RouterConfig("x", forwards=[
        PortForward("dnat", "udp", "10.0.0.5", source_restriction=["list:world"], source_ref=SourceRef(line=3)),
        PortForward("dnat", "udp", "10.0.0.5", source_exclusions=["list:world"], source_ref=SourceRef(line=4))])
    resolve_forwards(cfg, book)
    assert cfg.forwards[0].source_restriction is None                     # every address: no restriction
    assert cfg.forwards[1].source_exclusions == ["0.0.0.0/0"] and cfg.unparsed == []


ASA = """\
object network PBX
 host 192.168.20.10
object network PBX-WEB
 host 192.168.20.11
object network CARRIER-C
 subnet 203.0.113.64 255.255.255.224
object-group network SIP-CARRIERS
 network-object host 198.51.100.10
 network-object object CARRIER-C
object-group network ALL-PEERS
 group-object SIP-CARRIERS
 network-object 192.0.2.0 255.255.255.0
object network PBX
 nat (inside,outside) static interface service udp sip sip
object network PBX-WEB
 nat (inside,outside) static interface service tcp https https
access-list OUTSIDE_IN extended permit udp object-group ALL-PEERS object PBX eq sip
access-list OUTSIDE_IN extended permit tcp any host 192.168.20.11 eq https
access-list OUTSIDE_IN extended permit frob any any
access-group OUTSIDE_IN in interface outside
"""


def test_asa_object_groups_resolved_through_the_interface_access_list():
    cfg = cisco_asa.parse({"show running-config": ASA})
    got = [(f.internal_ip, f.external_ports[0].lo, f.source_restriction) for f in cfg.forwards]
    assert got == [("192.168.20.10", 5060, ["198.51.100.10", "203.0.113.64/27", "192.0.2.0/24"]),
                   ("192.168.20.11", 443, None)]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(19, "filter")]


ASA_SERVICES = """\
object network PBX
 host 192.168.20.10
object network PBX-SIP
 host 192.168.20.10
 nat (inside,outside) static interface service udp sip sip
object network PBX-WEB
 host 192.168.20.10
 nat (inside,outside) static interface service tcp https https
object network PBX-SSH
 host 192.168.20.10
 nat (inside,outside) static interface service tcp ssh ssh
object service RTP
 service udp destination range 10000 20000
object service SIP-UDP
 service udp destination eq sip
object-group service RTP-PORTS udp
 port-object range 10000 20000
object-group service VOICE
 service-object object SIP-UDP
 group-object RTP-PORTS
object-group service WEB tcp
 port-object eq https
 port-object eq 8443
object-group service HIGH tcp
 port-object gt 1023
object-group service ODD
 service-object frob
object-group network CARRIERS
 network-object 198.51.100.0 255.255.255.0
object-group network OFFICE
 network-object host 192.0.2.7
nat (inside,outside) source static PBX interface service RTP RTP
access-list OUTSIDE_IN extended permit object-group VOICE object-group CARRIERS object PBX
access-list OUTSIDE_IN extended permit tcp object-group OFFICE object PBX object-group WEB
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 object-group HIGH object PBX eq https
access-list OUTSIDE_IN extended permit tcp any object PBX eq ssh inactive
access-list OUTSIDE_IN extended permit object-group GHOST host 198.51.100.99 object PBX
access-group OUTSIDE_IN in interface outside
"""


def test_asa_service_objects_and_groups_decide_which_permits_reach_a_forward():
    cfg = cisco_asa.parse({"show running-config": ASA_SERVICES})
    got = [(f.proto, str(f.external_ports[0]), f.source_restriction) for f in cfg.forwards]
    assert got == [
        ("udp", "5060", ["198.51.100.0/24", "198.51.100.99"]),          # VOICE's SIP-UDP; GHOST: every port
        ("tcp", "443", ["192.0.2.7", "192.0.2.50", "198.51.100.99"]),   # WEB; HIGH is a source port group
        ("tcp", "22", ["198.51.100.99"]),                                # the ssh permit is inactive
        ("udp", "10000-20000", ["198.51.100.0/24", "198.51.100.99"]),   # VOICE's RTP-PORTS
    ]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(27, "filter")]     # `service-object frob`


def test_asa_without_service_resolution_a_permit_for_another_port_would_open_the_forward():
    only_web = ASA_SERVICES.replace("access-list OUTSIDE_IN extended permit object-group GHOST", "! ")
    cfg = cisco_asa.parse({"show running-config": only_web})
    ssh = next(f for f in cfg.forwards if str(f.external_ports[0]) == "22")
    assert ssh.source_restriction is None and "no permit in access list OUTSIDE_IN" in ssh.comment


ROUTEROS_TABLE = """\
Flags: X - disabled; D - dynamic
Columns: LIST, ADDRESS, CREATION-TIME, TIMEOUT
#     LIST          ADDRESS          CREATION-TIME        TIMEOUT
0     ;;; carrier A
      SIP-Carriers  198.51.100.0/24  2024-05-01 10:00:00
1   X SIP-Carriers  192.0.2.99       2024-05-01 10:00:00
2   D SIP-Carriers  203.0.113.64/27  2024-05-01 10:00:00  23h59m
3     pbx-public    203.0.113.5      2024-05-01 10:00:00
4     wan-ips       203.0.113.5      2024-05-01 10:00:00
5     wan-ips       203.0.113.6      2024-05-01 10:00:00
6     by-name       pbx.example.net  2024-05-01 10:00:00
"""
ROUTEROS_DST_LISTS = """\
/ip firewall nat
add action=dst-nat chain=dstnat dst-address-list=pbx-public dst-port=5060 protocol=udp \\
    src-address-list=SIP-Carriers to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-address-list=wan-ips dst-port=443 protocol=tcp to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-address-list=nowhere dst-port=80 protocol=tcp to-addresses=192.168.88.10
add action=dst-nat chain=dstnat dst-address-list=by-name dst-port=8080 protocol=tcp to-addresses=192.168.88.10
"""


def test_routeros_address_list_column_table_and_dst_address_lists():
    cfg = mikrotik.parse({"/ip firewall address-list print": ROUTEROS_TABLE,
                          "/ip firewall nat export": ROUTEROS_DST_LISTS})
    got = [(f.external_ports[0].lo, f.external_ip, f.source_restriction) for f in cfg.forwards]
    assert got == [
        (5060, "203.0.113.5", ["198.51.100.0/24", "203.0.113.64/27"]),   # entry 1 is disabled; D still matches
        (443, "203.0.113.5", None),
        (443, "203.0.113.6", None),                                       # one forward per listed address
        (80, "list:nowhere", None),
        (8080, "list:by-name", None),
    ]
    assert [(u.line, u.construct) for u in sorted(cfg.unparsed, key=lambda u: u.line)] == [
        (5, "address_list"), (6, "address_list")]
    assert "'nowhere'" in cfg.unparsed[0].reason or "'nowhere'" in cfg.unparsed[1].reason


def test_routeros_table_row_out_of_line_with_its_header_is_unparsed():
    skewed = ROUTEROS_TABLE.splitlines()[:3] + ["7     SIP-Carriers-and-more-than-fits 203.0.113.99  2024-05-01"]
    cfg = mikrotik.parse({"/ip firewall address-list print": "\n".join(skewed) + "\n"})
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(4, "address_list")]


EDGEOS_NAT_RULES = """\
Type Codes:  SRC - source, DST - destination, MASQ - masquerade
              X at the front of rule implies rule is excluded

rule   type  intf     translation
----   ----  ----     -----------
10     DST   eth0     daddr ANY to 192.168.1.20
    proto-udp         dport 5060 to 5060
                      when saddr CARRIER-HOSTS, sport ANY

20     DST   eth0     daddr PUBLIC-IPS to 192.168.1.20
    proto-tcp         dport 443 to 443
                      when saddr !198.51.100.0/24, sport ANY

30     DST   eth0     daddr 203.0.113.2 to 192.168.1.20
    proto-udp         dport 10000-20000
                      when saddr NOT-DEFINED, sport ANY

40     DST   eth0     daddr 203.0.113.2 to 192.168.1.21

5001   MASQ  eth0     saddr 192.168.1.0/24 to 203.0.113.2
    proto-all         sport ANY
"""


def test_edgeos_show_nat_rules_groups_resolved_from_the_configuration():
    groups = VYATTA_GROUPS + "set firewall group address-group PUBLIC-IPS address '203.0.113.2'\n"
    cfg = edgeos.parse({"show nat rules": EDGEOS_NAT_RULES, "show configuration commands": groups})
    got = [(f.source_ref.rule_id, f.proto, f.external_ip, f.external_ports and str(f.external_ports[0]),
            f.source_restriction, f.source_exclusions) for f in cfg.forwards]
    assert got == [
        ("nat rule 10", "udp", None, "5060", ["203.0.113.70-203.0.113.71"], None),
        ("nat rule 20", "tcp", "203.0.113.2", "443", None, ["198.51.100.0/24"]),
        ("nat rule 30", "udp", "203.0.113.2", "10000-20000", ["list:NOT-DEFINED"], None),
        ("nat rule 40", "any", "203.0.113.2", None, None, None),       # its protocol line is missing
    ]
    assert sorted((u.line, u.construct) for u in cfg.unparsed) == [(14, "address_list"), (18, "nat")]


def test_edgeos_show_nat_rules_alone_leaves_groups_unparsed_and_damage_visible():
    cfg = edgeos.parse({"show nat rules": EDGEOS_NAT_RULES})
    assert [f.external_ip for f in cfg.forwards][:2] == [None, "list:PUBLIC-IPS"]
    assert sorted((u.line, u.construct) for u in cfg.unparsed) == [
        (6, "address_list"), (10, "address_list"), (14, "address_list"), (18, "nat")]
    damaged = EDGEOS_NAT_RULES.replace("10     DST", "10     DZT").replace("    proto-tcp         dport 443", "?")
    cfg = edgeos.parse({"show nat rules": damaged})
    assert {(u.line, u.construct) for u in cfg.unparsed} >= {(6, "nat"), (11, "nat")}


JUNOS_POLICIES = """\
set security address-book global address CARRIER-A 198.51.100.0/24
set security address-book global address CARRIER-B range-address 203.0.113.64 to 203.0.113.95
set security address-book global address-set CARRIERS address CARRIER-A
set security address-book global address-set CARRIERS address CARRIER-B
set security address-book global address OFFICE 192.0.2.0/28
set security address-book global address PBX 192.168.20.10/32
set security address-book global address WEB 192.168.20.11/32
set security address-book global address PBX6 2001:db8:20::10/128
set security zones security-zone untrust interfaces ge-0/0/0.0
set security nat destination pool PBX address 192.168.20.10/32
set security nat destination pool WEB address 192.168.20.11/32
set security nat destination rule-set IN from zone untrust
set security nat destination rule-set IN rule SIP match destination-address 203.0.113.10/32
set security nat destination rule-set IN rule SIP match destination-port 5060
set security nat destination rule-set IN rule SIP then destination-nat pool PBX
set security nat destination rule-set IN rule WEB match destination-address 203.0.113.10/32
set security nat destination rule-set IN rule WEB match destination-port 443
set security nat destination rule-set IN rule WEB then destination-nat pool WEB
set security policies from-zone untrust to-zone trust policy SIP-IN match source-address CARRIERS
set security policies from-zone untrust to-zone trust policy SIP-IN match source-address OFFICE
set security policies from-zone untrust to-zone trust policy SIP-IN match destination-address PBX
set security policies from-zone untrust to-zone trust policy SIP-IN match application junos-sip
set security policies from-zone untrust to-zone trust policy SIP-IN then log session-init
set security policies from-zone untrust to-zone trust policy SIP-IN then permit
set security policies from-zone untrust to-zone trust policy WEB-ANY match source-address any
set security policies from-zone untrust to-zone trust policy WEB-ANY match destination-address WEB
set security policies from-zone untrust to-zone trust policy WEB-ANY match application junos-https
set security policies from-zone untrust to-zone trust policy WEB-ANY then permit
set security policies from-zone untrust to-zone trust policy OLD match source-address any
set security policies from-zone untrust to-zone trust policy OLD match destination-address PBX
set security policies from-zone untrust to-zone trust policy OLD match application any
set security policies from-zone untrust to-zone trust policy OLD then permit
deactivate security policies from-zone untrust to-zone trust policy OLD
set security policies from-zone trust to-zone untrust policy OUT match source-address any
set security policies from-zone trust to-zone untrust policy OUT match destination-address any
set security policies from-zone trust to-zone untrust policy OUT match application any
set security policies from-zone trust to-zone untrust policy OUT then permit
set security policies from-zone untrust to-zone trust policy V6-SIP match source-address CARRIER-A
set security policies from-zone untrust to-zone trust policy V6-SIP match destination-address PBX6
set security policies from-zone untrust to-zone trust policy V6-SIP match application junos-sip
set security policies from-zone untrust to-zone trust policy V6-SIP then permit
set security policies from-zone untrust to-zone trust policy V6-ALL match source-address OFFICE
set security policies from-zone untrust to-zone trust policy V6-ALL match destination-address any-ipv6
set security policies from-zone untrust to-zone trust policy V6-ALL match application any
set security policies from-zone untrust to-zone trust policy V6-ALL then permit
"""


def test_junos_policies_restrict_dnat_sources_and_open_ipv6_pinholes():
    cfg = juniper.parse({"show configuration | display set": JUNOS_POLICIES})
    got = [(f.kind, f.source_ref.rule_id, f.proto, f.internal_ip, f.external_ports and str(f.external_ports[0]),
            f.source_restriction) for f in cfg.forwards]
    assert got == [
        ("dnat", "IN/SIP", "any", "192.168.20.10", "5060",
         ["198.51.100.0/24", "203.0.113.64-203.0.113.95", "192.0.2.0/28"]),   # OLD is deactivated
        ("dnat", "IN/WEB", "any", "192.168.20.11", "443", None),
        ("ipv6_pinhole", "untrust/trust/V6-SIP", "udp", "2001:db8:20::10", "5060", ["198.51.100.0/24"]),
        ("ipv6_pinhole", "untrust/trust/V6-SIP", "tcp", "2001:db8:20::10", "5060", ["198.51.100.0/24"]),
    ]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(42, "filter")]      # any-ipv6 from untrust


def test_junos_default_permit_all_or_no_policies_leave_any_source():
    for text in ("\n".join(JUNOS_POLICIES.splitlines()[:18]) + "\n",
                 JUNOS_POLICIES + "set security policies default-policy permit-all\n"):
        sip = juniper.parse({"show configuration | display set": text}).forwards[0]
        assert sip.source_ref.rule_id == "IN/SIP" and sip.source_restriction is None


FORTI_TYPES = """\
config firewall address
    edit "geo-us"
        set type geography
        set country "US"
    next
    edit "lan-subnet"
        set type interface-subnet
        set subnet 192.168.1.0 255.255.255.0
        set interface "internal"
    next
    edit "sdn-peers"
        set type dynamic
        set sdn "aws"
    next
    edit "carrier-a"
        set subnet 198.51.100.0 255.255.255.0
    next
end
config firewall addrgrp
    edit "mixed"
        set member "carrier-a" "geo-us"
    next
end
config firewall vip
    edit "v-geo"
        set extip 203.0.113.5
        set mappedip "10.40.0.10"
    next
    edit "v-ifnet"
        set extip 203.0.113.6
        set mappedip "10.40.0.10"
    next
    edit "v-sdn"
        set extip 203.0.113.7
        set mappedip "10.40.0.10"
    next
    edit "v-mixed"
        set extip 203.0.113.8
        set mappedip "10.40.0.10"
    next
end
config firewall policy
    edit 1
        set srcaddr "geo-us"
        set dstaddr "v-geo"
        set action accept
    next
    edit 2
        set srcaddr "lan-subnet"
        set dstaddr "v-ifnet"
        set action accept
    next
    edit 3
        set srcaddr "sdn-peers"
        set dstaddr "v-sdn"
        set action accept
    next
    edit 4
        set srcaddr "mixed"
        set dstaddr "v-mixed"
        set action accept
    next
end
"""


def test_fortigate_geography_dynamic_and_interface_subnet_addresses_are_unparsed_where_used():
    cfg = fortinet.parse({"show": FORTI_TYPES})
    got = {f.source_ref.rule_id: f.source_restriction for f in cfg.forwards}
    assert got == {"v-geo": ["list:geo-us"], "v-ifnet": ["list:lan-subnet"], "v-sdn": ["list:sdn-peers"],
                   "v-mixed": ["198.51.100.0/24", "list:geo-us"]}
    named_lists = sorted(re.search(r"address list '([^']+)'", u.reason).group(1)
                         for u in cfg.unparsed if u.construct == "address_list")
    assert named_lists == ["geo-us", "geo-us", "lan-subnet", "sdn-peers"]
    assert _sip_verdict(cfg, CARRIERS)[0] != "pass"
