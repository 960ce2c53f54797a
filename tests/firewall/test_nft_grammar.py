"""nftables grammar as people write and list it (issue 15): one test per construct, expected forwards
written from reading the input; the hand-written samples are also checked, loaded and listed back by a
real nft inside a throw-away network namespace (no traffic), and all three forms must agree."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from parser_b_helpers import SAMPLES, sample, view

from firewall.exposure import inside_reason
from firewall.parsers import linux, nftables, openwrt

GRAMMAR = [  # nft_conf_handwritten_grammar.txt, rule by rule
    ("dnat", "udp", "eth0", None, "5060,5061", "192.168.50.10", None, True, ""),       # $SIP_PORTS, @carriers
    ("dnat", "tcp", "eth0", None, "2222", "192.168.50.30", "22", True, ""),            # saddr != 10.1.1.1
    ("dnat", "tcp", "eth0", None, "3389", "192.168.50.40", "3389", True, ""),          # multi-line anon map
    ("dnat", "tcp", "eth0", None, "5900", "192.168.50.41", "5901", True, ""),
    ("dnat", "tcp", "eth0", None, "8080", "192.168.50.20", "80", True, ""),            # map @webfwd
    ("dnat", "tcp", "eth0", None, "8443", "192.168.50.20", "443", True, ""),
    ("dnat", "tcp", "eth0", None, "143", "192.168.50.50", None, True, ""),             # vmap -> jump mail
    ("dnat", "tcp", "eth0", None, "993", "192.168.50.50", None, True, ""),
    ("dnat", "tcp", "eth0", None, "8022", "2001:db8:50::22", "22", True, ""),          # dnat ip6 to
    ("ipv6_pinhole", "tcp", "eth0", None, "80,443", "2001:db8:50::10", None, True, ""),
]
CARRIERS = ["198.51.100.0/24", "203.0.113.5", "203.0.113.20/30"]
PY_DNAT = [  # nft_py_tests_dnat.txt (nftables' own tests/py/ip/dnat.t)
    ("dnat", "tcp", "eth0", None, "80-90", "192.168.3.2", None, True, ""),
    ("dnat", "tcp", "eth0", None, "0-79,91-65535", "192.168.3.2", None, True, ""),
    ("dnat", "tcp", "eth0", None, "80,90,23", "192.168.3.2", None, True, ""),
    ("dnat", "tcp", "eth0", None, "0-22,24-79,81-89,91-65535", "192.168.3.2", None, True, ""),
    ("dnat", "tcp", "eth0", None, "0-22,35-65535", "192.168.3.2", None, True, ""),
    ("dnat", "tcp", "eth0", None, "81", "192.168.3.2", "8080", True, ""),
    ("dmz", "any", None, None, None, "1.2.3.4", None, True, ""),
    ("dmz", "any", None, "1.1.1.1", None, "1.2.3.4", None, True, ""),
    ("dnat", "tcp", None, None, "80", "10.141.10.0/24", "8888-8999", True, ""),
    ("dnat", "tcp", None, None, "80", "10.141.10.0/24", "80", True, ""),
    ("dnat", "tcp", None, None, "80", "10.141.10.2", "8888-8999", True, ""),
]
HAND_WRITTEN = ["nft_conf_handwritten_grammar.txt", "nft_py_tests_dnat.txt", "nft_lab_ruleset.nft"]


def _nat(body: str, head: str = "table ip t {") -> str:
    return f"{head}\n chain pre {{\n  type nat hook prerouting priority dstnat; policy accept;\n{body}\n }}\n}}\n"


def _parse(text: str, command: str = "nft list ruleset"):
    return linux.parse({command: text})


def test_handwritten_grammar_sample():
    cfg = _parse(sample("linux", "nft_conf_handwritten_grammar.txt"))
    assert [view(f) for f in cfg.forwards] == GRAMMAR
    assert cfg.forwards[0].source_restriction == CARRIERS
    assert (cfg.forwards[1].source_restriction, cfg.forwards[1].source_exclusions) == (None, ["10.1.1.1"])
    assert [f.source_ref.line for f in cfg.forwards[2:4]] == [25, 25] and cfg.forwards[2].source_ref.end_line == 28
    assert cfg.unparsed == [] and cfg.warnings == []


def test_nft_project_dnat_cases():
    cfg = _parse(sample("linux", "nft_py_tests_dnat.txt"))
    assert [view(f) for f in cfg.forwards] == PY_DNAT
    assert [f.source_restriction for f in cfg.forwards[8:]] == [["192.168.1.2"]] * 3
    assert cfg.unparsed == []


def test_family_less_table_is_ip_and_fw4_form_without_to():
    cfg = _parse(_nat('  iif "wan" tcp dport 443 counter dnat 10.0.0.9:8443', head="table nat {"))
    assert [view(f) for f in cfg.forwards] == [("dnat", "tcp", "wan", None, "443", "10.0.0.9", "8443", True, "")]
    assert cfg.forwards[0].source_ref.rule_id == "ip nat pre"


def test_multi_line_set_elements_do_not_close_the_table():
    text = ("table ip t {\n set s {\n  type ipv4_addr\n  elements = {\n   192.0.2.1,\n   192.0.2.2\n  }\n }\n"
            " chain pre {\n  type nat hook prerouting priority dstnat;\n  ip saddr @s tcp dport 22 dnat to 10.0.0.2\n }\n}\n")
    cfg = _parse(text)
    assert [(view(f)[4:6], f.source_restriction) for f in cfg.forwards] == [(("22", "10.0.0.2"), ["192.0.2.1", "192.0.2.2"])]


def test_concatenated_match_set_is_one_forward_per_element():
    cfg = _parse(_nat("  ip daddr . tcp dport { 192.0.2.1 . 80, 192.0.2.2 . 5060 } dnat to 10.0.0.3"))
    assert [view(f)[3:6] for f in cfg.forwards] == [("192.0.2.1", "80", "10.0.0.3"), ("192.0.2.2", "5060", "10.0.0.3")]


def test_define_and_undefined_variable():
    text = "define PBX = 10.0.0.4\n" + _nat("  udp dport 5060 dnat to $PBX\n  udp dport 5061 dnat to $NOPE")
    cfg = _parse(text)
    assert [view(f)[4:6] for f in cfg.forwards] == [("5060", "10.0.0.4")]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(6, "nat"), (6, "nat")]
    assert any("$NOPE" in u.reason for u in cfg.unparsed)


def test_include_is_unparsed_nat_with_its_line():
    cfg = _parse('include "/etc/nftables.d/*.nft"\n' + _nat("  tcp dport 80 dnat to 10.0.0.5"))
    assert [(u.line, u.construct, "/etc/nftables.d/*.nft" in u.reason) for u in cfg.unparsed] == [(1, "nat", True)]
    fw4 = _parse(sample("linux", "nft_ruleset_fw4_redirect.txt"))
    assert [(u.line, u.construct) for u in fw4.unparsed] == [(23, "nat")]


def test_unknown_named_set_restricts_to_an_unknown_list_never_to_nothing():
    cfg = _parse(_nat("  ip saddr @carriers udp dport 5060 dnat to 10.0.0.5"))
    assert cfg.forwards[0].source_restriction == ["set:carriers"]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(4, "address_list")]


def test_negated_set_of_sources_are_exclusions_and_negated_daddr_means_any_address():
    cfg = _parse(_nat("  ip saddr != { 10.0.0.0/8, 192.0.2.7 } ip daddr != 192.0.2.1 tcp dport 25 dnat to 10.0.0.6"))
    fwd = cfg.forwards[0]
    assert (fwd.source_restriction, fwd.source_exclusions, fwd.external_ip) == (None, ["10.0.0.0/8", "192.0.2.7"], None)


def test_numgen_map_gives_every_backend_and_redirect_is_no_forward():
    cfg = _parse(_nat("  tcp dport 80 dnat to numgen inc mod 2 map { 0 : 10.0.0.1, 1 : 10.0.0.2 }\n"
                      "  tcp dport 8080 redirect to :3128"))
    assert [view(f)[4:6] for f in cfg.forwards] == [("80", "10.0.0.1"), ("80", "10.0.0.2")]
    assert cfg.unparsed == []


def test_add_rule_scripting_form():
    text = ("add table nat\nadd chain nat prerouting { type nat hook prerouting priority -100 ; }\n"
            "add rule nat prerouting iif eth0 tcp dport { 80, 443 } dnat to 192.168.1.120\n"
            "add rule nat prerouting redirect\n")
    cfg = _parse(text)
    assert [view(f) for f in cfg.forwards] == [("dnat", "tcp", "eth0", None, "80,443", "192.168.1.120", None, True, "")]
    assert cfg.forwards[0].source_ref.line == 3


def test_unbalanced_brace_error_points_at_the_line():
    with pytest.raises(Exception, match="line 3: braces opened here are never closed"):
        _parse("table ip t {\n chain c {\n  tcp dport vmap {\n")


def test_json_named_map_element_objects_and_unknown_expression():
    doc = ('{"nftables": [{"table": {"family": "ip", "name": "n"}},'
           '{"chain": {"family": "ip", "table": "n", "name": "p", "type": "nat", "hook": "prerouting"}},'
           '{"map": {"family": "ip", "table": "n", "name": "m", "type": "inet_service", "map": "ipv4_addr",'
           ' "elem": [[5060, "10.0.0.7"]]}},'
           '{"rule": {"family": "ip", "table": "n", "chain": "p", "handle": 4, "expr": [{"dnat": {"addr": {"map":'
           ' {"key": {"payload": {"protocol": "udp", "field": "dport"}}, "data": "@m"}}}}]}},'
           '{"rule": {"family": "ip", "table": "n", "chain": "p", "handle": 5, "expr": [{"frob": {}},'
           ' {"dnat": {"addr": "10.0.0.8"}}]}}]}')
    cfg = _parse(doc, "nft -j list ruleset")
    assert [view(f)[:6] for f in cfg.forwards] == [("dnat", "udp", None, None, "5060", "10.0.0.7"),
                                                    ("dmz", "any", None, None, None, "10.0.0.8")]
    assert [(u.construct, u.text.count('"handle":5')) for u in cfg.unparsed] == [("nat", 1)]


def test_iptables_negated_source_and_match_set():
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n"
            "-A PREROUTING -i eth0 ! -s 10.1.1.1/32 -p tcp --dport 2222 -j DNAT --to-destination 10.0.0.30:22\n"
            "-A PREROUTING -i eth0 -m set --match-set carriers src -p udp --dport 5060 -j DNAT --to-destination 10.0.0.5\n"
            "COMMIT\n")
    cfg = linux.parse({"iptables-save": text})
    assert [(f.source_restriction, f.source_exclusions) for f in cfg.forwards] == [
        (None, ["10.1.1.1/32"]), (["ipset:carriers"], None)]
    assert [(u.line, u.construct) for u in cfg.unparsed] == [(4, "address_list")]


def test_openwrt_redirect_from_an_internal_zone_is_inside():
    text = ("config zone\n\toption name 'lan'\n\tlist network 'lan'\n\n"
            "config zone\n\toption name 'wan'\n\tlist network 'wan'\n\toption masq '1'\n\n"
            "config redirect\n\toption src 'lan'\n\toption src_dport '5060'\n\toption dest_ip '10.0.0.5'\n\n"
            "config redirect\n\toption src 'wan'\n\toption src_dport '5061'\n\toption dest_ip '10.0.0.5'\n"
            "\toption src_ip '!203.0.113.9'\n")
    cfg = openwrt.parse({"uci export firewall": text})
    lan, wan = cfg.forwards
    assert (lan.external_if, wan.external_if) == ("zone:lan", "zone:wan")
    assert inside_reason(lan, cfg) == "bound to LAN interface zone:lan" and inside_reason(wan, cfg) == ""
    assert (wan.source_restriction, wan.source_exclusions) == (None, ["203.0.113.9"])


def _root_with_nft() -> bool:
    return os.geteuid() == 0 and shutil.which("nft") is not None and shutil.which("ip") is not None


def _in_namespace(*commands: list[str]) -> list[str]:
    ns = f"awxh-nftg-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    try:
        return [subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True, capture_output=True, text=True,
                               timeout=20).stdout for cmd in commands]
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=10)


@pytest.mark.skipif(not _root_with_nft(), reason="needs root, nft and ip to use a throw-away network namespace")
@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_round_trip_through_a_real_nft(name):
    path = str(SAMPLES / "linux" / name)
    _, _, listed, as_json = _in_namespace(["nft", "-c", "-f", path], ["nft", "-f", path],
                                          ["nft", "list", "ruleset"], ["nft", "-j", "list", "ruleset"])
    views = [sorted(_sorted_ports(f) for f in _parse(text, command).forwards) for text, command in (
        ((SAMPLES / "linux" / name).read_text(), "nft list ruleset"), (listed, "nft list ruleset"),
        (as_json, "nft -j list ruleset"))]
    assert views[0] == views[1] == views[2] and views[0]


def _sorted_ports(fwd) -> tuple:
    """A forward's view with its port lists in order: nft lists set elements sorted."""
    got = list(view(fwd))
    for index in (4, 6):
        got[index] = None if got[index] is None else ",".join(sorted(got[index].split(","), key=lambda p: int(p.split("-")[0])))
    return tuple(str(v) for v in got) + (str(fwd.source_restriction), str(fwd.source_exclusions))


HELPERS = """table inet voice {
  ct helper voip { type "sip" protocol udp; }
  ct helper ftp-21 {
    type "ftp" protocol tcp
  }
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    tcp dport 21 ct helper set "ftp-21"
    udp dport 5060 ct helper set "voip"
  }
}
"""


def test_ct_helper_set_is_resolved_to_its_helper_object():
    cfg = linux.parse({"nft list ruleset": HELPERS})
    assert cfg.sip_alg.enabled is True and cfg.sip_alg.source_ref.line == 9
    assert "'voip' of type sip (object in table inet voice)" in cfg.sip_alg.detail and cfg.unparsed == []
    by_map = HELPERS.replace('udp dport 5060 ct helper set "voip"', 'ct helper set udp dport map { 5060 : "voip" }')
    assert linux.parse({"nft list ruleset": by_map}).sip_alg.enabled is True


def test_sip_helper_object_that_no_rule_assigns_is_off():
    cfg = linux.parse({"nft list ruleset": HELPERS.replace('udp dport 5060 ct helper set "voip"', "")})
    assert cfg.sip_alg.enabled is False and "voip of type sip defined but no rule assigns" in cfg.sip_alg.detail


def test_ct_helper_set_naming_no_object_is_unparsed_helper():
    text = HELPERS.replace('ct helper set "voip"', 'ct helper set "voip2"')
    cfg = linux.parse({"nft list ruleset": text})
    assert [(u.construct, u.line, u.text) for u in cfg.unparsed] == [
        ("helper", 9, 'udp dport 5060 ct helper set "voip2"')]
    assert cfg.sip_alg.enabled is None


def test_scripting_form_helper_object_and_rule():
    text = """add table ip fw
add ct helper ip fw sip-5060 { type "sip" protocol udp; }
add chain ip fw helpers { type filter hook prerouting priority filter; }
add rule ip fw helpers udp dport 5060 ct helper set "sip-5060"
"""
    cfg = linux.parse({"nft list ruleset": text})
    assert cfg.sip_alg.enabled is True and cfg.sip_alg.source_ref.line == 4 and cfg.warnings == []


def test_json_ct_helper_statement_resolved_or_unparsed():
    doc = {"nftables": [
        {"table": {"family": "ip", "name": "t"}},
        {"ct helper": {"family": "ip", "table": "t", "name": "s", "type": "sip", "protocol": "udp"}},
        {"chain": {"family": "ip", "table": "t", "name": "c", "type": "filter", "hook": "prerouting"}},
        {"rule": {"family": "ip", "table": "t", "chain": "c", "handle": 4, "expr": [{"ct helper": "s"}]}}]}
    assert linux.parse({"nft -j list ruleset": json.dumps(doc)}).sip_alg.enabled is True
    doc["nftables"][3]["rule"]["expr"] = [{"ct helper": "other"}]
    cfg = linux.parse({"nft -j list ruleset": json.dumps(doc)})
    assert cfg.sip_alg.enabled is None and [u.construct for u in cfg.unparsed] == ["helper"]


def test_unread_include_makes_the_sip_helper_state_unknown():
    text = 'include "/etc/nftables.d/voice.nft"\n' + HELPERS.replace('udp dport 5060 ct helper set "voip"', "")
    state = nftables.parse_text(text).sip_alg
    assert state.enabled is None and "include '/etc/nftables.d/voice.nft' was not read" in state.detail
    assert nftables.parse_text('include "x.nft"\n' + HELPERS).sip_alg.enabled is True    # seen on: stays on


def test_block_head_with_statements_on_its_line_keeps_the_next_rules_apart():
    text = """table ip nat {
  chain prerouting { type nat hook prerouting priority -100; policy accept;
    iifname "wan" tcp dport 80 dnat to 10.0.0.5
    iifname "wan" tcp dport 443 dnat to 10.0.0.6
  }
}
"""
    cfg = linux.parse({"nft list ruleset": text})
    assert [(view(f)[4:7], f.source_ref.line) for f in cfg.forwards] == [
        (("80", "10.0.0.5", None), 3), (("443", "10.0.0.6", None), 4)]
    assert cfg.unparsed == [] and cfg.warnings == []
