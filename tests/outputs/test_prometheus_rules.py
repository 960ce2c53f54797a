"""The shipped Prometheus alert rules, unit-tested with the real `promtool test rules` (Debian
`prometheus`; scripts/install-system-deps.sh installs it, CI has it), and kept in step with the
metrics the appliance exposes."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from hardening.outputs import prometheus

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "hardening" / "data" / "prometheus" / "alerts.yml"
TESTS = sorted((Path(__file__).parent / "promtool").glob("*.yml"))


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool not installed (Debian package prometheus; scripts/install-system-deps.sh)")
def test_promtool_checks_and_unit_tests_the_rules():
    checked = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert TESTS, "no promtool test files in tests/outputs/promtool"
    done = subprocess.run(["promtool", "test", "rules", *map(str, TESTS)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout and "FAILED" not in done.stdout


def test_every_rule_has_a_promtool_test_and_reads_an_exposed_metric():
    tested = {case["alertname"] for path in TESTS for test in yaml.safe_load(path.read_text())["tests"]
              for case in test.get("alert_rule_test", [])}
    names = [rule["alert"] for rule in _rules()]
    assert names and set(names) <= tested, sorted(set(names) - tested)
    for rule in _rules():
        used = set(re.findall(r"\bawxh_[a-z_]+", rule["expr"]))
        assert used and used <= set(prometheus.HELP), (rule["alert"], used - set(prometheus.HELP))
