"""Cisco ASA parser: `show nat`, `show xlate`, objects (checked against ntc expectations), config."""
from __future__ import annotations

import pytest
from parser_a_helpers import expected_rows, fwd, read_sample, vlan_view

from firewall.model import ParseError
from firewall.parsers import cisco_asa, detect_platform

P = "cisco_asa"


def forwards_expected_from(rows: list[dict]) -> list[dict]:
    """Rules that must become forwards: static, bidirectional, really translating."""
    return [r for r in rows if r["source_type"] == "static" and not r["unidirectional"]
            and r["source_real"] not in ("any", r["source_mapped"])]


def test_show_nat_forwards_follow_the_ntc_rows():
    cfg = cisco_asa.parse({"show nat": read_sample(P, "show_nat_ntc.txt")})
    rows = forwards_expected_from(expected_rows(P, "show_nat_ntc.expected.yml"))
    assert [f.source_ref.rule_id for f in cfg.forwards] == \
        [f"section {r['nat_section_number']} line {r['line_number']}" for r in rows]
    assert [(f.internal_ip, f.enabled) for f in cfg.forwards] == \
        [(r["source_real"], not r["inactive"]) for r in rows]
    assert len(cfg.forwards) == 16


def test_show_nat_port_forwards_and_details():
    cfg = cisco_asa.parse({"show nat": read_sample(P, "show_nat_ntc.txt")})
    by_id = {f.source_ref.rule_id: f for f in cfg.forwards}
    assert fwd(by_id["section 2 line 3"]) == (
        "static_pat", "tcp", "test8", "outside", "2222", "test7", "22", True, 56, "section 2 line 3")
    assert fwd(by_id["section 2 line 10"])[:7] == \
        ("static_pat", "udp", "test8", "outside", "8443", "test7", "443")
    assert fwd(by_id["section 2 line 11"])[:2] == ("static_pat", "other:sctp")
    assert fwd(by_id["section 2 line 2"])[:5] == ("static_1to1", "any", "interface:outside", "outside", None)
    inactive = by_id["section 1 line 11"]
    assert inactive.enabled is False and inactive.comment.startswith("test")
    assert inactive.source_restriction == ["list:test4"]      # destination static test3 test4: real = test4
    assert any(u.construct == "address_list" and "'test4'" in u.reason for u in cfg.unparsed)   # not defined
    assert "untranslate_hits=7" in by_id["section 2 line 3"].comment
    unresolved = by_id["section 1 line 12"]
    assert unresolved.external_ports is None and "not resolved" in unresolved.comment
    names = {w.message.split("'")[1] for w in cfg.warnings}
    assert {"test7", "test8", "test-service-1"} <= names
    assert "section 1 line 14" not in by_id and "section 1 line 10" not in by_id   # identity, unidirectional


def test_show_xlate_static_entry_is_a_runtime_forward():
    cfg = cisco_asa.parse({"show xlate": read_sample(P, "show_xlate_ntc.txt")})
    rows = expected_rows(P, "show_xlate_ntc.expected.yml")
    static = [r for r in rows if r["source_intf"] == "inside"]
    assert [(f.internal_ip, f.external_ip, f.external_if) for f in cfg.forwards] == \
        [(r["source"][0], r["destination"][0], r["destination_intf"]) for r in static]
    assert fwd(cfg.forwards[0]) == ("runtime_translation", "any", "172.18.254.252", "outside", None,
                                    "192.168.1.150", None, True, 16, "172.18.254.252")
    assert cfg.warnings == []


def test_object_network_definitions_resolve_like_ntc():
    rows = expected_rows(P, "show_running-config_object_network_ntc.expected.yml")
    nat = "\n".join(f"object network {r['name']}\n nat (inside,outside) static 203.0.113.{i + 1}"
                    for i, r in enumerate(rows))
    cfg = cisco_asa.parse({"show running-config object network":
                           read_sample(P, "show_running-config_object_network_ntc.txt"),
                           "show running-config nat": nat})

    def address(r):
        if r["host"]:
            return r["host"]
        if r["network"] == "10.0.0.0":
            return "10.0.0.0/8"
        if r["network"]:
            return {"192.168.0.0": "192.168.0.0/24", "fd00::": "fd00::/8"}[r["network"]]
        return f"{r['start_ip']}-{r['end_ip']}" if r["start_ip"] else r["fqdn"]
    assert [(f.internal_ip, f.external_ip) for f in cfg.forwards] == \
        [(address(r), f"203.0.113.{i + 1}") for i, r in enumerate(rows)]
    assert cfg.warnings == [] and all(f.kind == "static_1to1" for f in cfg.forwards)


HAND_CONFIG = """\
: Saved
ASA Version 9.8(2)
!
hostname fw1
interface GigabitEthernet0/1.30
 vlan 30
 nameif voice
 security-level 100
 ip address 10.30.0.1 255.255.255.0
!
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.248
!
object network PBX
 host 10.30.0.5
object service SIP-REAL
 service udp source eq sip
object service SIP-MAPPED
 service udp source eq 5080
object service RTP
 service udp source range 10000 20000
object network PBX
 nat (inside,outside) static interface service udp 5060 5060
object network WEB
 host 10.30.0.6
 nat (inside,outside) static 198.51.100.3 service tcp https 8443
nat (inside,outside) source static PBX interface service SIP-REAL SIP-MAPPED inactive description old sip
nat (inside,outside) after-auto source static PBX 198.51.100.4 service RTP RTP
nat (inside,outside) source dynamic any interface
nat (inside,outside) source static PBX PBX destination static VPN VPN
access-list outside_in extended permit udp any host 10.30.0.5 eq sip
policy-map global_policy
 class inspection_default
  inspect ftp
  inspect sip
!
"""


def test_hand_written_object_and_twice_nat():
    cfg = cisco_asa.parse({"show running-config": HAND_CONFIG})
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_pat", "udp", "interface:outside", "outside", "5060", "10.30.0.5", "5060", True, 25, "PBX"),
        ("static_pat", "tcp", "198.51.100.3", "outside", "8443", "10.30.0.6", "443", True, 28, "WEB"),
        ("static_pat", "udp", "interface:outside", "outside", "5080", "10.30.0.5", "5060", False, 29,
         "nat PBX->interface"),
        ("static_pat", "udp", "198.51.100.4", "outside", "10000-20000", "10.30.0.5", "10000-20000", True,
         30, "nat PBX->198.51.100.4"),
    ]
    assert cfg.forwards[2].comment == "old sip"
    assert cfg.sip_alg.enabled is True and cfg.sip_alg.source_ref.line == 37
    assert (cfg.hostname, cfg.version) == ("fw1", "9.8(2)")
    assert [vlan_view(v) for v in cfg.vlans] == [(30, "voice", "GigabitEthernet0/1.30", "10.30.0.0/24", True)]
    assert {i.name: i.role for i in cfg.interfaces} == \
        {"GigabitEthernet0/1.30": "lan", "GigabitEthernet0/0": "wan"}
    assert cfg.warnings == []          # the identity NAT (VPN exemption) is no forward, VPN is not looked up


def test_policy_map_without_inspect_sip_means_alg_off():
    text = "policy-map global_policy\n class inspection_default\n  inspect ftp\n"
    cfg = cisco_asa.parse({"show running-config policy-map": text})
    assert cfg.sip_alg.enabled is False and "no 'inspect sip'" in cfg.sip_alg.detail
    assert cisco_asa.parse({"show nat": ""}).sip_alg.enabled is None


def test_bad_nat_lines_are_unparsed_with_line_numbers():
    text = "object network A\n host 10.0.0.1\n nat (inside outside) static 1.2.3.4\n" \
           "nat (inside,outside) source static A 1.2.3.5 service tcp nosuchsvc 80 frob\n"
    cfg = cisco_asa.parse({"show running-config": text})
    assert cfg.warnings == []
    assert [(u.line, u.construct, u.reason.split(":")[0]) for u in cfg.unparsed] == [
        (3, "nat", "object NAT line not understood"), (4, "nat", "unknown NAT words 'frob'"),
        (4, "nat", "NAT rule not modelled")]
    assert "'nosuchsvc'" in cfg.unparsed[2].reason
    assert cfg.forwards == []


def test_outside_to_inside_static_opens_nothing_and_interfaceless_static_is_kept():
    text = ("object network EXT\n host 198.51.100.9\nobject network EXT\n nat (outside,inside) static 10.0.0.9\n"
            "object network SRV\n host 10.0.0.5\nobject network SRV\n nat static 203.0.113.5\n")
    cfg = cisco_asa.parse({"show running-config": text})
    assert [(f.internal_ip, f.external_ip, f.external_if) for f in cfg.forwards] == [
        ("10.0.0.5", "203.0.113.5", None)]


def test_pasted_session_and_garbage():
    paste = "fw1# show xlate\n" + read_sample(P, "show_xlate_ntc.txt") + "\nfw1# show nat\n" + \
        read_sample(P, "show_nat_ntc.txt")
    cfg = cisco_asa.parse({"": paste})
    assert cfg.commands == ["show xlate", "show nat"] and len(cfg.forwards) == 17
    assert detect_platform(paste)[0] == "cisco_asa"
    with pytest.raises(ParseError):
        cisco_asa.parse({"show nat": "\x07\x08\x0b" * 50})
    with pytest.raises(ParseError, match="not recognised"):
        cisco_asa.parse({"show xlate": "<<<>>> ||| ~~~"})
