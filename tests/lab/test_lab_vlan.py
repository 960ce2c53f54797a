"""VLAN sub-interfaces for real, where the kernel has 802.1Q; a skip with the reason where it has not."""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Iterator

import pytest

from firewall.parsers import parse

pytestmark = pytest.mark.lab


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def scratch_ns() -> Iterator[str]:
    """A throw-away namespace with a veth pair v0/v1 (no lab needed)."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("VLAN capability probe needs root and iproute2")
    name = f"hlvlan{os.getpid()}"
    if _ip("netns", "add", name).returncode:
        pytest.skip(f"cannot create network namespace {name}")
    try:
        assert _ip("-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1").returncode == 0
        yield name
    finally:
        _ip("netns", "del", name)


def test_vlan_subinterface_is_read_back_by_the_linux_parser(scratch_ns):
    made = _ip("-n", scratch_ns, "link", "add", "link", "v0", "name", "v0.100", "type", "vlan",
               "id", "100")
    if made.returncode:
        reason = made.stderr.strip()
        if "Unknown device type" in reason or "not supported" in reason.lower():
            pytest.skip(f"this kernel lacks 802.1Q VLAN support (CONFIG_VLAN_8021Q): {reason}")
        pytest.fail(f"ip link add ... type vlan failed unexpectedly: {reason}")
    assert _ip("-n", scratch_ns, "addr", "add", "10.99.100.1/24", "dev", "v0.100").returncode == 0
    shown = _ip("-n", scratch_ns, "-j", "-d", "addr", "show").stdout
    config = parse("linux", {"ip -j -d addr show": shown})
    vlans = {v.vlan_id: v for v in config.vlans}
    assert 100 in vlans and vlans[100].interface == "v0.100"
    assert vlans[100].subnet in ("10.99.100.0/24", "10.99.100.1/24")
