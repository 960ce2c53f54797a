"""OpenWrt parser: uci export/show firewall, network, upnpd, and fw4's nft ruleset."""
from __future__ import annotations

import json
import re

import pytest
from parser_b_helpers import FW3_SAVE, SAMPLES, line_text, sample, view

from firewall.exposure import inside_reason
from firewall.model import ParseError
from firewall.parsers import openwrt

PKLAUS = [  # (name, proto, external ports, internal ip, internal ports) in file order
    ("HTTP  -> UDOO nginx (Blog, URL Shortener)", "tcp", "80", "10.1.0.47", "80"),
    ("HTTPS -> UDOO nginx (Gogs)", "tcp", "443", "10.1.0.47", "443"),
    ("SSH   -> UDOO", "tcp", "17847", "10.1.0.47", "22"),
    ("Locus -> UDOO (Locus-Live-Tracking)", "tcp", "16748", "10.1.0.47", "16748"),
    ("ZNC   -> UDOO", "tcp", "11069", "10.1.0.47", "11069"),
    ("SMTP  -> UDOO", "tcp", "25", "10.1.0.47", "25"),
    ("HTTP-Reflector -> UDOO", "tcp", "46385", "10.1.0.47", "10101"),
    ("IPLogger -> UDOO", "tcp", "52321", "10.1.0.47", "52321"),
    ("SSH   -> GOFLEX", "tcp", "17842", "10.1.0.42", "22"),
    ("SSH   -> owl (via SMTP port 587)", "tcp", "587", "10.1.1.1", "22"),
    ("SSH   -> owl", "tcp", "17832", "10.1.1.1", "22"),
    ("SSH   -> Shark", "tcp", "22101", "10.1.0.1", "22"),
    ("SIP   -> fb7490", "udp", "5060", "10.1.0.223", "5060"),
    ("VoIP voice (RTP) -> fb7490", "udp", "5070-5079", "10.1.0.223", "5070-5079"),
    ("VoIP fax         -> fb7490", "udp", "30000-30019", "10.1.0.223", "30000-30019"),
    ("SSH   -> gogs", "tcp", "22", "10.1.0.45", "22"),
    ("Syncthing", "tcp", "22000", "10.1.0.46", "22000"),
]


def test_pklaus_firewall_redirects():
    text = sample("openwrt", "etc_config_firewall_pklaus.txt")
    cfg = openwrt.parse({"uci export firewall": text})
    got = [(f.comment, f.proto, view(f)[4], f.internal_ip, view(f)[6]) for f in cfg.forwards]
    assert got == PKLAUS
    assert all(f.kind == "dnat" and f.external_if == "zone:wan" and f.enabled for f in cfg.forwards)
    sip = cfg.forwards[12]
    assert (sip.source_ref.line, sip.source_ref.end_line, sip.source_ref.rule_id) == (349, 357, "firewall.@redirect[12]")
    assert line_text(text, 349) == "config redirect" and "option dest_ip '10.1.0.223'" in sip.source_ref.text
    assert cfg.warnings == [] and cfg.upnp.enabled is None


def test_stock_fw4_config_commented_redirects_are_ignored():
    cfg = openwrt.parse({"": sample("openwrt", "etc_config_firewall_default_fw4.txt")})
    assert cfg.forwards == [] and cfg.warnings == []


def test_pklaus_network_switch_vlans_and_interfaces():
    cfg = openwrt.parse({"uci export network": sample("openwrt", "etc_config_network_pklaus.txt")})
    assert [(v.vlan_id, v.name, v.member_ports, v.subnet, v.source_ref.line) for v in cfg.vlans] == [
        (1, "lan", ["0t", "2", "3", "4", "5"], "10.1.0.0/16", 63),
        (7, "wan", ["0t", "1t"], None, 69),
        (107, "modem_access", ["0t", "1"], "192.168.107.0/24", 75)]
    lan = next(i for i in cfg.interfaces if i.name == "lan")
    assert (lan.addresses, lan.vlan_id, lan.parent) == (["10.1.0.1/16"], 1, "eth0")
    assert cfg.warnings == []


def _fw4_case() -> tuple[dict, str]:
    text = sample("openwrt", "fw4_test_redirect_uci_and_nft.txt")
    uci = json.loads(re.search(r"-- File uci/firewall.json --\n(.*?)\n-- End --", text, re.S).group(1))
    stdout = re.search(r"-- Expect stdout --\n(.*?)\n-- End --", text, re.S).group(1)
    return uci, stdout


def test_fw4_print_matches_its_uci_input():
    uci, stdout = _fw4_case()
    cfg = openwrt.parse({"fw4 print": stdout})
    wan = {f.comment.removeprefix("!fw4: "): f for f in cfg.forwards if "reflection" not in f.comment}
    with_ip = [r for r in uci["redirect"] if r.get("dest_ip")]
    assert sorted(wan) == sorted(r["name"] for r in with_ip)     # redirects without dest_ip hit the router
    for redirect in with_ip:
        forward = wan[redirect["name"]]
        assert forward.internal_ip == redirect["dest_ip"]
        assert view(forward)[4] == redirect["src_dport"] and forward.proto == redirect["proto"]
    assert cfg.platform == "openwrt"


def test_uci_config_wins_over_fw4_duplicates():
    uci_text = ("config redirect\n\toption name 'Redirect test #3'\n\toption src 'wan'\n"
                "\toption proto 'tcp'\n\toption src_dport '22'\n\toption dest_ip '192.168.26.100'\n")
    _, stdout = _fw4_case()
    cfg = openwrt.parse({"uci export firewall": uci_text, "nft list ruleset": stdout})
    assert [f.source_ref.rule_id for f in cfg.forwards] == ["firewall.@redirect[0]"]


SHOW = """firewall.@zone[1]=zone
firewall.@zone[1].name='wan'
firewall.@zone[1].network='wan' 'wan6'
firewall.@zone[1].helper='sip'
firewall.@redirect[0]=redirect
firewall.@redirect[0].name='pbx sip'
firewall.@redirect[0].src='wan'
firewall.@redirect[0].src_dport='5060'
firewall.@redirect[0].dest_ip='192.168.1.20'
firewall.@redirect[0].dest_port='5060 '
firewall.@redirect[0].proto='tcp udp'
firewall.@redirect[0].src_ip='203.0.113.0/24'
firewall.web=redirect
firewall.web.src='wan'
firewall.web.src_dport='8080'
firewall.web.dest_ip='192.168.1.20'
firewall.web.dest_port='80'
firewall.web.proto='tcpudp'
firewall.web.enabled='0'
firewall.dmz=redirect
firewall.dmz.src='wan'
firewall.dmz.dest_ip='192.168.1.30'
firewall.dmz.proto='all'
firewall.dmz.wibble='1'
firewall.nat=redirect
firewall.nat.src='lan'
firewall.nat.src_dip='203.0.113.5'
firewall.nat.dest_ip='8.8.8.8'
firewall.nat.target='SNAT'
firewall.noproto=redirect
firewall.noproto.src_dport='143'
firewall.noproto.dest_ip='192.168.1.20'
"""


def test_uci_show_flat_form_semantics():
    cfg = openwrt.parse({"uci show firewall": SHOW})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "tcp_udp", "zone:wan", None, "5060", "192.168.1.20", "5060", True, "pbx sip"),
        ("dnat", "tcp_udp", "zone:wan", None, "8080", "192.168.1.20", "80", False, ""),
        ("dmz", "any", "zone:wan", None, None, "192.168.1.30", None, True, ""),
        ("dnat", "tcp_udp", None, None, "143", "192.168.1.20", None, True, ""),
    ]
    assert cfg.forwards[0].source_restriction == ["203.0.113.0/24"]
    assert [f.source_ref.rule_id for f in cfg.forwards] == [
        "firewall.@redirect[0]", "firewall.web", "firewall.dmz", "firewall.noproto"]
    assert cfg.forwards[1].source_ref.line == 13
    assert cfg.warnings == []
    assert [(u.line, u.construct, u.reason) for u in cfg.unparsed] == [(24, "nat", "unknown redirect option 'wibble'")]
    assert cfg.sip_alg.enabled is True


def test_upnpd_show_and_export():
    assert openwrt.parse({"uci show upnpd": "upnpd.config=upnpd\nupnpd.config.enabled='1'\n"}).upnp.enabled is True
    off = openwrt.parse({"uci export upnpd": "package upnpd\n\nconfig upnpd 'config'\n\toption enabled '0'\n"})
    assert off.upnp.enabled is False and off.upnp.source_ref.line == 3


def test_dsa_bridge_vlan_and_8021q_device():
    text = """config device
\toption name 'br-lan'
\toption type 'bridge'
\tlist ports 'lan1'
\tlist ports 'lan2'

config bridge-vlan
\toption device 'br-lan'
\toption vlan '10'
\tlist ports 'lan1:u*'
\tlist ports 'lan2:t'

config device
\toption type '8021q'
\toption ifname 'eth1'
\toption vid '30'
\toption name 'eth1.30'

config interface 'voice'
\toption device 'br-lan.10'
\toption proto 'static'
\toption ipaddr '10.10.10.1/24'

config interface 'cams'
\toption device 'eth1.30'
\toption ipaddr '10.30.0.1'
\toption netmask '255.255.255.0'
"""
    cfg = openwrt.parse({"uci export network": text})
    assert [(v.vlan_id, v.name, v.member_ports, v.subnet, v.voice) for v in cfg.vlans] == [
        (10, "voice", ["lan1:u*", "lan2:t"], "10.10.10.0/24", True),
        (30, "cams", ["eth1"], "10.30.0.0/24", False)]


def test_garbage_and_failed_commands():
    cfg = openwrt.parse({"uci export firewall": "config redirect\n\toption src 'wan'\nthis is junk\n"})
    assert [(w.line, w.text) for w in cfg.warnings] == [(3, "this is junk")]
    failed = openwrt.parse({"nft list ruleset": "ash: nft: not found\n"})
    assert failed.forwards == [] and "command failed" in failed.warnings[0].message
    with pytest.raises(ParseError):
        openwrt.parse({"uci export firewall": "just some words\n"})


def test_sniff():
    assert openwrt.sniff(sample("openwrt", "etc_config_firewall_pklaus.txt")) > 0.9
    assert openwrt.sniff(SHOW) > 0.9
    assert openwrt.sniff(sample("linux", "nft_ruleset_fw4_redirect.txt")) > 0.8
    assert openwrt.sniff(sample("linux", "iptables_lab_save.txt")) == 0.0


def test_fw3_iptables_duplicates_of_uci_redirects_are_dropped():
    uci_text = ("config redirect\n\toption name 'SIP -> fb7490'\n\toption src 'wan'\n\toption proto 'udp'\n"
                "\toption src_dport '5060'\n\toption dest_ip '10.1.0.223'\n\toption enabled '0'\n")
    cfg = openwrt.parse({"uci export firewall": uci_text, "iptables-save -t nat": FW3_SAVE})
    assert [(f.comment, f.enabled, f.source_ref.command) for f in cfg.forwards] == [
        ("SIP -> fb7490", False, "uci export firewall")]
    assert cfg.upnp.enabled is True


def test_redirect_ipset_resolved_to_its_entries_or_unparsed():
    text = ("config zone\n\toption name 'wan'\n\tlist network 'wan'\n\toption masq '1'\n\n"
            "config ipset\n\toption name 'carriers'\n\toption match 'src_ip'\n\tlist entry '198.51.100.0/24'\n"
            "\tlist entry '203.0.113.5'\n\n"
            "config redirect\n\toption src 'wan'\n\toption src_dport '5060'\n\toption proto 'udp'\n"
            "\toption dest_ip '10.0.0.5'\n\toption ipset 'carriers'\n\n"
            "config redirect\n\toption src 'guest'\n\toption src_dport '5061'\n\toption dest_ip '10.0.0.5'\n"
            "\toption ipset 'nosuch'\n")
    cfg = openwrt.parse({"uci export firewall": text})
    listed, unknown = cfg.forwards
    assert listed.source_restriction == ["198.51.100.0/24", "203.0.113.5"]
    assert unknown.source_restriction == ["ipset:nosuch"]
    assert sorted((u.line, u.construct) for u in cfg.unparsed) == [(20, "nat"), (23, "address_list")]
    roles = {i.name: i.role for i in cfg.interfaces}
    assert roles == {"zone:wan": "wan"}


def test_garbled_redirect_lines_are_unparsed_never_dropped():
    text = ("config redirect\n\toption src 'wan'\n\toption src_dport '22'\n\toption dest 'lan'\n"
            "\toption target 'DNTA'\n\toption proto 'tcpp'\n\toption dest_ip '10.0.0.x'\n")
    cfg = openwrt.parse({"uci export firewall": text})
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(5, "nat")] and cfg.forwards == []
    fixed = openwrt.parse({"uci export firewall": text.replace("DNTA", "DNAT")})
    assert [u.line for u in fixed.unparsed] == [6, 7]          # the protocol and the address, each named


CORPUS = SAMPLES.parent / "router-corpus" / "openwrt"


def test_uci_include_is_an_unread_nat_construct_with_its_line():
    text = (CORPUS / "firewall_config_fw3_default_openwrt.txt").read_text()
    cfg = openwrt.parse({"uci export firewall": text})
    assert [(u.construct, u.line, u.text) for u in cfg.unparsed] == [
        ("nat", 144, "config include\n\toption path /etc/firewall.user")]
    assert "'/etc/firewall.user' (type script)" in cfg.unparsed[0].reason
    assert cfg.sip_alg.enabled is None     # the detail naming the include is dropped by _fields.fold (reported)
    assert "/etc/firewall.user" in openwrt._uci("uci export firewall", text).sip_alg.detail
    disabled = text.replace("\toption path /etc/firewall.user", "\toption path /etc/firewall.user\n\toption enabled '0'")
    assert openwrt.parse({"uci export firewall": disabled}).unparsed == []


def test_uci_include_is_read_through_the_live_ruleset():
    include = "config include 'user'\n\toption path '/etc/nftables.d/10-voice.nft'\n\toption type 'nftables'\n"
    live = "table inet fw4 {\n\tchain dstnat {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t}\n}\n"
    cfg = openwrt.parse({"uci export firewall": include, "nft list ruleset": live})
    assert cfg.unparsed == [] and [w.line for w in cfg.warnings] == [1]
    assert "read from the live ruleset" in cfg.warnings[0].message
    printed = openwrt.parse({"uci export firewall": include, "fw4 print": live})    # fw4 print: not the kernel's
    assert [u.line for u in printed.unparsed] == [1]


FW4_ZONES = """table inet fw4 {
	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth1" jump dstnat_wan comment "!fw4: Handle wan IPv4/IPv6 dstnat traffic"
		iifname { "br-lan", "br-guest" } jump dstnat_lan comment "!fw4: Handle lan IPv4/IPv6 dstnat traffic"
	}
	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" jump srcnat_wan comment "!fw4: Handle wan IPv4/IPv6 srcnat traffic"
	}
	chain dstnat_wan {
		meta nfproto ipv4 udp dport 5060 counter dnat 192.168.1.10:5060 comment "!fw4: pbx-sip"
	}
	chain srcnat_wan {
		meta nfproto ipv4 masquerade comment "!fw4: Masquerade IPv4 wan traffic"
	}
	chain dstnat_lan {
		meta nfproto ipv4 tcp dport 8080 counter dnat 192.168.1.10:8080 comment "!fw4: lan-to-pbx-admin"
	}
}
"""


def test_fw4_ruleset_zone_roles_from_its_own_chains():
    cfg = openwrt.parse({"nft list ruleset": FW4_ZONES})
    assert [(f.comment, f.external_if) for f in cfg.forwards] == [
        ("!fw4: pbx-sip", "zone:wan"), ("!fw4: lan-to-pbx-admin", "zone:lan")]
    assert [inside_reason(f, cfg) for f in cfg.forwards] == ["", "bound to LAN interface zone:lan"]
    # without a masquerading (or wan-named) zone the WAN side is unknown: nothing is taken as inside
    unknown = FW4_ZONES.replace("meta nfproto ipv4 masquerade", "counter").replace("_wan", "_up")
    cfg = openwrt.parse({"nft list ruleset": unknown})
    assert [inside_reason(f, cfg) for f in cfg.forwards] == ["", ""]
    assert [f.external_if for f in cfg.forwards] == ["eth1", "br-lan,br-guest"]


def test_an_unread_include_keeps_the_sip_helper_undecided_with_its_reason_through_parse():
    """Through parse() (several outputs folded): the reason the SIP helper cannot be decided survives, and
    another output's silence ("off") does not hide it."""
    from firewall.parsers import parse
    uci = ("config include\n\toption path '/etc/firewall.user'\n\n"
           "config zone\n\toption name 'wan'\n\toption masq '1'\n\tlist network 'wan'\n")
    config = parse("openwrt", {"uci export firewall": uci})
    assert config.sip_alg.enabled is None and "/etc/firewall.user" in config.sip_alg.detail
