"""start_site(), presets, the inventory, the SNMP walk per preset, real ports and the CLI."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from device_drivers.allworx import snmp
from simulator import Site, start_site
from simulator.presets import PresetError, load
from simulator.snmp import APPL_VERSION, WALK, walk_for
from tests.simulator.wire import greeting

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "allworx" / "snmp" / "connect731.snmprec"


def test_inventory_lists_every_device_with_ports_and_credentials(insecure_site: Site):
    inventory = insecure_site.inventory()
    assert [e["kind"] for e in inventory] == ["allworx_server"] + ["allworx_phone"] * 3 + ["px_expander"]
    server = inventory[0]
    assert set(server["ports"]) == {"web_admin", "sip", "smtp", "pop3", "imap"}
    assert server["credentials"] == {"username": "admin", "password": "Allworx", "snmp_community": "public"}
    assert server["snmp"]["port"] > 0 and server["wan_address"] is None
    assert [e["credentials"]["password"] for e in inventory[1:4]] == ["1234"] * 3
    assert inventory[4]["credentials"]["password"] == "admin"
    assert len({e["address"] for e in inventory}) == 5


def test_simulator_walk_is_the_shared_fixture():
    assert WALK.read_text() == FIXTURE.read_text()
    assert (WALK.parent / "connect731.source.md").is_file()


def test_walk_rewrite_changes_only_the_version():
    original = WALK.read_text().splitlines()
    rewritten = walk_for("7.4.8.3", "Allworx Connect 731").splitlines()
    changed = [(a, b) for a, b in zip(original, rewritten) if a != b]
    assert len(original) == len(rewritten)
    assert changed == [(f"{APPL_VERSION}|4|8.3.5.4", f"{APPL_VERSION}|4|7.4.8.3")]
    delayed = walk_for("8.3.5.4", "Allworx Connect 731", latency_ms=20)
    assert "1.3.6.1.2.1.1.1.0|4:delay|value=Allworx Connect 731,wait=20" in delayed


def test_snmp_version_follows_the_preset(insecure_site: Site, secure_site: Site):
    for site, version in ((insecure_site, "7.4.8.3"), (secure_site, "8.3.5.4")):
        entry = site.inventory()[0]
        reading = snmp.read(entry["address"], entry["snmp"]["port"], "public")
        assert reading.scalars[APPL_VERSION] == version
        assert reading.scalars["1.3.6.1.2.1.1.1.0"] == "Allworx Connect 731"


def test_presets_differ_where_the_notice_says(insecure_site: Site, secure_site: Site):
    bad, good = insecure_site.server.state.snapshot(), secure_site.server.state.snapshot()
    assert (bad["network_mode"], good["network_mode"]) == ("standard_router", "nat_firewall")
    assert bad["wan_admin_enabled"] and not good["wan_admin_enabled"]
    assert bad["pnp_lan_creates_enabled"] and bad["pnp_wan_creates_enabled"]
    assert not good["pnp_lan_creates_enabled"] and not good["pnp_wan_creates_enabled"]
    assert (bad["smtp_port"], bad["imap_port"]) == (25, 143)
    assert good["smtp_port"] not in (25, 465, 587) and good["imap_port"] not in (143, 993)
    assert bad["phone_admin_password"] == "1234" and len(good["phone_admin_password"]) >= 12


@pytest.mark.parametrize("overrides, message", [
    ({"server": {"software_version": "5.0.0.1"}}, "no web map for software version"),
    ({"server": {"settings": {"network_mode": "bridge"}}}, "is not one of"),
    ({"server": {"settings": {"smtp_port": 0}}}, "smtp_port"),
    ({"server": {"settings": {"mystery": True}}}, "unknown \\['mystery'\\]"),
    ({"phones": {"models": []}}, "phones.models is empty"),
])
def test_bad_presets_name_the_problem(overrides, message):
    with pytest.raises(PresetError, match=message):
        load("insecure", overrides)


def test_unknown_preset_and_bad_arguments():
    with pytest.raises(PresetError, match="available: insecure, secure"):
        start_site("medium")
    with pytest.raises(ValueError, match="loopback only"):
        start_site("insecure", address_block="10.0.0")
    with pytest.raises(ValueError, match="base_port or real_ports"):
        start_site("insecure", base_port=20000, real_ports=True)


def test_base_port_gives_sequential_ports():
    base = 20000 + os.getpid() % 20000
    with start_site("secure", base_port=base, snmp=False, phones=1, px=0) as site:
        ports = sorted(p for e in site.inventory() for p in e["ports"].values())
        assert ports == list(range(base, base + 7))


def test_real_ports_bind_standard_ports_and_move_mail():
    if os.geteuid() != 0:
        pytest.skip("real_ports binds ports below 1024: needs root")
    with start_site("insecure", real_ports=True, snmp=False, phones=1, px=0) as site:
        server = site.server
        assert server.address.startswith("127.") and not server.address.startswith("127.0.0.")
        assert server.ports["web_admin"] == 8080 and server.ports["smtp"] == 25
        assert "InSciTek OIS" in greeting(server.address, 25)
        assert server.state.update({"smtp_port": 2525}) is None
        assert "InSciTek OIS" in greeting(server.address, 2525) and server.ports["smtp"] == 2525
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((server.address, 25), timeout=2).close()


def test_cli_prints_endpoints_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--preset", "secure", "--no-snmp", "--px", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        out = json.loads("".join(lines))
        assert out["preset"] == "secure" and [d["kind"] for d in out["devices"]][:2] == \
            ["allworx_server", "allworx_phone"]
        assert "password" not in "".join(lines)
        address, port = out["devices"][0]["services"]["smtp"].split("//")[1].split(":")
        assert "InSciTek OIS" in greeting(address, int(port))
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_cli_rejects_bad_arguments():
    proc = subprocess.run([sys.executable, "-m", "simulator", "--preset", "insecure", "--base-port", "70000"],
                          cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "base_port must be" in proc.stderr


def test_listeners_do_no_reverse_dns(monkeypatch):
    # http.server would ask getfqdn() per listener: a DNS query off loopback (and a 5 s stall in a netns)
    def refuse(*_args):
        raise AssertionError("the simulator must not resolve names")
    monkeypatch.setattr(socket, "getfqdn", refuse)
    with start_site("insecure", snmp=False, phones=2, px=1) as site:
        assert len(site.devices) == 4
