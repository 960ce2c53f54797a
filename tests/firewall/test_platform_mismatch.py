"""firewall.parsers.platform_mismatch: live output that is not the configured platform's is named for what it
looks like (a wrong parser can read foreign output as an empty configuration, which would pass every check),
and no real published output of a platform is ever taken for another."""
from __future__ import annotations

from pathlib import Path

import pytest

from device_drivers.exceptions import WrongPlatform
from firewall.parsers import platform_mismatch
from hardening.engine.health import reason_of

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "router-samples"
DIRS = {"cisco_asa": "cisco_asa", "cisco_ios": "cisco_ios", "edgeos": "ubiquiti_edgerouter", "fortinet": "fortinet",
        "juniper": "juniper_junos", "linux": "linux", "mikrotik": "mikrotik_routeros", "openwrt": "openwrt",
        "pfsense": "pfsense", "vyos": "vyos"}
CASES = sorted((platform, path) for folder, platform in DIRS.items() for path in (SAMPLES / folder).glob("*.txt"))


@pytest.mark.parametrize("platform, path", CASES, ids=[p.name for _, p in CASES])
def test_a_platforms_own_output_fits_it(platform, path):
    assert platform_mismatch(platform, {"cmd": path.read_text()}) is None


@pytest.mark.parametrize("configured, sample, looks_like", [
    ("cisco_ios", "mikrotik/firewall_dstnat_script_oenik.txt", "mikrotik_routeros"),
    ("juniper_junos", "vyos/show_configuration_commands_nat_basic.txt", "vyos"),     # junos reads it as empty
    ("fortinet", "cisco_ios/running_config_nat_static_margrave.txt", "cisco_ios"),
    ("linux", "pfsense/config_xml_nat_port_forward_pfsensible.txt", "pfsense"),
])
def test_foreign_output_is_named(configured, sample, looks_like):
    found = platform_mismatch(configured, {"a": "", "b": (SAMPLES / sample).read_text()})
    assert found is not None and found[0] == looks_like and found[1] >= 0.5


def test_siblings_that_read_the_same_outputs_are_no_mismatch():
    fw4 = (SAMPLES / "linux" / "nft_ruleset_fw4_redirect.txt").read_text()       # openwrt scores it higher
    assert platform_mismatch("linux", {"nft list ruleset": fw4}) is None
    edgeos = (SAMPLES / "edgeos" / "config_boot_port_forward_upnp_adrienkohlbecker.txt").read_text()
    assert platform_mismatch("vyos", {"show configuration commands": edgeos}) is None


def test_a_shell_refusing_the_cli_commands_is_linux():
    outputs = {"show version": "\x1b[?2004l\n-bash: show: command not found",
               "show running-config": "-bash: show: command not found"}
    assert platform_mismatch("cisco_ios", outputs) == (
        "linux", 0.5, "a POSIX shell answered '-bash: show: command not found'")
    assert platform_mismatch("linux", outputs) is None                       # a shell is what linux expects
    assert platform_mismatch("cisco_ios", {"show version": "% Invalid input detected at '^' marker."}) is None


def test_the_error_names_both_platforms_and_is_its_own_reason_class():
    exc = WrongPlatform("10.0.0.1:22", "cisco_ios", "mikrotik_routeros", 0.9, "by its content")
    assert str(exc) == ("10.0.0.1:22: the output looks like mikrotik_routeros (confidence 0.9), not cisco_ios as "
                        "configured: set the device's device_type to the platform it runs")
    assert exc.looks_like == "mikrotik_routeros" and reason_of(exc) == "wrong platform"
