"""Juniper SRX parser: lab vSRX display-set config, `show vlans` (ntc expectation), hand inputs."""
from __future__ import annotations

import pytest
from parser_a_helpers import expected_rows, fwd, read_sample, vlan_view

from firewall.model import ParseError
from firewall.parsers import detect_platform, juniper

P = "juniper"
SRX = "srx_show_configuration_display_set_labvalidation.txt"


def test_lab_srx_destination_nat():
    cfg = juniper.parse({"show configuration | display set": read_sample(P, SRX)})
    assert [fwd(f) for f in cfg.forwards] == [
        ("dmz", "any", "45.1.12.0/24", "OUTSIDE", None, "10.100.2.0/24", None, True, 103, "INBOUND-NAT/WEB1"),
        ("dmz", "any", "59.1.32.0/24", "OUTSIDE", None, "10.100.2.0/24", None, True, 106, "INBOUND-NAT/WEB2"),
        ("dmz", "any", "147.75.69.27", "OUTSIDE", None, "172.24.0.10", None, True, 109, "INBOUND-NAT/VPN"),
    ]
    web1 = cfg.forwards[0].source_ref
    assert web1.end_line == 105 and web1.text.endswith("then destination-nat pool WEB-SERVERS-PRIVATE")
    assert all(f.source_restriction is None for f in cfg.forwards)      # match source 0.0.0.0/0
    assert (cfg.hostname, cfg.version) == ("fwl01", "17.3R1.10")
    roles = {i.name: i.role for i in cfg.interfaces}
    assert roles["ge-0/0/2.0"] == "wan" and roles["ge-0/0/0.0"] == "lan"
    assert cfg.sip_alg.enabled is None and "show security alg status" in cfg.sip_alg.detail
    assert cfg.vlans == [] and cfg.warnings == []


def test_show_vlans_matches_ntc():
    cfg = juniper.parse({"show vlans": read_sample(P, "show_vlans_ntc.txt")})
    rows = expected_rows(P, "show_vlans_ntc.expected.yml")
    assert [(v.vlan_id, v.name, v.member_ports) for v in cfg.vlans] == sorted(
        (int(r["tag"]), r["vlan_name"], [i.rstrip("*") for i in r["interfaces"]]) for r in rows)
    assert [v.source_ref.line for v in cfg.vlans] == [2, 18, 10]
    assert cfg.warnings == []


HAND = """\
## Last commit: 2024-01-02 10:00:00 UTC by admin
set version 21.4R3
set system host-name srx-branch
set security address-book global address PBX-PUB 203.0.113.10/32
set security nat destination pool PBX address 192.168.20.10/32
set security nat destination pool PBX-WEB address 192.168.20.10/32 port 443
set security nat destination rule-set IN from zone untrust
set security nat destination rule-set IN rule SIP match destination-address-name PBX-PUB
set security nat destination rule-set IN rule SIP match destination-port 5060
set security nat destination rule-set IN rule SIP match protocol udp
set security nat destination rule-set IN rule SIP match protocol tcp
set security nat destination rule-set IN rule SIP then destination-nat pool PBX
set security nat destination rule-set IN rule RTP match destination-address 203.0.113.10/32
set security nat destination rule-set IN rule RTP match destination-port 10000 to 20000
set security nat destination rule-set IN rule RTP match source-address 198.51.100.0/24
set security nat destination rule-set IN rule RTP then destination-nat pool PBX
set security nat destination rule-set IN rule WEB match destination-address 203.0.113.10/32
set security nat destination rule-set IN rule WEB match destination-port 8443
set security nat destination rule-set IN rule WEB match application junos-https
set security nat destination rule-set IN rule WEB then destination-nat pool PBX-WEB
set security nat destination rule-set IN rule NONE match destination-address 0.0.0.0/0
set security nat destination rule-set IN rule NONE then destination-nat off
deactivate security nat destination rule-set IN rule RTP
set security nat static rule-set ONE from zone untrust
set security nat static rule-set ONE rule DMZ match destination-address 203.0.113.20/32
set security nat static rule-set ONE rule DMZ then static-nat prefix 192.168.20.20/32
set security nat destination rule-set IN rule BAD then destination-nat pool MISSING
set security nat destination frobnicate
set security alg sip disable
set interfaces ge-0/0/1 unit 20 vlan-id 20
set interfaces ge-0/0/1 unit 20 family inet address 192.168.20.1/24
set interfaces irb unit 30 family inet address 192.168.30.1/24
set vlans VOICE vlan-id 30
set vlans VOICE l3-interface irb.30
set security zones security-zone untrust interfaces ge-0/0/0.0
this is not junos
"""


def test_hand_written_ports_protocols_deactivate_static_and_vlans():
    cfg = juniper.parse({"show configuration | display set": HAND})
    assert [fwd(f) for f in cfg.forwards] == [
        ("dnat", "tcp_udp", "203.0.113.10", "untrust", "5060", "192.168.20.10", None, True, 8, "IN/SIP"),
        ("dnat", "any", "203.0.113.10", "untrust", "10000-20000", "192.168.20.10", None, False, 13, "IN/RTP"),
        ("dnat", "any", "203.0.113.10", "untrust", "8443", "192.168.20.10", "443", True, 17, "IN/WEB"),
        ("static_1to1", "any", "203.0.113.20", "untrust", None, "192.168.20.20", None, True, 25, "ONE/DMZ"),
    ]
    assert cfg.forwards[1].source_restriction == ["198.51.100.0/24"]
    assert sorted((w.line, w.message) for w in cfg.warnings) == [
        (19, "match application is not modelled"),
        (36, "not a display-set statement"),
    ]
    assert sorted((u.line, u.construct, u.reason.split(":")[0]) for u in cfg.unparsed) == [
        (27, "nat", "NAT rule IN/BAD"), (28, "nat", "NAT statement not understood")]
    assert cfg.sip_alg.enabled is False and cfg.sip_alg.source_ref.line == 29
    assert [vlan_view(v) for v in cfg.vlans] == [
        (20, "", "ge-0/0/1.20", "192.168.20.0/24", False), (30, "VOICE", "irb.30", "192.168.30.0/24", True)]
    assert (cfg.hostname, cfg.version) == ("srx-branch", "21.4R3")


def test_alg_status_brace_format_and_garbage():
    text = "ALG Status :\n  DNS      : Enabled\n  SIP      : Enabled\n"
    status = juniper.parse({"show security alg status": text})
    assert status.sip_alg.enabled is True and status.sip_alg.source_ref.line == 3
    with pytest.raises(ParseError, match="display set"):
        juniper.parse({"": "security {\n    nat {\n        destination {\n"})
    with pytest.raises(ParseError, match="not recognised"):
        juniper.parse({"show vlans": "%%% ### !!!"})
    assert detect_platform(read_sample(P, SRX))[0] == "juniper_junos"
    assert detect_platform(read_sample(P, "show_vlans_ntc.txt"))[0] == "juniper_junos"


def test_pool_address_range_becomes_a_dash_range():
    text = ("set security nat destination pool P address 192.168.20.30/32 to 192.168.20.31/32\n"
            "set security nat destination rule-set IN rule R match destination-address 203.0.113.11/32\n"
            "set security nat destination rule-set IN rule R then destination-nat pool P\n")
    cfg = juniper.parse({"show configuration security nat | display set": text})
    assert fwd(cfg.forwards[0]) == ("dmz", "any", "203.0.113.11", None, None,
                                    "192.168.20.30-192.168.20.31", None, True, 2, "IN/R")


def test_an_undefined_destination_name_reads_as_any_destination_with_a_warning():
    """Only the outside address the rule matches is unknown: the forward is kept, matching any address of the
    router (wider than the rule, so no verdict can pass what it opens), and the warning says so."""
    from firewall.parsers import parse
    text = ("set security nat destination pool P5 address 192.168.5.10/32\n"
            "set security nat destination rule-set RS from zone untrust\n"
            "set security nat destination rule-set RS rule R2 match source-address 198.51.100.0/24\n"
            "set security nat destination rule-set RS rule R2 match destination-address-name NOWHERE\n"
            "set security nat destination rule-set RS rule R2 then destination-nat pool P5\n")
    config = parse("juniper_junos", {"show configuration | display set": text})
    (fwd,) = config.forwards
    assert fwd.internal_ip == "192.168.5.10" and fwd.external_ip is None
    assert fwd.source_restriction == ["198.51.100.0/24"] and config.unparsed == []
    assert any("NOWHERE" in w.message and "wider than the rule" in w.message for w in config.warnings)
