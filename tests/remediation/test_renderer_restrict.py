"""Fixes that restrict rather than delete (issue 14, point 5, non-Linux half): render_restrict and
render_helper_removal, applied to the configuration text, parse back with the project's parsers to
the forward still there with exactly the given sources / the SIP helper off, and nothing else changed.
IOS cannot express a source-restricted static NAT and says so."""
from pathlib import Path

import pytest

from firewall.parsers import parse
from firewall.renderers import Unrenderable, render_helper_removal, render_restrict
from tests.remediation.test_renderer_injection import (
    apply_vyatta,
    export_attrs,
    export_string,
    routeros_commands,
    spans,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples"
VYOS = (SAMPLES / "vyos" / "show_configuration_commands_nat_basic.txt").read_text()
EDGEOS_SET = """set service nat rule 1 type destination
set service nat rule 1 description 'pbx sip'
set service nat rule 1 inbound-interface eth0
set service nat rule 1 protocol udp
set service nat rule 1 destination port 5060
set service nat rule 1 inside-address address 192.168.1.10
set service nat rule 1 source group address-group OLD
set service nat rule 2 type destination
set service nat rule 2 inbound-interface eth0
set service nat rule 2 protocol tcp
set service nat rule 2 destination port 8080
set service nat rule 2 inside-address address 192.168.1.11
set system host-name edge"""
MIKROTIK = """/ip firewall nat
add action=dst-nat chain=dstnat comment="pbx \\"sip\\"" dst-port=5060 in-interface=ether1 protocol=udp \\
    src-address=198.51.100.7 to-addresses=192.168.88.10
add action=dst-nat chain=dstnat comment=web dst-port=8080 in-interface=ether1 protocol=tcp \\
    src-address-list=old to-addresses=192.168.88.11 to-ports=80
/ip firewall service-port
set sip disabled=no ports=5060,5061
"""


def _key(fwd):
    return (fwd.kind, fwd.proto, str(fwd.external_ports), fwd.internal_ip, str(fwd.internal_ports), fwd.enabled,
            fwd.comment, fwd.external_if)


def _same_apart_from_sources(before, after, index):
    # an Unparsed note may go (the old, unreadable source match was replaced), none may come
    assert len(after.warnings) == len(before.warnings) and len(after.unparsed) <= len(before.unparsed)
    assert [_key(f) for f in after.forwards] == [_key(f) for f in before.forwards]
    assert [f.source_restriction for i, f in enumerate(after.forwards) if i != index] == \
        [f.source_restriction for i, f in enumerate(before.forwards) if i != index]


# ---- VyOS / EdgeOS ---------------------------------------------------------------------------

def test_vyos_one_source_is_a_source_address():
    before = parse("vyos", {"show configuration commands": VYOS})
    commands = render_restrict("vyos", [(before.forwards[1], ["203.0.113.0/24"])])
    assert commands == ["configure", "set nat destination rule 10022 source address '203.0.113.0/24'",
                        "commit", "save", "exit"]
    after = parse("vyos", {"show configuration commands": apply_vyatta(VYOS, commands)})
    assert after.forwards[1].source_restriction == ["203.0.113.0/24"]
    _same_apart_from_sources(before, after, 1)


def test_vyos_several_sources_are_an_address_group_of_exact_ranges():
    before = parse("vyos", {"show configuration commands": VYOS})
    commands = render_restrict("vyos", [(before.forwards[0], ["203.0.113.0/24", "198.51.100.7/32"])])
    group = commands[-4].rsplit(" ", 1)[1].strip("'")
    assert group.startswith("AWXH-SRC-")
    assert commands[1:3] == [f"set firewall group address-group {group} address '203.0.113.0-203.0.113.255'",
                             f"set firewall group address-group {group} address '198.51.100.7'"]
    assert commands[3] == f"set nat destination rule 1000 source group address-group '{group}'"
    after = parse("vyos", {"show configuration commands": apply_vyatta(VYOS, commands)})
    restriction = after.forwards[0].source_restriction
    assert restriction in ([group], [f"list:{group}"]) \
        or spans(restriction) == spans(["203.0.113.0/24", "198.51.100.7"])
    _same_apart_from_sources(before, after, 0)


def test_edgeos_replaces_the_old_group_match_instead_of_adding_to_it():
    before = parse("ubiquiti_edgerouter", {"show configuration commands": EDGEOS_SET})
    assert before.forwards[0].source_restriction in (["OLD"], ["list:OLD"])
    commands = render_restrict("ubiquiti_edgerouter", [(before.forwards[0], ["192.0.2.0/28"])])
    assert commands[1:-3] == ["delete service nat rule 1 source group address-group",
                              "set service nat rule 1 source address '192.0.2.0/28'"]
    after = parse("ubiquiti_edgerouter", {"show configuration commands": apply_vyatta(EDGEOS_SET, commands)})
    assert after.forwards[0].source_restriction == ["192.0.2.0/28"]
    _same_apart_from_sources(before, after, 0)


def test_edgeos_port_forward_rules_cannot_take_sources():
    text = (SAMPLES / "edgeos" / "config_boot_port_forward_upnp_adrienkohlbecker.txt").read_text()
    config = parse("ubiquiti_edgerouter", {"show configuration": text})
    with pytest.raises(Unrenderable, match="port-forward rules have no source option"):
        render_restrict("ubiquiti_edgerouter", [(config.forwards[0], ["192.0.2.0/28"])])


def test_vyatta_refuses_sources_that_are_not_ipv4_networks():
    config = parse("vyos", {"show configuration commands": VYOS})
    for bad in (["2001:db8::/32"], ["10.0.0.1/8"], ["10.0.0.0/8 ; reboot"], []):
        with pytest.raises(Unrenderable):
            render_restrict("vyos", [(config.forwards[0], bad)])


# ---- MikroTik ---------------------------------------------------------------------------------

def apply_mikrotik(text: str, commands: list[str]) -> str:
    """`set [find where ...] k=v !k` edits the matching add lines; address-list adds are appended."""
    lines = text.replace("\\\n    ", "").split("\n")
    extra = []
    for command in commands:
        [words] = routeros_commands(command)
        if words[:3] == ["/ip", "firewall", "address-list"]:
            extra.append(" ".join(words[3:4] + [f"{k}={export_string(v)}" for k, _, v in
                                                (w.partition("=") for w in words[4:])]))
            continue
        assert words[:7] == ["/ip", "firewall", "nat", "set", "[", "find", "where"], words
        end = words.index("]")
        where = dict(w.partition("=")[::2] for w in words[7:end])
        hits = [i for i, line in enumerate(lines) if line.startswith("add ")
                and all(export_attrs(line).get(k) == v for k, v in where.items())]
        assert len(hits) == 1, f"{command} matches {len(hits)} rules"
        attrs = export_attrs(lines[hits[0]])
        for change in words[end + 1:]:
            if change.startswith("!"):
                del attrs[change[1:]]
            else:
                key, _, value = change.partition("=")
                attrs[key] = value
        lines[hits[0]] = "add " + " ".join(f"{k}={export_string(v)}" for k, v in attrs.items())
    return "\n".join(lines + (["/ip firewall address-list", *extra] if extra else []))


def _mikrotik(text):
    return parse("mikrotik_routeros", {"/export": text})


def test_mikrotik_one_source_replaces_the_address_list_match():
    before = _mikrotik(MIKROTIK)
    commands = render_restrict("mikrotik_routeros", [(before.forwards[1], ["203.0.113.0/24"])])
    assert commands == ['/ip firewall nat set [find where chain="dstnat" action="dst-nat" protocol="tcp" '
                        'dst-port="8080" in-interface="ether1" src-address-list="old" to-addresses="192.168.88.11" '
                        'to-ports="80" comment="web"] src-address="203.0.113.0/24" !src-address-list']
    after = _mikrotik(apply_mikrotik(MIKROTIK, commands))
    assert after.forwards[1].source_restriction == ["203.0.113.0/24"]
    _same_apart_from_sources(before, after, 1)


def test_mikrotik_several_sources_are_a_new_address_list():
    before = _mikrotik(MIKROTIK)
    commands = render_restrict("mikrotik_routeros", [(before.forwards[0], ["203.0.113.0/24", "192.0.2.9"])])
    assert len(commands) == 3 and 'comment="pbx \\"sip\\""' in commands[2]
    name = routeros_commands(commands[0])[0][4].partition("=")[2]
    assert [routeros_commands(c)[0][3:] for c in commands[:2]] == [
        ["add", f"list={name}", "address=203.0.113.0/24"], ["add", f"list={name}", "address=192.0.2.9/32"]]
    assert commands[2].endswith(f'src-address-list="{name}" !src-address')
    after = _mikrotik(apply_mikrotik(MIKROTIK, commands))
    restriction = after.forwards[0].source_restriction
    assert restriction in ([name], [f"list:{name}"]) or spans(restriction) == spans(["203.0.113.0/24", "192.0.2.9"])
    _same_apart_from_sources(before, after, 0)


def test_mikrotik_refuses_ipv6_sources_for_an_ipv4_nat_rule():
    with pytest.raises(Unrenderable, match="IPv6"):
        render_restrict("mikrotik_routeros", [(_mikrotik(MIKROTIK).forwards[0], ["2001:db8::/48"])])


# ---- IOS: refused, with what to do instead -------------------------------------------------------

def test_ios_restrict_is_refused_with_the_manual_alternative():
    text = (SAMPLES / "cisco_ios" / "ip_nat_static_tcp_interface_pyneng.txt").read_text()
    fwd = parse("cisco_ios", {"show running-config": text}).forwards[0]
    with pytest.raises(Unrenderable, match=r"extended ACL inbound on GigabitEthernet0/1 .* 203\.0\.113\.0/24"):
        render_restrict("cisco_ios", [(fwd, ["203.0.113.0/24"])])
    assert render_restrict("cisco_ios", []) == []


# ---- SIP helper off ------------------------------------------------------------------------------

def test_ios_sip_alg_off_parses_back_off():
    text = (SAMPLES / "cisco_ios" / "ip_nat_static_tcp_interface_pyneng.txt").read_text()
    before = parse("cisco_ios", {"show running-config": text})
    assert before.sip_alg.enabled is True
    commands = render_helper_removal("cisco_ios", before)
    assert commands == ["configure terminal", "no ip nat service sip udp port 5060",
                        "no ip nat service sip tcp port 5060", "end", "write memory"]
    after = parse("cisco_ios", {"show running-config": text + "\n" + "\n".join(commands[1:3])})
    assert after.sip_alg.enabled is False
    assert [_key(f) for f in after.forwards] == [_key(f) for f in before.forwards]
    assert render_helper_removal("cisco_ios", after) == []


def test_mikrotik_sip_helper_off_parses_back_off():
    before = _mikrotik(MIKROTIK)
    assert before.sip_alg.enabled is True
    commands = render_helper_removal("mikrotik_routeros", before)
    assert commands == ["/ip firewall service-port set sip disabled=yes"]
    after = _mikrotik(MIKROTIK + "/ip firewall service-port\nset sip disabled=yes\n")
    assert after.sip_alg.enabled is False and [_key(f) for f in after.forwards] == [_key(f) for f in before.forwards]


def test_edgeos_sip_module_disabled_parses_back_off():
    before = parse("ubiquiti_edgerouter", {"show configuration commands": EDGEOS_SET})
    commands = render_helper_removal("ubiquiti_edgerouter", before)
    assert commands == ["configure", "set system conntrack modules sip disable", "commit", "save", "exit"]
    after = parse("ubiquiti_edgerouter", {"show configuration commands": apply_vyatta(EDGEOS_SET, commands)})
    assert after.sip_alg.enabled is False and [_key(f) for f in after.forwards] == [_key(f) for f in before.forwards]


def test_vyos_1_4_listed_module_is_deleted():
    before = parse("vyos", {"show configuration commands": VYOS})
    commands = render_helper_removal("vyos", before)
    assert commands == ["configure", "delete system conntrack modules sip", "commit", "save", "exit"]
    after = parse("vyos", {"show configuration commands": apply_vyatta(VYOS, commands)})
    assert after.sip_alg.enabled is False and [_key(f) for f in after.forwards] == [_key(f) for f in before.forwards]
    assert render_helper_removal("vyos", after) == []


LEGACY_VYOS = """set nat destination rule 10 destination port '5060'
set nat destination rule 10 inbound-interface 'eth0'
set nat destination rule 10 protocol 'udp'
set nat destination rule 10 translation address '192.168.1.10'
set system conntrack modules ftp disable"""


def test_vyos_1_3_default_on_module_gets_disable():
    before = parse("vyos", {"show configuration commands": LEGACY_VYOS})
    assert before.sip_alg.enabled is True
    commands = render_helper_removal("vyos", before)
    assert commands[1] == "set system conntrack modules sip disable"
    assert parse("vyos", {"show configuration commands": apply_vyatta(LEGACY_VYOS, commands)}).sip_alg.enabled is False


def test_vyos_release_unknown_is_refused():
    listed = LEGACY_VYOS.replace("modules ftp disable", "modules sip enable-indirect-media")
    with pytest.raises(Unrenderable, match="release unknown"):
        render_helper_removal("vyos", parse("vyos", {"show configuration commands": listed}))
    undecided = "\n".join(LEGACY_VYOS.split("\n")[:4])
    config = parse("vyos", {"show configuration commands": undecided})
    assert config.sip_alg.enabled is None
    with pytest.raises(Unrenderable, match="not known"):
        render_helper_removal("vyos", config)


def test_dispatch_names_platforms_without_the_renderer():
    config = parse("vyos", {"show configuration commands": VYOS})
    with pytest.raises(Unrenderable, match="no renderer for fortinet"):
        render_restrict("fortinet", [(config.forwards[0], ["192.0.2.0/24"])])
