"""FortiGate parser: VIP template config, `get system interface` (ntc expectation), hand inputs."""
from __future__ import annotations

import pytest
from parser_a_helpers import expected_rows, fwd, read_sample, vlan_view

from firewall.model import ParseError
from firewall.parsers import detect_platform, fortinet

P = "fortinet"
TEMPLATE = "firewall_vip_userdata_template_40netse.txt"


def test_vip_template_forwards_used_by_policies():
    cfg = fortinet.parse({"": read_sample(P, TEMPLATE)})
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_pat", "tcp", None, "port1", "2222", "10.0.2.11", "22", True, 48, "vip_to_linux_ssh"),
        ("static_pat", "tcp", None, "port1", "8080", "10.0.2.11", "80", True, 55, "vip_to_linux_http"),
    ]
    assert cfg.forwards[1].source_ref.end_line == 61
    mime = [w.line for w in cfg.warnings if w.message == "not FortiOS configuration syntax"]
    assert mime == [1, 2, 4, 5, 6, 7, 8, 87, 88, 89, 90, 91, 93, 95]        # MIME wrapper, placeholder
    placeholders = [(w.line, w.text) for w in cfg.warnings if w.message.startswith("interface")]
    assert placeholders == [(19, "edit port1"), (27, "edit port2")]         # `set ip ${Port1IP} ...`
    assert cfg.hostname == "${fgt_id}"         # a template: the placeholder is what the file says
    assert cfg.sip_alg.enabled is True and "FortiOS defaults" in cfg.sip_alg.detail   # silent on SIP: defaults


def test_get_system_interface_matches_ntc_and_guesses_vlan_ids_loudly():
    name = "get_system_interface_6.4.2_ntc"
    cfg = fortinet.parse({"get system interface": read_sample(P, f"{name}.txt")})
    rows = expected_rows(P, f"{name}.expected.yml")
    assert [i.name for i in cfg.interfaces] == [r["name"] for r in rows]
    assert {i.name: i.addresses for i in cfg.interfaces}["Vlan30"] == ["16.100.100.65/26"]
    vlan_rows = [r["name"] for r in rows if r["type"] == "vlan"]
    guessed = [w for w in cfg.warnings if "taken from its name" in w.message]
    assert [w.text.split()[1] for w in guessed] == vlan_rows
    assert [vlan_view(v) for v in cfg.vlans][:2] == [(10, "Vlan10", "Vlan10", "16.100.100.0/27", False),
                                                    (20, "Vlan20", "Vlan20", "16.100.100.32/27", False)]
    assert len(cfg.vlans) == 7        # port3_vl10 folds into VLAN 10
    assert cfg.forwards == []


def test_labvalidation_interface_and_status():
    cfg = fortinet.parse({"get system interface": read_sample(P, "get_system_interface_labvalidation.txt"),
                          "get system status": read_sample(P, "get_system_status_labvalidation.txt")})
    assert len(cfg.interfaces) == 13 and cfg.vlans == [] and cfg.warnings == []
    assert {i.name: i.addresses for i in cfg.interfaces}["port1"] == ["192.168.122.2/24"]
    assert (cfg.hostname, cfg.version) == ("d2_fw", "6.4.4")


HAND = """\
config system settings
    set default-voip-alg-mode kernel-helper-based
end
config system session-helper
    edit 1
        set name pptp
        set protocol 6
        set port 1723
    next
end
config system interface
    edit "voice"
        set vdom "root"
        set ip 10.40.0.1 255.255.255.0
        set alias "Voice VLAN"
        set interface "port2"
        set vlanid 40
    next
end
config firewall vip
    edit "pbx-sip"
        set extip 203.0.113.5
        set extintf "wan1"
        set portforward enable
        set protocol udp
        set mappedip "10.40.0.10"
        set extport 5060-5061
        set mappedport 5060-5061
        set comment "SIP trunk"
    next
    edit "pbx-dmz"
        set extip 203.0.113.6
        set extintf "wan1"
        set mappedip "10.40.0.11"
    next
    edit "old-web"
        set extip 203.0.113.7
        set extintf "any"
        set portforward enable
        set mappedip "10.40.0.12"
        set extport 8080
        set mappedport 80
    next
end
config firewall vipgrp
    edit "pbx-group"
        set member "pbx-dmz"
    next
end
config firewall policy
    edit 1
        set dstaddr "pbx-sip" "pbx-group"
        set action accept
    next
    edit 2
        set dstaddr "old-web"
        set action accept
        set status disable
    next
end
"""


def test_hand_written_vips_policies_sip_and_vlan():
    cfg = fortinet.parse({"show": HAND})
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_pat", "udp", "203.0.113.5", "wan1", "5060-5061", "10.40.0.10", "5060-5061", True, 21,
         "pbx-sip"),
        ("static_1to1", "any", "203.0.113.6", "wan1", None, "10.40.0.11", None, True, 31, "pbx-dmz"),
        ("static_pat", "tcp", "203.0.113.7", None, "8080", "10.40.0.12", "80", False, 36, "old-web"),
    ]
    assert cfg.forwards[0].comment == "SIP trunk"
    assert "defined but unused" in cfg.forwards[2].comment
    assert [(w.line, w.message) for w in cfg.warnings] == [(36, "VIP 'old-web' is defined but unused")]
    assert cfg.sip_alg.enabled is False
    assert "kernel-helper-based" in cfg.sip_alg.detail and "helper off" in cfg.sip_alg.detail
    assert [vlan_view(v) for v in cfg.vlans] == [(40, "voice", "voice", "10.40.0.0/24", True)]
    assert cfg.interfaces[0].parent == "port2"


def test_sip_defaults_and_missing_policies():
    settings = "config system settings\n    set gui-voip-profile enable\nend\n"
    cfg = fortinet.parse({"show system settings": settings})
    assert cfg.sip_alg.enabled is True and "platform default" in cfg.sip_alg.detail
    vip_only = "config firewall vip\n    edit \"x\"\n        set mappedip \"10.0.0.1\"\n    next\nend\n"
    cfg = fortinet.parse({"show firewall vip": vip_only})
    assert cfg.forwards[0].enabled is True
    assert cfg.warnings[0].message.startswith("no 'config firewall policy' in the input")


def test_garbage_refused_and_sniff():
    with pytest.raises(ParseError, match="not recognised"):
        fortinet.parse({"show firewall vip": "~~~ ??? ~~~"})
    cfg = fortinet.parse({"show firewall vip": "Command fail. Return code -61\n"})
    assert cfg.warnings[0].message == "the device rejected this command"
    assert detect_platform(read_sample(P, TEMPLATE))[0] == "fortinet"
    assert detect_platform(read_sample(P, "get_system_interface_labvalidation.txt"))[0] == "fortinet"


def test_mapped_ip_range_is_kept():
    vip = ('config firewall vip\n    edit "pool"\n        set extip 203.0.113.8\n'
           '        set mappedip "10.0.0.5-10.0.0.6"\n    next\nend\n'
           'config firewall policy\n    edit 1\n        set dstaddr "pool"\n        set action accept\n'
           '    next\nend\n')
    cfg = fortinet.parse({"show": vip})
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_1to1", "any", "203.0.113.8", None, None, "10.0.0.5-10.0.0.6", None, True, 2, "pool")]



def test_nested_addrgrp_from_batfish_sample_resolves_to_members():
    from firewall.model import RouterConfig
    from firewall.parsers._fortios_addr import address_book
    from firewall.parsers._fortios_config import Tree
    from firewall.parsers._text import numbered_lines

    text = read_sample(P, "firewall_policy_addrgrp_batfish.txt")
    tree = Tree()
    tree.read(RouterConfig("fortinet"), "show", numbered_lines(text))
    book = address_book(tree)
    assert book.resolve(["grp1_parent"]).members == ["10.0.1.0/24"]    # exclude-member addr1b only narrows it
    assert book.resolve(["grp2"]).members == ["10.0.2.0/24"]
    assert fortinet.parse({"show": text}).forwards == []                 # no VIP in it
