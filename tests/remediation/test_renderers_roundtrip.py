"""Rendered removals for IOS, MikroTik and EdgeOS/VyOS, applied to the configuration text, parse back
to exactly the intended forward table (the round trip), and nftables removals name handles."""
import re
import shlex
from pathlib import Path

import pytest

from firewall.model import RouterConfig
from firewall.parsers import parse
from firewall.renderers import Unrenderable, render_removal

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples"


def _key(fwd):
    return (fwd.proto, str(fwd.external_ports), fwd.internal_ip, str(fwd.internal_ports), fwd.enabled)


def apply_ios(text, commands):
    gone = {c[3:] for c in commands if c.startswith("no ")}
    return "\n".join(line for line in text.splitlines() if line.strip() not in gone)


def apply_vyatta(text, commands):
    nodes = [c[len("delete "):] for c in commands if c.startswith("delete ")]
    return "\n".join(line for line in text.splitlines()
                     if not any(line.startswith(f"set {n} ") or line.strip() == f"set {n}" for n in nodes))


def apply_mikrotik(text, commands):
    wanted = [dict(w.split("=", 1) for w in shlex.split(re.search(r"where (.*)\]$", c).group(1))) for c in commands]
    out = []
    for line in text.splitlines():
        attrs = dict(w.split("=", 1) for w in shlex.split(line.strip()) if "=" in w) if "add " in line else {}
        if not any(attrs and all(attrs.get(k) == v for k, v in want.items()) for want in wanted):
            out.append(line)
    return "\n".join(out)


CASES = [
    ("cisco_ios", "cisco_ios/ip_nat_static_tcp_interface_pyneng.txt", "show running-config", apply_ios),
    ("vyos", "vyos/show_configuration_commands_nat_basic.txt", "show configuration commands", apply_vyatta),
    ("mikrotik_routeros", "mikrotik/firewall_dstnat_script_oenik.txt", "/export", apply_mikrotik),
]


@pytest.mark.parametrize("platform, sample, command, applier", CASES, ids=[c[0] for c in CASES])
def test_removal_round_trips_through_the_parser(platform, sample, command, applier):
    text = (SAMPLES / sample).read_text()
    config = parse(platform, {command: text})
    assert config.forwards, "sample must have forwards"
    victims = config.forwards[:2] if len(config.forwards) > 1 else config.forwards[:1]
    commands = render_removal(platform, victims)
    after = parse(platform, {command: applier(text, commands)})
    intended = sorted(_key(f) for f in config.forwards if f not in victims)
    assert sorted(_key(f) for f in after.forwards) == intended


def test_ios_commands_are_exact_no_forms():
    config = parse("cisco_ios", {"show running-config": (SAMPLES / CASES[0][1]).read_text()})
    commands = render_removal("cisco_ios", [f for f in config.forwards if f.internal_ip == "10.66.37.11"])
    assert commands == ["configure terminal", "no ip nat inside source static tcp 10.66.37.11 80 interface "
                        "GigabitEthernet0/1 8080", "end", "write memory"]


def test_nftables_removal_by_handle_and_refusal_without_one():
    config = parse("linux", {"nft -j list ruleset": (SAMPLES / "linux" / "nft_lab_json.txt").read_text()})
    assert render_removal("linux", config.forwards[:1]) == ["delete rule ip portfwd prerouting handle 6"]
    text_only = parse("linux", {"nft list ruleset": (SAMPLES / "linux" / "nft_lab_text.txt").read_text()})
    with pytest.raises(Unrenderable):
        render_removal("linux", text_only.forwards[:1])
    with pytest.raises(Unrenderable):
        render_removal("fortinet", config.forwards[:1])
    assert isinstance(config, RouterConfig)


def test_legacy_iptables_rules_are_refused_with_the_exact_manual_command():
    config = parse("linux", {"iptables-save": (SAMPLES / "linux" / "iptables_nat_S_docker_portmap_moby.txt").read_text()})
    assert config.forwards
    with pytest.raises(Unrenderable, match="iptables -t nat -D "):
        render_removal("linux", config.forwards[:1])


def test_vyos_tree_form_removal_names_the_node_by_its_rule_number():
    text = (SAMPLES / "vyos" / "config_boot_nat_basic_legacy.txt").read_text()
    config = parse("vyos", {"show configuration": text})
    commands = render_removal("vyos", config.forwards[:2])
    assert commands == ["configure", "delete nat destination rule 1000", "delete nat destination rule 10022",
                        "commit", "save", "exit"]


def test_ios_line_that_does_not_read_back_as_the_forward_is_refused():
    config = parse("cisco_ios", {"show running-config": (SAMPLES / CASES[0][1]).read_text()})
    fwd = config.forwards[0]
    fwd.source_ref.text = fwd.source_ref.text.replace(" 995", " 996", 1)   # another forward's line
    with pytest.raises(Unrenderable, match="not exactly this forward"):
        render_removal("cisco_ios", [fwd])
