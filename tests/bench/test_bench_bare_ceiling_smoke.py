"""Smoke test of bench/bare_ceiling.py with a short, light load: every gunicorn setting it tries starts,
answers every request and gets its row of numbers (never the numbers themselves)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "bare_ceiling.py"

pytestmark = pytest.mark.slow


def test_every_setting_is_measured():
    sys.path.insert(0, str(ROOT))
    from bench.bare_ceiling import SETTINGS
    run = subprocess.run([sys.executable, str(BENCH), "--duration", "1", "--warmup", "0.3", "--rounds", "1",
                          "--clients", "4"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {line.split("|")[1].strip(): line for line in run.stdout.splitlines()
            if line.startswith("| ") and "req/s" in line}
    assert set(rows) == set(SETTINGS)
    for name, row in rows.items():
        throughput, p50, p99 = re.search(r"\| (\d+) req/s .*\| ([\d.]+) / ([\d.]+) ms \|", row).groups()
        assert int(throughput) > 0 and 0 < float(p50) <= float(p99), f"{name}: {row}"
    assert "settings with p99 < 25 ms:" in run.stdout
