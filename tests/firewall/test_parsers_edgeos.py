"""EdgeOS parser: config tree and set-form, show nat rules and show interfaces (ntc expectations)."""
from __future__ import annotations

import pytest
from parser_b_helpers import expected, line_text, sample, view

from firewall.model import ParseError, RouterConfig
from firewall.parsers import _vyatta, edgeos

BOOT = "config_boot_port_forward_upnp_adrienkohlbecker.txt"
PORT_FORWARDS = [
    ("dnat", "tcp", "eth1", None, "32400", "10.123.0.11", "32400", True, "Plex"),
    ("dnat", "tcp", "eth1", None, "2223", "10.123.0.11", "2223", True, "ssh-brumath"),
    ("dnat", "tcp", "eth1", None, "2224", "10.123.0.11", "2224", True, "ssh-arq"),
    ("dnat", "udp", "eth1", None, "51820", "10.123.0.11", "51820", True, "wireguard"),
]


def test_config_boot_port_forwards_vlans_upnp_sip():
    text = sample("edgeos", BOOT)
    cfg = edgeos.parse({"show configuration": text})
    assert [view(f) for f in cfg.forwards] == PORT_FORWARDS
    plex = cfg.forwards[0]
    assert plex.source_ref.rule_id == "port-forward rule 1"
    assert line_text(text, plex.source_ref.line).strip() == "description Plex"
    assert line_text(text, plex.source_ref.end_line).strip() == "protocol tcp"
    assert [(v.vlan_id, v.name, v.subnet, v.interface) for v in cfg.vlans] == [
        (20, "LAN_20_PRIVATE", "10.123.20.0/24", "eth0.20"), (30, "LAN_30_GUEST", "10.123.30.0/24", "eth0.30")]
    assert cfg.upnp.enabled is True and "NAT-PMP" in cfg.upnp.detail
    assert line_text(text, cfg.upnp.source_ref.line).strip() == "listen-on eth0"
    assert cfg.sip_alg.enabled is True and "default" in cfg.sip_alg.detail
    assert (cfg.hostname, cfg.version) == ("ubnt", "v1.9.1.4939093.161214.0705")
    assert cfg.warnings == []


def test_set_form_of_the_same_config_gives_the_same_forwards():
    lines = _vyatta.from_tree(sample("edgeos", BOOT), "t")
    set_text = "\n".join("set " + " ".join(f"'{w}'" if " " in w else w for w in line.words) for line in lines)
    cfg = edgeos.parse({"show configuration commands": set_text})
    assert [view(f) for f in cfg.forwards] == PORT_FORWARDS
    assert [v.vlan_id for v in cfg.vlans] == [20, 30] and cfg.upnp.enabled is True


SET_FORM = """set service nat rule 1 type destination
set service nat rule 1 inbound-interface eth0
set service nat rule 1 protocol tcp
set service nat rule 1 destination port 8080
set service nat rule 1 inside-address address 192.168.1.10
set service nat rule 1 inside-address port 80
set service nat rule 1 disable
set service nat rule 2 type destination
set service nat rule 2 inbound-interface eth0
set service nat rule 2 inside-address address 192.168.1.20
set service nat rule 2 source address 198.51.100.7
set service nat rule 2 frobnicate yes
set service nat rule 5010 type masquerade
set service nat rule 5010 outbound-interface eth0
set port-forward wan-interface pppoe0
set port-forward rule 2 original-port 5060,5065
set port-forward rule 2 forward-to address 192.168.1.20
set port-forward rule 2 protocol tcp_udp
set system conntrack modules sip disable
set interfaces switch switch0 switch-port interface eth2 vlan pvid 10
set interfaces switch switch0 switch-port interface eth2 vlan vid 20
set interfaces switch switch0 vif 20 address 10.20.0.1/24
set interfaces switch switch0 vif 20 description 'Voice VLAN'
"""


def test_set_form_service_nat_port_forward_conntrack_switchport():
    cfg = edgeos.parse({"show configuration commands": SET_FORM})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "tcp_udp", "pppoe0", None, "5060,5065", "192.168.1.20", None, True, ""),
        ("dnat", "tcp", "eth0", None, "8080", "192.168.1.10", "80", False, ""),
        ("dmz", "any", "eth0", None, None, "192.168.1.20", None, True, ""),
    ]
    assert cfg.forwards[2].source_restriction == ["198.51.100.7"]
    assert cfg.warnings == []
    assert [(u.line, u.text, u.construct) for u in cfg.unparsed] == [
        (12, "set service nat rule 2 frobnicate yes", "nat")]
    assert cfg.sip_alg.enabled is False and cfg.sip_alg.source_ref.line == 19
    assert cfg.upnp.enabled is False
    port = cfg.switchports[0]
    assert (port.name, port.access_vlan, port.trunk_vlans, port.mode) == ("eth2", 10, "20", "trunk")
    assert [(v.vlan_id, v.subnet, v.voice) for v in cfg.vlans] == [(20, "10.20.0.0/24", True)]


def test_show_nat_rules_agrees_with_ntc_expectation():
    text = sample("edgeos", "show_nat_rules_ntc.txt")
    cfg = edgeos.parse({"show nat rules": text})
    rows = [r for r in expected("edgeos", "show_nat_rules_ntc.expected.yml") if r["type"] == "DST"]
    assert len(cfg.forwards) == len(rows) == 6
    for forward, row in zip(cfg.forwards, rows):
        assert forward.source_ref.rule_id == f"nat rule {row['rule']}"
        assert (forward.external_if, forward.external_ip, forward.internal_ip, forward.proto) == (
            row["interface"], row["src_address"], row["dest_address"], row["protocol"])
        assert (str(forward.external_ports[0]), str(forward.internal_ports[0])) == (row["src_port"], row["dest_port"])
        assert line_text(text, forward.source_ref.line).startswith(row["rule"])
    assert cfg.forwards[0].internal_port_for(8080) == 80


def test_show_interfaces_agrees_with_ntc_expectation():
    cfg = edgeos.parse({"show interfaces": sample("edgeos", "show_interfaces_ntc.txt")})
    rows = expected("edgeos", "show_interfaces_ntc.expected.yml")
    by_name = {i.name: i for i in cfg.interfaces}
    assert len(by_name) == len({r["interface"] for r in rows})
    for row in rows:
        want = [a for a in row["ip_address"] if a != "-"]
        assert set(want) <= set(by_name[row["interface"]].addresses)
    assert [(v.vlan_id, v.interface, v.subnet) for v in cfg.vlans] == [
        (1, "switch0.1", "192.168.10.0/24"), (2900, "eth4.2900", None)]


def test_errors():
    with pytest.raises(ParseError, match="never closed"):
        edgeos.parse({"show configuration": "service {\n    upnp2 {\n        wan eth1\n"})
    with pytest.raises(ParseError):
        edgeos.parse({"show configuration": "no config here"})
    cfg = edgeos.parse({"show nat rules": "Invalid command: show [nat]\n"})
    assert isinstance(cfg, RouterConfig) and cfg.forwards == [] and cfg.warnings


def test_sniff():
    assert edgeos.sniff(sample("edgeos", BOOT)) > 0.9
    assert edgeos.sniff(sample("edgeos", "show_nat_rules_ntc.txt")) > 0.8
    assert edgeos.sniff(sample("edgeos", "show_interfaces_ntc.txt")) > edgeos.sniff("") == 0.0
