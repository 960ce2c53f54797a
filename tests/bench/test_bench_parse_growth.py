"""bench/parse.py growth: 4x the input must cost well under 8x the time, so a quadratic regression (an
interface scan per forward, a memo that overflows) fails here instead of in the field. Also the --scale
plumbing: every generated size, VLAN subinterfaces included, grows by the factor and stays valid."""
from __future__ import annotations

import importlib.util
import ipaddress
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "parse.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_parse", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_parse"] = module      # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_four_times_the_input_costs_less_than_eight_times_the_time(bench):
    base, big, ratio = bench.growth(bench.QUICK, 4, runs=3)
    assert ratio < 8, f"1x {base.best:.3f}s -> 4x {big.best:.3f}s: ratio {ratio:.1f} (quadratic is 16)"


def test_scale_multiplies_every_size_and_vlan_subinterfaces(bench):
    sizes = bench.scaled(bench.QUICK, 3)
    assert (sizes.ios_lines, sizes.ios_forwards, sizes.nft_rules, sizes.nft_dnat) == (6000, 600, 1500, 450)
    text = bench.ios_config(sizes)
    assert len(text.splitlines()) == 6000
    assert len(re.findall(r"^interface GigabitEthernet0/0\.\d+$", text, re.M)) == 6000 // 400


def test_vlan_addresses_stay_valid_past_255_vlans(bench):
    """At 16x the generator makes 800 subinterfaces; 10.V.0.1 would be no address past V=255."""
    addresses = [bench._vlan_address(v) for v in (20, 255, 256, 820)]
    assert addresses[:2] == ["10.20.0.1 255.255.0.0", "10.255.0.1 255.255.0.0"]
    for text in addresses:
        ipaddress.ip_interface("/".join(text.split()))
    assert len(set(addresses)) == 4


def test_scale_is_bounded_and_reported(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--scale", "0"])
    row, met = bench.growth_row(bench.QUICK, 2, runs=1)
    assert row.startswith("| growth ratio IOS parse + analysis 1x -> 2x (") and "<= 2.5 |" in row
    assert met == row.endswith("| met |")
