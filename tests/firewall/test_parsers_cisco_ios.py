"""Cisco IOS parser against the public samples (and their ntc expectations) and small hand inputs."""
from __future__ import annotations

import pytest
from parser_a_helpers import expected_rows, fwd, nth_line, read_sample, vlan_view

from firewall.model import ParseError
from firewall.parsers import cisco_ios, detect_platform

P = "cisco_ios"
GI = "GigabitEthernet0/1"
PYNENG = [  # (line, local ip, local port, global port) as written in the sample
    (1, "10.66.0.13", 995, 995), (2, "10.66.0.21", 20065, 20065), (3, "10.66.0.22", 443, 44443),
    (4, "10.66.0.23", 2565, 2565), (5, "10.1.2.28", 563, 563), (6, "10.98.1.1", 3389, 3389),
    (7, "10.14.1.15", 12220, 12220), (8, "10.14.1.169", 25565, 25565), (9, "10.66.0.26", 220, 220),
    (10, "10.66.37.11", 80, 8080), (11, "10.66.37.13", 10995, 10995), (12, "10.1.2.84", 22, 20022),
    (13, "10.1.2.66", 22, 20023), (14, "10.1.2.63", 80, 80),
]


def parse_sample(name: str, command: str = ""):
    return cisco_ios.parse({command: read_sample(P, name)})


def test_pyneng_interface_static_forwards():
    cfg = parse_sample("ip_nat_static_tcp_interface_pyneng.txt",
                       "show running-config | include ip nat inside source static")
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_pat", "tcp", f"interface:{GI}", GI, str(g), ip, str(lp), True, n, f"tcp {ip}:{lp}")
        for n, ip, lp, g in PYNENG]
    text = read_sample(P, "ip_nat_static_tcp_interface_pyneng.txt")
    assert all(f.source_ref.text == nth_line(text, f.source_ref.line) for f in cfg.forwards)
    web = cfg.forwards[9]
    assert web.internal_port_for(8080) == 80 and web.internal_port_for(80) is None
    assert cfg.warnings == []
    assert cfg.sip_alg.enabled is True and "platform default" in cfg.sip_alg.detail


def test_margrave_running_config_forwards_roles_and_svi():
    cfg = parse_sample("running_config_nat_static_margrave.txt")
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_pat", "tcp", "209.172.108.16", None, p, "192.168.2.6", p, True, line, f"tcp 192.168.2.6:{p}")
        for line, p in ((21, "80"), (22, "21"), (23, "3389"))]
    ifaces = {i.name: (i.role, i.addresses) for i in cfg.interfaces}
    assert ifaces == {"FastEthernet0": ("wan", ["209.172.108.16/27"]),
                      "Vlan1": ("lan", ["192.168.2.1/24"])}
    assert [vlan_view(v) for v in cfg.vlans] == [(1, "", "Vlan1", "192.168.2.0/24", False)]
    assert cfg.vlans[0].source_ref.line == 11
    assert cfg.warnings == []     # the overload / list lines are known PAT, not forwards


def test_nat_translations_static_entries_only():
    name = "show_ip_nat_translations_ntc"
    cfg = parse_sample(f"{name}.txt", "show ip nat translations")
    rows = expected_rows(P, f"{name}.expected.yml")
    statics = [r for r in rows if r["outside_global_ip"] == "---" and r["protocol"] != "icmp"]
    assert [(f.external_ip, f.internal_ip) for f in cfg.forwards] == \
        [(r["inside_global_ip"], r["inside_local_ip"]) for r in statics]
    assert [fwd(f) for f in cfg.forwards] == [
        ("runtime_translation", "tcp", "100.95.3.180", None, "8080", "192.168.1.12", "80", True, 6,
         "100.95.3.180:8080"),
        ("runtime_translation", "any", "10.9.0.0", None, None, "10.1.0.2", None, True, 8, "10.9.0.0"),
    ]
    assert cfg.warnings == []


def test_show_vlan_matches_ntc_expectation():
    cfg = parse_sample("show_vlan_ntc.txt", "show vlan")
    rows = expected_rows(P, "show_vlan_ntc.expected.yml")
    assert [(v.vlan_id, v.name, v.member_ports) for v in cfg.vlans] == \
        [(int(r["vlan_id"]), r["vlan_name"], r["interfaces"]) for r in rows]
    assert cfg.vlans[2].source_ref.line == 5 and cfg.vlans[2].source_ref.end_line == 6
    assert not any(v.voice for v in cfg.vlans) and cfg.warnings == []


@pytest.mark.parametrize("name", ["show_interfaces_switchport_voice_vlan_ntc",
                                  "show_interfaces_switchport_no_voice_ntc"])
def test_switchports_match_ntc_expectation(name):
    cfg = parse_sample(f"{name}.txt", "show interfaces switchport")
    rows = expected_rows(P, f"{name}.expected.yml")

    def number(value):
        return int(value) if value.isdigit() else None
    assert [(s.name, s.access_vlan, s.voice_vlan, s.mode) for s in cfg.switchports] == [
        (r["interface"], number(r["access_vlan"]), number(r["voice_vlan"]),
         r["admin_mode"].replace("static ", "")) for r in rows]
    voice_ids = sorted({int(r["voice_vlan"]) for r in rows if r["voice_vlan"].isdigit()})
    assert [v.vlan_id for v in cfg.vlans if v.voice] == voice_ids
    assert cfg.warnings == []


def test_voice_vlan_names_and_lines():
    cfg = parse_sample("show_interfaces_switchport_voice_vlan_ntc.txt", "show interfaces switchport")
    assert [vlan_view(v) for v in cfg.vlans] == [(99, "VoIP-TeleMed", None, None, True),
                                                  (200, "Voice", None, None, True)]
    assert cfg.vlans[1].source_ref.line == 11 and cfg.vlans[1].source_ref.text == "Voice VLAN: 200 (Voice)"
    assert len(cfg.switchports) == 52 and cfg.switchports[0].source_ref.line == 1


def test_dot1q_vlans_and_ip_brief_match_ntc():
    cfg = parse_sample("show_vlans_dot1q_subif_ntc.txt", "show vlans")
    rows = expected_rows(P, "show_vlans_dot1q_subif_ntc.expected.yml")
    assert [(v.vlan_id, v.interface) for v in cfg.vlans] == \
        [(int(r["vlan_id"]), r["interfaces"][0]) for r in rows]
    assert [v.source_ref.line for v in cfg.vlans] == [1, 14]
    brief = parse_sample("show_ip_interface_brief_ntc.txt", "show ip interface brief")
    rows = expected_rows(P, "show_ip_interface_brief_ntc.expected.yml")
    assert [(i.name, i.addresses) for i in brief.interfaces] == [
        (r["interface"], [] if r["ip_address"] == "unassigned" else [r["ip_address"]]) for r in rows]
    assert brief.interfaces[1].parent == "Ethernet0/0"


@pytest.mark.parametrize("name", ["show_version_c1801_ntc", "show_version_isr_iosxe_ntc"])
def test_show_version_matches_ntc(name):
    cfg = parse_sample(f"{name}.txt", "show version")
    row = expected_rows(P, f"{name}.expected.yml")[0]
    assert (cfg.hostname, cfg.version) == (row["hostname"], row["version"])


HAND_CONFIG = """\
hostname edge1
!
interface Dialer0
 ip address negotiated
 ip nat outside
!
interface GigabitEthernet0/1.20
 description Voice VLAN
 encapsulation dot1Q 20
 ip address 10.20.0.1 255.255.255.0
 ip nat inside
!
interface GigabitEthernet0/2
 switchport mode access
 switchport access vlan 10
 switchport voice vlan 20
!
ip nat inside source static udp 10.20.0.5 5060 interface Dialer0 5060
ip nat inside source static 10.20.0.9 203.0.113.9 extendable
ip nat inside source static network 10.30.0.0 198.51.100.0 /24
ip nat inside source static tcp 10.20.0.5 443 203.0.113.5 8443 bogus-option
ip nat inside source list 1 interface Dialer0 overload
ip nat frobnicate 1
no ip nat service sip udp port 5060
no ip nat service sip tcp port 5060
"""


def test_hand_written_udp_interface_one_to_one_and_network():
    cfg = cisco_ios.parse({"show running-config": HAND_CONFIG})
    assert [fwd(f) for f in cfg.forwards] == [
        ("static_pat", "udp", "interface:Dialer0", "Dialer0", "5060", "10.20.0.5", "5060", True, 18,
         "udp 10.20.0.5:5060"),
        ("static_1to1", "any", "203.0.113.9", None, None, "10.20.0.9", None, True, 19, "ip 10.20.0.9"),
        ("static_1to1", "any", "198.51.100.0/24", None, None, "10.30.0.0/24", None, True, 20,
         "ip 10.30.0.0/24"),
        ("static_pat", "tcp", "203.0.113.5", None, "8443", "10.20.0.5", "443", True, 21,
         "tcp 10.20.0.5:443"),
    ]
    assert cfg.warnings == []
    assert [(u.line, u.construct, u.reason) for u in cfg.unparsed] == [       # never a silent pass: checks error
        (21, "nat", "unknown static NAT option 'bogus-option'"), (23, "nat", "not an ip nat statement this parser knows")]
    assert cfg.sip_alg.enabled is False and cfg.sip_alg.source_ref.line == 24
    assert cfg.hostname == "edge1"
    assert [vlan_view(v) for v in cfg.vlans] == [
        (20, "Voice VLAN", "GigabitEthernet0/1.20", "10.20.0.0/24", True)]
    port = cfg.switchports[0]
    assert (port.name, port.mode, port.access_vlan, port.voice_vlan) == \
        ("GigabitEthernet0/2", "access", 10, 20)
    roles = {i.name: i.role for i in cfg.interfaces}
    assert roles["Dialer0"] == "wan" and roles["GigabitEthernet0/1.20"] == "lan"


NOISY_CONFIG = """\
Building configuration...
Current configuration : 1234 bytes
!
version 15.4
banner motd ^C
Authorized access only!
  ** violators will be prosecuted **
^C
ip access-list extended OUT
 10 permit ip any any
crypto pki certificate chain TP-self-signed-1
 certificate self-signed 01
  3082022B 30820194 A0030201 02020101
banner login #Hi there#
ip nat inside source static tcp 10.0.0.5 5060 198.51.100.4 5060
line vty 0 4
 transport input ssh
end
"""


def test_banners_acl_sequences_and_certificates_are_skipped_quietly():
    cfg = cisco_ios.parse({"show running-config": NOISY_CONFIG})
    assert [fwd(f)[:2] + (f.source_ref.line,) for f in cfg.forwards] == [("static_pat", "tcp", 15)]
    assert cfg.warnings == [] and cfg.version == "15.4"


def test_sip_alg_partly_disabled_stays_on():
    cfg = cisco_ios.parse({"show running-config | include ip nat": "no ip nat service sip udp port 5060\n"})
    assert cfg.sip_alg.enabled is True and "still on for tcp" in cfg.sip_alg.detail


def test_pasted_session_is_split_at_prompts():
    paste = ("edge1#show ip nat translations\n" + read_sample(P, "show_ip_nat_translations_ntc.txt") +
             "\nedge1#show vlan brief\n" + read_sample(P, "show_vlan_ntc.txt"))
    cfg = cisco_ios.parse({"": paste})
    assert cfg.commands == ["show ip nat translations", "show vlan brief"]
    assert len(cfg.forwards) == 2 and len(cfg.vlans) == 8
    assert cfg.forwards[0].source_ref.line == 7          # line numbers count in the whole paste
    assert cfg.forwards[0].source_ref.command == "show ip nat translations"


def test_device_error_is_a_warning_and_garbage_is_refused():
    cfg = cisco_ios.parse({"show vlan brief": "          ^\n% Invalid input detected at '^' marker.\n"})
    assert cfg.warnings and cfg.warnings[0].message == "the device rejected this command"
    with pytest.raises(ParseError, match="not recognised"):
        cisco_ios.parse({"show running-config": "%%%% \x1b[2J ####\n@@@ ~~~ ???\n"})
    with pytest.raises(ParseError, match="binary"):
        cisco_ios.parse({"": "ip nat\x00\x01\x02"})


def test_unknown_lines_in_show_output_become_warnings():
    text = read_sample(P, "show_ip_nat_translations_ntc.txt").replace(
        "icmp 10.9.0.0:513", "garbled line here\nicmp 10.9.0.0:513")
    cfg = cisco_ios.parse({"show ip nat translations": text})
    assert [(w.line, w.text) for w in cfg.warnings] == [(5, "garbled line here")]
    assert len(cfg.forwards) == 2


def test_sniff_prefers_ios_for_ios_samples():
    for name in ("running_config_nat_static_margrave.txt", "show_ip_nat_translations_ntc.txt",
                 "show_interfaces_switchport_voice_vlan_ntc.txt"):
        assert detect_platform(read_sample(P, name))[0] == "cisco_ios"
    assert cisco_ios.sniff("hello world") == 0.0


@pytest.mark.parametrize("line, construct", [
    ("ip zq9x inside source static tcp 10.66.0.13 995 interface GigabitEthernet0/1 995", "nat"),
    ("zq9x nat inside source static tcp 10.66.0.13 995 interface GigabitEthernet0/1 995", "nat"),
    ("ip nat inside source static zq9x 10.66.0.13 995 interface GigabitEthernet0/1 995", "nat"),
    ("ip nat inside source static tcp zq9x 995 interface GigabitEthernet0/1 995", "nat"),
    ("ip nat inside source static tcp 10.66.0.13 995 inte", "nat"),
])
def test_a_damaged_static_nat_line_is_unparsed_not_dropped(line, construct):
    """From the never-silent-pass property test: each of these turned AWX-SRV-002 from fail into pass."""
    cfg = cisco_ios.parse({"show running-config": f"hostname r\n!\n{line}\n"})
    assert cfg.forwards == []
    assert [(u.line, u.construct, u.text) for u in cfg.unparsed] == [(3, construct, line)]


@pytest.mark.parametrize("row", [
    "tcp 100.95.3.180:zq9x     192.168.1.12:80       ---                   ---",
    "--- 10.9.0.0     zq9x     ---        ---",
    "zq9x 100.95.3.180:8080     192.168.1.12:80       ---                   ---",
    "tcp 100.95.3.180:8080     192.168.1",
])
def test_a_damaged_static_translation_row_is_unparsed(row):
    text = "Pro Inside global      Inside local          Outside local         Outside global\n" + row + "\n"
    cfg = cisco_ios.parse({"show ip nat translations": text})
    assert cfg.forwards == []
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(2, "nat")]


def test_a_damaged_interface_nat_role_is_unparsed():
    cfg = cisco_ios.parse({"show running-config": "interface Gi0/1\n ip nat zq9x\n!\n"})
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(2, "interface")]
