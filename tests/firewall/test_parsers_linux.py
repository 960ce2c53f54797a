"""Linux parser: nftables (JSON and text), iptables (save, -S, list view), iproute2, pgrep."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest
from parser_b_helpers import FW3_SAVE, SAMPLES, line_text, sample, view

from firewall.exposure import internet_facing
from firewall.model import ParseError
from firewall.parsers import linux, nftables

LAB_FORWARDS = [
    ("dnat", "tcp", "wan0", None, "8080", "10.77.1.20", "8080", True, "fwd-pbx-http"),
    ("dnat", "udp", "wan0", None, "5060", "10.77.1.20", "5060", True, "fwd-pbx-sip"),
    ("dnat", "tcp", "wan0", None, "143", "10.77.1.20", "143", True, "fwd-pbx-imap"),
    ("dnat", "tcp", "wan0", None, "22", "10.77.1.20", "22", True, "fwd-pbx-ssh-restricted"),
    ("dnat", "tcp", "wan0", None, "80,443,5061", "10.77.1.20", None, True, "fwd-pbx-web-set"),
    ("dnat", "udp", "wan0", None, "10000-20000", "10.77.1.20", None, True, "fwd-pbx-rtp-range"),
    ("dnat", "tcp_udp", "wan0", "192.0.2.1", "2088", "10.77.1.20", "2088", True, "fwd-pbx-2088-jumped"),
    ("dnat", "tcp", "wan0", None, "8000-8009", "10.77.1.30", "9000-9009", True, "fwd-port-range-map"),
]
LAB_HANDLES = ["6", "7", "8", "9", "11", "12", "15", "16"]


def test_nft_json_lab_forwards_handles_and_sip_helper():
    cfg = linux.parse({"nft -j list ruleset": sample("linux", "nft_lab_json.txt")})
    assert [view(f) for f in cfg.forwards] == LAB_FORWARDS
    chains = ["prerouting"] * 6 + ["wan_dnat"] * 2
    assert [f.source_ref.rule_id for f in cfg.forwards] == [
        f"ip portfwd {c} handle {h}" for c, h in zip(chains, LAB_HANDLES)]
    restricted = cfg.forwards[3]
    assert restricted.source_restriction == ["198.51.100.0/24"]
    assert all(f.source_restriction is None for f in cfg.forwards if f is not restricted)
    assert json.loads(cfg.forwards[0].source_ref.text)["comment"] == "fwd-pbx-http"
    assert cfg.sip_alg.enabled is True and "sip-5060" in cfg.sip_alg.detail
    assert cfg.warnings == []


@pytest.mark.parametrize("name", ["nft_lab_text.txt", "nft_lab_text_handles.txt"])
def test_nft_text_lab_matches_json(name):
    text = sample("linux", name)
    cfg = linux.parse({"nft list ruleset": text})
    assert [view(f) for f in cfg.forwards] == LAB_FORWARDS
    for forward in cfg.forwards:
        assert f'comment "{forward.comment}"' in line_text(text, forward.source_ref.line)
    if "handles" in name:
        assert [f.source_ref.rule_id.split()[-1] for f in cfg.forwards] == LAB_HANDLES
    assert cfg.sip_alg.enabled is True and cfg.warnings == []


def test_fw4_ruleset_inherits_jump_interface_and_skips_redirects():
    text = sample("linux", "nft_ruleset_fw4_redirect.txt")
    cfg = linux.parse({"": text})
    assert [view(f)[1:7] for f in cfg.forwards] == [
        ("tcp", "zone:wan", None, "22", "192.168.26.100", "22"),
        ("tcp", "zone:wan", None, "23", "192.168.26.100", "23"),
        ("tcp", "zone:wan", None, "25", "2001:db8:1000:1::1234", "25"),
        ("tcp", "zone:lan", "10.11.12.194", "22", "192.168.26.100", "22"),
        ("tcp", "zone:lan", "10.11.12.194", "23", "192.168.26.100", "23"),
        ("tcp", "zone:lan", "2001:db8:54:321::2", "25", "2001:db8:1000:1::1234", "25"),
        ("tcp", "zone:noaddr", None, "24", "192.168.26.100", "24"),
    ]
    # zones from fw4's own chains: srcnat_wan and srcnat_noaddr masquerade, srcnat_lan only SNATs reflection
    assert {(i.name, i.role) for i in cfg.interfaces} == {("zone:wan", "wan"), ("zone:lan", "lan"),
                                                          ("zone:noaddr", "wan")}
    assert [internet_facing(f, cfg) for f in cfg.forwards] == [True] * 3 + [False] * 3 + [True]
    assert [f.source_ref.line for f in cfg.forwards] == [160, 161, 162, 175, 176, 177, 187]
    assert cfg.forwards[3].source_restriction == ["10.0.0.0/24", "192.168.26.0/24"]
    assert cfg.forwards[0].comment == "!fw4: Redirect test #3"
    assert all("redirect to" not in f.source_ref.text for f in cfg.forwards)
    # fw4 prints `include "/etc/nftables.d/*.nft"`: that unread file can define and assign a ct helper
    assert cfg.sip_alg.enabled is None and cfg.warnings == []
    assert "include '/etc/nftables.d/*.nft' was not read" in nftables.parse_text(text).sip_alg.detail


IPT_LAB = [
    ("upnp_dynamic", "udp", "wan0", None, "2088", "10.77.1.20", "2088", True, ""),
    ("dnat", "tcp", "wan0", None, "8080", "10.77.1.20", "80", True, "pbx web ui"),
    ("dnat", "udp", "!br-lan", None, "5060", "10.77.1.20", None, True, ""),
    ("dnat", "tcp", "wan0", None, "22,143,993", "10.77.1.20", None, True, ""),
    ("dnat", "udp", "wan0", "192.0.2.1/32", "10000-20000", "10.77.1.20", "10000-20000", True, ""),
]


def test_iptables_save_lab_follows_jumps_miniupnpd_and_raw_helper():
    text = sample("linux", "iptables_lab_save.txt")
    cfg = linux.parse({"iptables-save": text})
    assert [view(f) for f in cfg.forwards] == IPT_LAB
    assert cfg.forwards[3].source_restriction == ["198.51.100.0/24"]
    assert [f.source_ref.rule_id for f in cfg.forwards] == [
        "nat MINIUPNPD 1", "nat PORTFWD 1", "nat PORTFWD 2", "nat PORTFWD 3", "nat PORTFWD 4"]
    assert "--to-destination 10.77.1.20:80" in line_text(text, cfg.forwards[1].source_ref.line)
    assert cfg.upnp.enabled is True and "MINIUPNPD" in cfg.upnp.detail
    assert cfg.sip_alg.enabled is True and cfg.sip_alg.source_ref.rule_id == "raw PREROUTING 1"


@pytest.mark.parametrize("command,name", [("iptables -t nat -S", "iptables_lab_nat_S.txt"),
                                          ("iptables -t nat -vnL --line-numbers", "iptables_lab_nat_list.txt")])
def test_iptables_other_views_agree_with_save(command, name):
    cfg = linux.parse({command: sample("linux", name)})
    got = [view(f) for f in cfg.forwards]
    if "vnL" in command:                                   # the list view prints -d without /32
        got[4] = got[4][:3] + ("192.0.2.1/32",) + got[4][4:]
    assert got == IPT_LAB
    assert cfg.upnp.enabled is True and cfg.warnings == []


@pytest.mark.parametrize("command,name,line", [
    ("iptables -t nat -S", "iptables_nat_S_docker_portmap_moby.txt", 12),
    ("iptables -vL --line-numbers -t nat", "iptables_nat_list_docker_portmap_moby.txt", 21)])
def test_docker_portmap_samples(command, name, line):
    cfg = linux.parse({command: sample("linux", name)})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "tcp", "!bridge1", None, "8080", "192.0.2.2", "80", True, "")]
    assert cfg.forwards[0].source_ref.line == line and cfg.forwards[0].source_ref.rule_id == "nat DOCKER 3"
    assert cfg.forwards[0].internal_port_for(8080) == 80
    assert cfg.warnings == []


def test_nft_json_of_iptables_nft_rules_defers_to_iptables_save():
    nft_only = linux.parse({"nft -j list ruleset": sample("linux", "nft_lab_iptables_nft_json.txt")})
    assert nft_only.forwards == []
    assert sum("only readable with iptables-save" in w.message for w in nft_only.warnings) == 5
    assert nft_only.sip_alg.enabled is None
    both = linux.parse({"nft -j list ruleset": sample("linux", "nft_lab_iptables_nft_json.txt"),
                        "iptables-save": sample("linux", "iptables_lab_save.txt")})
    assert [view(f) for f in both.forwards] == IPT_LAB
    assert both.warnings == [] and both.sip_alg.enabled is True


def test_ip_addr_text_vlan_subinterface_and_junk_lines():
    cfg = linux.parse({"ip addr": sample("linux", "ip_addr_vlan_subif_insights.txt")})
    assert [i.name for i in cfg.interfaces] == ["lo", "eth7", "tunl0", "tunl1", "bond1.57", "ip.tun2"]
    bond = cfg.interfaces[4]
    assert (bond.vlan_id, bond.parent, len(bond.addresses)) == (57, "bond1", 3)
    assert [(v.vlan_id, v.subnet, v.interface, v.source_ref.line) for v in cfg.vlans] == [
        (57, "10.192.4.160/27", "bond1.57", 16)]
    assert cfg.interfaces[3].addresses == ["172.30.0.1/32"]
    assert [(w.line, w.text) for w in cfg.warnings] == [(n, "Message truncated") for n in (1, 2, 3)]


def test_ip_json_lab_interfaces_and_veth_is_not_a_vlan():
    cfg = linux.parse({"ip -j -d addr show": sample("linux", "ip_lab_addr_json.txt")})
    addresses = {i.name: i.addresses for i in cfg.interfaces}
    assert addresses["br-lan"] == ["10.77.1.1/24"] and addresses["wan0"] == ["192.0.2.1/24"]
    assert cfg.vlans == [] and cfg.warnings == []


def test_ip_detail_vlan_text_and_json():
    text = ("7: eth0.100@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
            "    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff promiscuity 0\n"
            "    vlan protocol 802.1Q id 100 <REORDER_HDR> addrgenmode eui64\n"
            "    inet 10.20.100.1/24 brd 10.20.100.255 scope global eth0.100\n"
            "8: voice@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
            "    vlan protocol 802.1Q id 20 <REORDER_HDR>\n")
    cfg = linux.parse({"ip -d addr show": text})
    assert [(v.vlan_id, v.subnet, v.voice) for v in cfg.vlans] == [(20, None, True), (100, "10.20.100.0/24", False)]
    links = [{"ifindex": 8, "link": "eth0", "ifname": "voice",
              "linkinfo": {"info_kind": "vlan", "info_data": {"protocol": "802.1Q", "id": 20}},
              "addr_info": [{"family": "inet", "local": "10.20.0.1", "prefixlen": 24}]}]
    cfg = linux.parse({"ip -j -d addr show": json.dumps(links)})
    assert [(v.vlan_id, v.subnet, v.voice, v.interface) for v in cfg.vlans] == [(20, "10.20.0.0/24", True, "voice")]


def test_pgrep_miniupnpd_running_or_not():
    on = linux.parse({"pgrep -a miniupnpd": "1234 /usr/sbin/miniupnpd -f /var/etc/miniupnpd.conf\n"})
    assert on.upnp.enabled is True and "miniupnpd" in on.upnp.source_ref.text
    off = linux.parse({"pgrep -a miniupnpd": ""})
    assert off.upnp.enabled is False


def test_unknown_word_in_dnat_rule_is_unparsed_with_line():
    text = ("table ip t {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            "\t\tiifname \"wan0\" tcp dport 5060 frobnicate 7 dnat to 10.0.0.5\n\t}\n}\n")
    cfg = linux.parse({"nft list ruleset": text})
    assert [view(f)[4:6] for f in cfg.forwards] == [("5060", "10.0.0.5")]
    assert [(u.line, u.construct, "frobnicate" in u.reason) for u in cfg.unparsed] == [(4, "nat", True)]
    assert cfg.warnings == []


def test_errors_are_parse_errors_or_warnings():
    with pytest.raises(ParseError, match="invalid JSON: Expecting"):
        linux.parse({"nft -j list ruleset": '{"nftables": [{"table": {'})
    with pytest.raises(ParseError, match="not recognised"):
        linux.parse({"": "hello world\nthis is not router output\n"})
    with pytest.raises(ParseError, match="not closed"):
        linux.parse({"nft list ruleset": "table ip t {\n\tchain c {\n"})
    cfg = linux.parse({"nft -j list ruleset": "bash: nft: command not found\n"})
    assert cfg.forwards == [] and "command failed" in cfg.warnings[0].message


def test_sniff_prefers_the_right_shapes():
    assert linux.sniff(sample("linux", "nft_lab_json.txt")) > 0.9
    assert linux.sniff(sample("linux", "iptables_lab_save.txt")) > 0.8
    assert linux.sniff(sample("linux", "ip_addr_vlan_subif_insights.txt")) > 0.5
    assert linux.sniff(sample("vyos", "show_configuration_commands_nat_basic.txt")) == 0.0


def _root_with_nft() -> bool:
    return os.geteuid() == 0 and shutil.which("nft") is not None and shutil.which("ip") is not None


@pytest.mark.skipif(not _root_with_nft(), reason="live nftables test needs root, nft and ip (netns)")
def test_live_nft_json_in_a_namespace():
    ns = f"hltestfix{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", str(SAMPLES / "linux" / "nft_lab_ruleset.nft")],
                       check=True, timeout=10)
        out = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"], check=True,
                             capture_output=True, text=True, timeout=10).stdout
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
    cfg = linux.parse({"nft -j list ruleset": out})
    assert [view(f) for f in cfg.forwards] == LAB_FORWARDS
    assert all(f.source_ref.rule_id.split()[-2] == "handle" for f in cfg.forwards)



def test_fw3_zone_chains_inherit_the_interface_and_hook_miniupnpd():
    cfg = linux.parse({"iptables-save -t nat": FW3_SAVE})
    assert [view(f) for f in cfg.forwards] == [
        ("dnat", "udp", "pppoe-wan", None, "5060", "10.1.0.223", "5060", True, "!fw3: SIP -> fb7490"),
        ("dnat", "tcp", "pppoe-wan", None, "27166-27168", "10.1.0.5", "8083-8085", True, "!fw3: game")]
    assert cfg.forwards[1].internal_port_for(27167) == 8084
    assert cfg.upnp.enabled is True and cfg.upnp.source_ref.line == 12


IP6_SAVE = """# Generated by ip6tables-save v1.8.9 on Tue Jan  2 10:00:00 2024
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:wan_in - [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
-A FORWARD -i eth0 -j wan_in
-A wan_in -d 2001:db8:10::20/128 -p udp -m udp --dport 5060 -j ACCEPT
-A wan_in -s 2001:db8:99::/48 -d 2001:db8:10::20/128 -p tcp -m tcp --dport 22 -j ACCEPT
-A wan_in ! -d 2001:db8:10::21/128 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
"""


def test_ip6tables_forward_accepts_to_an_inside_host_are_pinholes():
    cfg = linux.parse({"ip6tables-save": IP6_SAVE})
    assert [(view(f)[:7], f.source_restriction, f.source_ref.line) for f in cfg.forwards] == [
        (("ipv6_pinhole", "udp", "eth0", None, "5060", "2001:db8:10::20", None), None, 10),
        (("ipv6_pinhole", "tcp", "eth0", None, "22", "2001:db8:10::20", None), ["2001:db8:99::/48"], 11)]
    assert cfg.unparsed == [] and cfg.warnings == []
    # the same rules in IPv4 iptables-save: the filter table is not read (IPv4 forwards need DNAT)
    v4 = IP6_SAVE.replace("ip6tables-save", "iptables-save").replace("2001:db8:10::20/128", "10.0.0.20/32")
    assert linux.parse({"iptables-save": v4}).forwards == []
