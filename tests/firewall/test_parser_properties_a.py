"""Property tests for the group-A parsers: damaged real samples give a result or a ParseError, nothing else.

Mutations: lines deleted, duplicated or swapped, the text truncated anywhere, random characters or
random bytes (read as latin-1) inserted anywhere. Also checks that every sample of the group-A
platforms is either asserted in a parser test or listed with a reason in OUT_OF_SCOPE.md.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_a_helpers import SAMPLE_DIR

from firewall.model import ParseError, RouterConfig
from firewall.parsers import cisco_asa, cisco_ios, fortinet, juniper, mikrotik

PARSERS = {"cisco_ios": cisco_ios, "cisco_asa": cisco_asa, "mikrotik": mikrotik,
           "juniper": juniper, "fortinet": fortinet}
OUT_OF_SCOPE_DIRS = ("huawei_vrp", "zyxel", "paloalto")


def samples(platform: str) -> list[str]:
    return [p.read_text() for p in sorted((SAMPLE_DIR / platform).glob("*.txt"))]


@st.composite
def damaged(draw, texts: list[str]) -> str:
    lines = draw(st.sampled_from(texts)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(lines) - 1, 0)))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "chars", "bytes", "truncate"]))
        if action == "delete" and lines:
            del lines[where]
        elif action == "duplicate" and lines:
            lines.insert(where, lines[where])
        elif action == "swap" and len(lines) > 1:
            lines[where], lines[where - 1] = lines[where - 1], lines[where]
        elif action in ("chars", "bytes"):
            junk = draw(st.text(max_size=12) if action == "chars"
                        else st.binary(max_size=12).map(lambda b: b.decode("latin-1")))
            line = lines[where] if lines else ""
            cut = draw(st.integers(0, len(line)))
            lines[where:where + 1] = [line[:cut] + junk + line[cut:]]
        elif action == "truncate" and lines:
            lines = lines[:where + 1]
            lines[-1] = lines[-1][:draw(st.integers(0, len(lines[-1])))]
    return "\n".join(lines)


def _check(parser, text: str, command: str) -> None:
    try:
        result = parser.parse({command: text})
    except ParseError:
        return
    assert isinstance(result, RouterConfig)
    result.to_dict()                     # the result must also serialise


def _property(platform: str):
    texts = samples(platform)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
              database=None)
    @given(text=damaged(texts), named=st.booleans())
    def run(text: str, named: bool) -> None:
        _check(PARSERS[platform], text, "show running-config" if named and platform == "cisco_ios" else "")
    return run


@pytest.mark.parametrize("platform", sorted(PARSERS))
def test_damaged_samples_raise_only_parse_error(platform):
    _property(platform)()


@pytest.mark.parametrize("platform", sorted(PARSERS))
def test_undamaged_samples_parse(platform):
    for text in samples(platform):
        assert isinstance(PARSERS[platform].parse({"": text}), RouterConfig)


def test_every_sample_is_asserted_or_out_of_scope():
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_parsers_*.py"))
    out_of_scope = (SAMPLE_DIR / "OUT_OF_SCOPE.md").read_text()
    for platform in (*PARSERS, *OUT_OF_SCOPE_DIRS):
        for path in sorted((SAMPLE_DIR / platform).glob("*.txt")):
            stem = path.name.removesuffix(".txt")
            covered = stem in tests if platform in PARSERS else f"{platform}/{path.name}" in out_of_scope
            assert covered, f"{platform}/{path.name} is neither asserted nor listed in OUT_OF_SCOPE.md"
            assert path.with_name(f"{stem}.source.md").exists(), f"{path.name} lacks its .source.md"
