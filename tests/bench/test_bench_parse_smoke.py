"""Smoke test of bench/parse.py --quick: it runs, and its correctness checks hold (never its timings)."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "parse.py"
CHECKS = ("AWX-SRV-007", "NET-NAT-002")


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), "--quick", "--runs", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _json_row_possible() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("nft")) and bool(shutil.which("ip"))


def test_quick_run_exits_zero(quick_run):
    assert quick_run.returncode == 0, quick_run.stderr


@pytest.mark.parametrize("name,forwards", [("ios", 200), ("nft-text", 150)])
def test_forward_counts_and_planted_findings(quick_run, name, forwards):
    out = quick_run.stdout
    assert f"CHECK {name} forwards: {forwards} == {forwards} ok" in out
    for check in CHECKS:
        assert f"CHECK {name} {check}: fail with planted forwards, pass without ok" in out


def test_nft_json_row_checked_or_skipped_with_reason(quick_run):
    out = quick_run.stdout
    if _json_row_possible():
        assert "CHECK nft-json forwards: 150 == 150 ok" in out
        assert re.search(r"^\| nft -j parse \+ analysis \(same ruleset\) \| \d", out, re.M)
    else:
        assert re.search(r"^\| nft -j parse \+ analysis \|.*skipped: \S", out, re.M)


def test_table_lists_every_measurement(quick_run):
    rows = [line for line in quick_run.stdout.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert len(names) == 6
    assert any(n.startswith("ciscoconfparse2") for n in names)
    assert any(n.startswith("ratio ours") for n in names)


def test_wrong_count_is_reported_as_failure():
    """A parser that loses forwards must make the benchmark fail, not print numbers."""
    spec = importlib.util.spec_from_file_location("bench_parse", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_parse"] = bench      # dataclasses look their module up there
    spec.loader.exec_module(bench)
    report = bench.parse_and_analyze("cisco_ios", "show running-config", bench.ios_config(bench.QUICK))
    clean = bench.parse_and_analyze("cisco_ios", "show running-config", bench.ios_config(bench.QUICK, planted=0))
    assert bench.verify("ios", report, clean, 200)
    with pytest.raises(bench.BenchError, match="199 forwards parsed"):
        report["forwards"].pop()
        bench.verify("ios", report, clean, 200)
    with pytest.raises(bench.BenchError, match="AWX-SRV-007"):
        bench.verify("ios", clean, clean, 200)
