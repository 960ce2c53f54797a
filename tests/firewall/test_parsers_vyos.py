"""VyOS parser: set-form and legacy tree configs from vyos-1x smoketests, show interfaces (ntc)."""
from __future__ import annotations

import pytest
from parser_b_helpers import expected, line_text, sample, view

from firewall.model import ParseError
from firewall.parsers import vyos

NAT_BASIC = [
    ("dnat", "tcp", "pppoe7", None, "3389", "192.168.189.5", "3389", True, ""),
    ("dnat", "tcp", "pppoe7", None, "10022", "192.168.189.2", "22", True, ""),
    ("dnat", "udp", "pppoe7", None, "10300", "192.168.189.2", "10300", True, ""),
]


def test_nat_basic_set_form():
    text = sample("vyos", "show_configuration_commands_nat_basic.txt")
    cfg = vyos.parse({"show configuration commands": text})
    assert [view(f) for f in cfg.forwards] == NAT_BASIC
    ssh = cfg.forwards[1]
    assert (ssh.source_ref.line, ssh.source_ref.end_line, ssh.source_ref.rule_id) == (31, 35, "nat destination rule 10022")
    assert line_text(text, 35) == "set nat destination rule 10022 translation port '22'"
    assert [(v.vlan_id, v.interface, v.subnet) for v in cfg.vlans] == [(50, "bond10.50", "192.168.189.0/24")]
    assert cfg.sip_alg.enabled is True and line_text(text, cfg.sip_alg.source_ref.line) == "set system conntrack modules sip"
    assert cfg.upnp.enabled is False and cfg.hostname == "R1" and cfg.warnings == []


def test_legacy_tree_gives_the_same_rules_as_its_migrated_set_form():
    text = sample("vyos", "config_boot_nat_basic_legacy.txt")
    cfg = vyos.parse({"show configuration": text})
    assert [view(f) for f in cfg.forwards] == NAT_BASIC
    first = cfg.forwards[0].source_ref
    assert (first.line, first.end_line) == (83, 91)
    assert line_text(text, 83).strip() == 'port "3389"'
    assert [v.vlan_id for v in cfg.vlans] == [50] and cfg.version == "1.4.0-epa3"
    assert cfg.sip_alg.enabled is True and cfg.warnings == []


def test_dialup_router_complex_disabled_rule_vlans_and_sip_not_listed():
    cfg = vyos.parse({"show configuration commands": sample("vyos", "show_configuration_commands_dialup_router_complex.txt")})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "tcp", "pppoe0", None, "80,443", "172.16.36.10", None, True, "HTTP(S)"),
        ("dnat", "tcp", "pppoe0", None, "3389", "172.16.33.40", None, False, ""),
        ("dnat", "udp", "pppoe0", None, "10000", "172.31.0.200", None, True, ""),
    ]
    assert [(v.vlan_id, v.subnet) for v in cfg.vlans] == [
        (5, "172.16.37.0/24"), (7, None), (10, "172.16.33.0/24"), (20, "172.31.0.0/24"), (35, "172.16.35.0/24"),
        (50, "172.16.36.0/24"), (100, "172.16.100.0/24"), (201, "172.18.201.0/24"), (202, "172.18.202.0/24"),
        (203, "172.18.203.0/24"), (204, "172.18.204.0/24")]
    assert cfg.vlans[1].name == "FTTH-PPPoE"
    assert cfg.sip_alg.enabled is False and "1.4" in cfg.sip_alg.detail
    assert cfg.warnings == []


def test_dialup_router_medium_vpn_lists_ranges_and_restrictions():
    cfg = vyos.parse({"show configuration commands": sample("vyos", "show_configuration_commands_dialup_router_medium_vpn.txt")})
    got = [(f.source_ref.rule_id.split()[-1], f.proto, f.external_if, f.external_ip, view(f)[4], f.internal_ip)
           for f in cfg.forwards]
    assert got == [
        ("50", "tcp_udp", "pppoe0", None, "49371", "192.168.0.5"),
        ("51", "tcp", "pppoe0", None, "58050-58051", "192.168.0.5"),
        ("52", "tcp", "pppoe0", None, "22067-22070", "192.168.0.5"),
        ("53", "tcp_udp", "pppoe0", None, "34342", "192.168.0.121"),
        ("54", "tcp_udp", "pppoe0", None, "45459", "192.168.0.120"),
        ("55", "tcp", "pppoe0", None, "22", "192.168.0.5"),
        ("56", "tcp", "pppoe0", None, "8920", "192.168.0.5"),
        ("60", "tcp", "pppoe0", None, "80,443", "192.168.0.5"),
        ("70", "tcp", "pppoe0", None, "5001", "192.168.0.5"),
        ("80", "tcp", "pppoe0", None, "25", "192.168.0.5"),
        ("90", "tcp", "pppoe0", None, "8123", "192.168.0.7"),
        ("91", "tcp", "pppoe0", None, "1880", "192.168.0.7"),
        ("500", "tcp_udp", "eth1", None, "53", "192.168.0.1"),      # destination !192.168.0.0/24: any but it
    ]
    assert "!192.168.0.0/24" in cfg.forwards[-1].comment
    assert cfg.forwards[-1].source_restriction is None
    assert cfg.forwards[-1].source_exclusions == ["192.168.0.1-192.168.0.5"]
    assert cfg.forwards[1].internal_port_for(58051) == 58051
    assert cfg.sip_alg.enabled is True and cfg.warnings == []


def test_show_interfaces_agrees_with_ntc_expectation():
    cfg = vyos.parse({"show interfaces": sample("vyos", "show_interfaces_ntc.txt")})
    rows = expected("vyos", "show_interfaces_ntc.expected.yml")
    assert [(i.name, i.addresses, i.description) for i in cfg.interfaces] == [
        (r["interface"], [a for a in r["ip_address"] if a != "-"], r["description"]) for r in rows]
    assert [(v.vlan_id, v.name, v.subnet) for v in cfg.vlans] == [
        (40, "OUTSIDE", "123.123.120.96/27"), (204, "CUST-DS-LAN", "123.123.123.80/28"),
        (269, "CUST-COM", "172.18.32.0/28"), (437, "CUST-VIDEO", "123.123.116.168/29"),
        (1753, "SERVICE-LINK", "172.18.161.192/29")]


OLD_SYNTAX = """set nat destination rule 20 inbound-interface 'eth0'
set nat destination rule 20 translation address '10.0.20.5'
set nat destination rule 20 description 'dmz host'
set nat destination rule 30 inbound-interface 'eth0'
set nat destination rule 30 destination port 'sip'
set nat destination rule 30 protocol 'udp'
set nat destination rule 30 translation address '10.0.20.6'
set nat destination rule 30 mystery 'x'
set service upnp listen-on eth1
set system conntrack modules sip disable
set interfaces ethernet eth1 vif-s 100 vif-c 20 address '10.100.20.1/24'
set interfaces ethernet eth1 vif-s 100 vif-c 20 description 'phones'
"""


def test_pre_14_syntax_dmz_upnp_qinq_and_warnings():
    cfg = vyos.parse({"show configuration commands": OLD_SYNTAX})
    assert [view(f) for f in cfg.forwards] == [
        ("dmz", "any", "eth0", None, None, "10.0.20.5", None, True, "dmz host"),
        ("dnat", "udp", "eth0", None, "5060", "10.0.20.6", None, True, ""),      # port 'sip' by its name
    ]
    assert cfg.warnings == []
    assert [(u.line, u.text, u.construct) for u in cfg.unparsed] == [
        (8, "set nat destination rule 30 mystery 'x'", "nat")]
    assert cfg.upnp.enabled is True and cfg.sip_alg.enabled is False
    assert [(v.vlan_id, v.interface, v.voice) for v in cfg.vlans] == [(20, "eth1.100.20", True)]


def test_errors_and_sniff():
    with pytest.raises(ParseError):
        vyos.parse({"show configuration": "interfaces {\n    ethernet eth0 {\n"})
    assert vyos.sniff(sample("vyos", "show_configuration_commands_nat_basic.txt")) > 0.9
    assert vyos.sniff(sample("vyos", "show_interfaces_ntc.txt")) > vyos.sniff("") == 0.0
