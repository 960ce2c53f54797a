"""Helpful errors (issue 15 point 6): a file for the wrong platform names the platform it looks like, a
ParseError points at the line (number and text) and says what was expected, detection reads pastes, and
`analyze-config` without --platform says what it detected."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from firewall import parsers
from firewall.model import ParseError
from firewall.parsers import PlatformMismatch, detect_platform

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "router-samples"
MARGRAVE = SAMPLES / "cisco_ios" / "running_config_nat_static_margrave.txt"


def _text(path: str) -> str:
    return (SAMPLES / path).read_text()


def test_an_unreadable_file_for_the_wrong_platform_names_the_one_it_looks_like():
    with pytest.raises(ParseError) as caught:
        parsers.parse("cisco_ios", _text("mikrotik/firewall_dstnat_script_oenik.txt"))
    message = str(caught.value)
    assert "at line 1 ('# Written for RouterOS 7.18')" in message
    assert "expected the output of 'show version', 'show running-config'" in message
    assert message.endswith("it looks like mikrotik_routeros output (confidence 1.00)")


@pytest.mark.parametrize("platform, sample, looks_like", [
    ("juniper_junos", "vyos/show_configuration_commands_nat_basic.txt", "vyos"),
    ("fortinet", "cisco_ios/running_config_nat_static_margrave.txt", "cisco_ios"),
])
def test_foreign_output_a_parser_would_read_as_empty_is_refused_not_passed(platform, sample, looks_like):
    """An empty configuration passes every forward check: output of another platform must not become one."""
    with pytest.raises(PlatformMismatch) as caught:
        parsers.parse(platform, {"show configuration": _text(sample)})
    assert caught.value.looks_like == looks_like
    assert str(caught.value).startswith(f"this is not {platform} output: it looks like {looks_like} (confidence")


def test_a_platform_that_cannot_say_what_it_saw_still_gets_the_look_alike():
    with pytest.raises(ParseError, match=r"it looks like pfsense output \(confidence 0\.98\)$"):
        parsers.parse("linux", _text("pfsense/config_xml_nat_port_forward_pfsensible.txt"))


def test_the_error_for_an_output_under_the_wrong_command_names_line_and_expectation():
    with pytest.raises(ParseError) as caught:
        parsers.parse("cisco_asa", {"show xlate": _text("cisco_asa/show_nat_ntc.txt")})
    assert str(caught.value) == (
        "cisco_asa: output of 'show xlate' not recognised at line 1 ('Manual NAT Policies (Section 1)'); "
        "expected the output of 'show version', 'show running-config', 'show nat', 'show xlate'")


def test_a_platforms_own_output_is_never_refused_as_foreign():
    cfg = parsers.parse("cisco_ios", {"show running-config": MARGRAVE.read_text()})
    assert len(cfg.forwards) == 3


def test_detection_reads_a_pasted_session():
    paste = ("\x1b[200~Router>en\r\nRouter#sh run\r\nBuilding configuration...\r\n" +
             MARGRAVE.read_text().replace("\r\n", "\n").replace("\n", "\r\n") + "Router#\x1b[201~")
    assert detect_platform(paste) == ("cisco_ios", 1.0)


def test_detection_failure_lists_the_platforms():
    with pytest.raises(ParseError) as caught:
        detect_platform("hello world\n")
    assert "(no platform's markers found)" in str(caught.value)
    assert ", ".join(parsers.PLATFORMS) in str(caught.value)


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", "analyze-config", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_analyze_config_without_platform_says_what_it_detected():
    proc = _cli("--server-lan-ip", "192.168.2.6", str(MARGRAVE))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ("detected platform cisco_ios (confidence 1.0); "
                                   "name it with --platform if that is wrong")
    assert json.loads(proc.stdout)["detection"] == {"platform": "cisco_ios", "confidence": 1.0, "detected": True}


def test_analyze_config_with_the_wrong_platform_names_the_right_one():
    proc = _cli("--platform", "fortinet", str(MARGRAVE))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "this is not fortinet output: it looks like cisco_ios" in proc.stderr
