"""Property tests for the group-B parsers: mutated real samples raise nothing but ParseError."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_b_helpers import SAMPLES

from firewall.model import ParseError, RouterConfig
from firewall.parsers import edgeos, linux, openwrt, pfsense, vyos

MODULES = {"linux": linux, "openwrt": openwrt, "edgeos": edgeos, "vyos": vyos, "pfsense": pfsense}
COMMANDS = {"nft_lab_json": "nft -j list ruleset", "iptables_lab_nat_list": "iptables -t nat -vnL --line-numbers",
            "show_nat_rules_ntc": "show nat rules", "show_interfaces_ntc": "show interfaces"}
CASES = sorted((platform, path.name) for platform in MODULES for path in (SAMPLES / platform).glob("*.txt"))


def _mutate(data: st.DataObject, text: str) -> str:
    lines = text.split("\n")
    kind = data.draw(st.sampled_from(["drop", "dup", "cut", "char", "insert", "swap"]))
    i = data.draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "drop":
        del lines[i]
    elif kind == "dup":
        lines.insert(i, lines[i])
    elif kind == "swap" and len(lines) > 1:
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "insert":
        lines.insert(i, data.draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=40)))
    elif kind == "char" and text:
        pos = data.draw(st.integers(0, len(text) - 1))
        return text[:pos] + data.draw(st.sampled_from(list('{}[]"\'<>/:-,;#!0 9\n\t&'))) + text[pos + 1:]
    elif kind == "cut":
        return text[:data.draw(st.integers(0, len(text)))]
    return "\n".join(lines)


def _check(module, command: str, text: str) -> None:
    try:
        cfg = module.parse({command: text})
    except ParseError:
        return
    assert isinstance(cfg, RouterConfig)
    cfg.to_dict()                                     # every field must stay serialisable


@pytest.mark.parametrize("platform,name", CASES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_samples_raise_only_parse_error(platform, name, data):
    text = (SAMPLES / platform / name).read_text()
    command = COMMANDS.get(name[:-4], "")
    mutated = text
    for _ in range(data.draw(st.integers(1, 3))):
        mutated = _mutate(data, mutated)
    _check(MODULES[platform], command, mutated)


@pytest.mark.parametrize("platform", sorted(MODULES))
@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_raises_only_parse_error(platform, text):
    _check(MODULES[platform], "", text)
