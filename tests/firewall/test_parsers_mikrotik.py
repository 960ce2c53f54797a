"""MikroTik RouterOS parser: print outputs (checked against ntc expectations), exports, hand inputs."""
from __future__ import annotations

import pytest
from parser_a_helpers import expected_rows, fwd, nth_line, read_sample, vlan_view

from firewall.model import ParseError, RouterConfig
from firewall.parsers import detect_platform, mikrotik
from firewall.parsers._text import numbered_lines

P = "mikrotik"
NTC_KEYS = ["chain", "action", "to_addresses", "to_ports", "protocol", "src_address", "dst_address",
            "src_address_list", "dst_address_list", "in_interface", "in_interface_list",
            "out_interface", "out_interface_list", "src_port", "dst_port", "log", "log_prefix",
            "ipsec_policy"]


def test_nat_print_entries_match_ntc_and_make_no_forward():
    text = read_sample(P, "ip_firewall_nat_print_ntc.txt")
    command = "/ip firewall nat print all without-paging"
    _, entries = mikrotik.print_entries(RouterConfig("mikrotik_routeros"), command, numbered_lines(text))
    rows = expected_rows(P, "ip_firewall_nat_print_ntc.expected.yml")
    assert [(e.index, e.flags, e.comment) for e in entries] == \
        [(r["index"], r["flags"], r["comment"]) for r in rows]
    for entry, row in zip(entries, rows):
        assert {k: entry.kv.get(k.replace("_", "-"), "") for k in NTC_KEYS} == {k: row[k] for k in NTC_KEYS}
    cfg = mikrotik.parse({command: text})
    assert cfg.forwards == []          # srcnat rules and a dstnat redirect to the router itself
    assert cfg.warnings == []          # the interleaved console log lines are known noise
    assert [e.block[0][0] for e in entries] == [3, 6, 8, 12, 14]


def test_vlan_print_matches_ntc():
    text = read_sample(P, "interface_vlan_print_detail_ntc.txt")
    cfg = mikrotik.parse({"/interface vlan print detail": text})
    rows = expected_rows(P, "interface_vlan_print_detail_ntc.expected.yml")
    assert [(v.vlan_id, v.interface, v.name) for v in cfg.vlans] == sorted(
        (int(r["vlan_id"]), r["name"], (r["description"] or [r["name"]])[0]) for r in rows)
    assert {i.name: i.parent for i in cfg.interfaces} == {r["name"]: r["parent_interface"] for r in rows}
    assert cfg.vlans[0].source_ref.line == 2 and cfg.vlans[0].source_ref.end_line == 3
    assert cfg.warnings == []


def test_export_bridge_vlans_subnets_and_defaults():
    cfg = mikrotik.parse({"/export": read_sample(P, "export_bridge_vlan_kegly.txt")})
    assert [vlan_view(v) for v in cfg.vlans] == [(10, "vlan10", "vlan10", "192.168.10.0/24", False),
                                                  (20, "vlan20", "vlan20", "192.168.20.0/24", False)]
    assert cfg.vlans[0].member_ports == ["ether2", "bridge1"] and cfg.vlans[0].source_ref.line == 9
    assert (cfg.hostname, cfg.version) == ("r01", "6.47.9")
    assert cfg.sip_alg.enabled is True and "platform default" in cfg.sip_alg.detail
    assert cfg.upnp.enabled is False and "platform default" in cfg.upnp.detail
    assert cfg.forwards == [] and cfg.warnings == []


def test_v7_script_dstnat_inside_if_block():
    text = read_sample(P, "firewall_dstnat_script_oenik.txt")
    cfg = mikrotik.parse({"": text})
    assert [fwd(f) for f in cfg.forwards] == [
        ("dnat", "tcp", None, "ether1", "443", "192.168.11.11", "443", True, 25, "0")]
    assert cfg.forwards[0].comment == "Server HTTPS"
    assert cfg.forwards[0].source_ref.text == nth_line(text, 25)
    assert cfg.warnings == [] and cfg.sip_alg.enabled is None       # not a full export


HAND_EXPORT = """\
# jan/02/2024 10:00:00 by RouterOS 7.12
/ip firewall nat
add action=masquerade chain=srcnat out-interface-list=WAN
add action=dst-nat chain=dstnat comment="PBX SIP" dst-port=5060 in-interface-list=WAN \\
    protocol=udp to-addresses=192.168.88.10
add action=dst-nat chain=dstnat comment="old RTP" disabled=yes dst-port=10000-20000 \\
    protocol=udp to-addresses=192.168.88.10 src-address=203.0.113.0/24
add action=dst-nat chain=dstnat comment=dmz in-interface=ether1 to-addresses=192.168.88.20
add action=dst-nat chain=dstnat dst-port=8080 protocol=tcp to-addresses=192.168.88.30 to-ports=80
add action=dst-nat chain=dstnat dst-port=!22 protocol=tcp to-addresses=192.168.88.30
frobnicate everything
/ip firewall service-port
set sip disabled=yes
/ip upnp
set enabled=yes
"""


def test_hand_written_export_disabled_dmz_and_features():
    cfg = mikrotik.parse({"/export": HAND_EXPORT})
    assert [fwd(f) for f in cfg.forwards] == [
        ("dnat", "udp", None, "WAN", "5060", "192.168.88.10", None, True, 4, "1"),
        ("dnat", "udp", None, None, "10000-20000", "192.168.88.10", None, False, 6, "2"),
        ("dmz", "any", None, "ether1", None, "192.168.88.20", None, True, 8, "3"),
        ("dnat", "tcp", None, None, "8080", "192.168.88.30", "80", True, 9, "4"),
    ]
    assert cfg.forwards[1].source_restriction == ["203.0.113.0/24"]
    assert cfg.forwards[1].source_ref.end_line == 7
    assert cfg.warnings == []
    assert [(u.line, u.construct, u.reason) for u in cfg.unparsed] == [
        (10, "nat", "rule not understood: negated dst-port is not modelled"),
        (11, "nat", "rule not understood: unknown command under /ip firewall nat")]
    assert cfg.unparsed[0].text == nth_line(HAND_EXPORT, 10)
    assert cfg.sip_alg.enabled is False and cfg.sip_alg.source_ref.line == 13
    assert cfg.upnp.enabled is True and cfg.version == "7.12"


HAND_PRINT = """\
Flags: X - disabled, I - invalid, D - dynamic
 0    ;;; PBX
      chain=dstnat action=dst-nat to-addresses=192.168.88.10 to-ports=5060 protocol=udp
      in-interface=ether1 dst-port=5060 log=no log-prefix=""
 1 X  chain=dstnat action=dst-nat to-addresses=192.168.88.11 protocol=tcp dst-port=2088
 2  D ;;; upnp 192.168.88.12: sip
      chain=dstnat action=dst-nat to-addresses=192.168.88.12 to-ports=5062 protocol=udp
      dst-address=198.51.100.7 dst-port=5062
"""


def test_hand_written_print_disabled_and_dynamic_rules():
    cfg = mikrotik.parse({"/ip firewall nat print detail without-paging": HAND_PRINT})
    assert [fwd(f) for f in cfg.forwards] == [
        ("dnat", "udp", None, "ether1", "5060", "192.168.88.10", "5060", True, 2, "0"),
        ("dnat", "tcp", None, None, "2088", "192.168.88.11", None, False, 5, "1"),
        ("upnp_dynamic", "udp", "198.51.100.7", None, "5062", "192.168.88.12", "5062", True, 6, "2"),
    ]
    assert cfg.forwards[0].comment == "PBX" and cfg.forwards[0].source_ref.end_line == 4


def test_upnp_and_service_port_prints():
    upnp = mikrotik.parse({"/ip upnp print": "  enabled: yes\n  allow-disable-external-interface: no\n"})
    assert upnp.upnp.enabled is True and upnp.upnp.source_ref.line == 1
    table = ("Flags: X - disabled, I - invalid\n #   NAME    PORTS\n 0   ftp     21\n"
             " 1 X sip     5060 5061\n 2   pptp\n")
    ports = mikrotik.parse({"/ip firewall service-port print": table})
    assert ports.sip_alg.enabled is False and ports.sip_alg.source_ref.line == 4
    on = mikrotik.parse({"": table.replace(" 1 X sip", " 1   sip")})
    assert on.sip_alg.enabled is True


def test_garbage_is_refused_and_sniff_recognises_samples():
    with pytest.raises(ParseError):
        mikrotik.parse({"/ip firewall nat print": "Flags: X\n" + "\x00" * 10})
    with pytest.raises(ParseError, match="not recognised"):
        mikrotik.parse({"/ip firewall nat export": "+++ !!! ***"})
    with pytest.raises(ParseError, match="not recognised"):
        mikrotik.parse({"": "hello there\nthis is prose\n"})
    bad = mikrotik.parse({"/ip firewall nat print": "bad command name print (line 1 column 5)"})
    assert bad.warnings[0].message == "the device rejected this command"
    for name in ("ip_firewall_nat_print_ntc.txt", "export_bridge_vlan_kegly.txt",
                 "firewall_dstnat_script_oenik.txt", "interface_vlan_print_detail_ntc.txt"):
        assert detect_platform(read_sample(P, name))[0] == "mikrotik_routeros", name


def test_address_pool_is_kept_as_a_range():
    text = "/ip firewall nat\nadd action=dst-nat chain=dstnat dst-port=5060 protocol=udp " \
           "to-addresses=192.168.88.10-192.168.88.11\n"
    cfg = mikrotik.parse({"/ip firewall nat export": text})
    assert cfg.forwards[0].internal_ip == "192.168.88.10-192.168.88.11"


def test_an_escaped_comment_reads_as_the_router_holds_it():
    """RouterOS export writes `"` as \\", `$` as \\$ and non-ASCII as \\XX bytes; the plan's diff must show
    the comment the router holds (a planted one included), not its escaped spelling."""
    from firewall.parsers import parse
    line = ('/ip firewall nat\nadd action=dst-nat chain=dstnat comment="a \\"q\\" \\$x \\C3\\A9 \\"] ; /user add" '
            'dst-port=5060 protocol=udp to-addresses=192.168.88.20 to-ports=5060\n')
    config = parse("mikrotik_routeros", {"/export": line})
    (fwd,) = config.forwards
    assert fwd.comment == 'a "q" $x é "] ; /user add' and fwd.internal_ip == "192.168.88.20"


def test_a_rule_line_holding_script_is_unparsed_not_guessed():
    from firewall.parsers import parse
    line = '/ip firewall nat\nadd action=dst-nat chain=dstnat dst-port=$port protocol=tcp to-addresses=192.168.88.20\n'
    config = parse("mikrotik_routeros", {"/export": line})
    assert config.forwards == [] and [u.construct for u in config.unparsed] == ["nat"]
