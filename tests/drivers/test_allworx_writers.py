"""Remediation writers: set_setting() through the web map changes the simulator and reads back."""
from __future__ import annotations

from typing import Iterator

import pytest

from device_drivers.allworx.errors import ChangeRejected
from device_drivers.allworx.webmap import WebMapError
from device_drivers.exceptions import ChangeRejected as SharedChangeRejected
from device_drivers.facts import Secret
from simulator import Site, start_site
from simulator.testing import driver


@pytest.fixture(params=["insecure", "secure"])
def site(request) -> Iterator[Site]:
    """7.x (insecure) and 8.x (secure) servers: different URLs and field names, same logical names."""
    with start_site(request.param, snmp=False, phones=0, px=0) as running:
        yield running


WRITES = {"network_mode": "nat_firewall", "stealth": True, "wan_admin_enabled": False,
          "pnp_lan_creates_enabled": False, "pnp_wan_creates_enabled": False, "smtp_port": 20025,
          "imap_port": 20143, "require_strong_passwords": True, "vpn_configured": True, "pppoe": True}


def test_writes_read_back_and_change_the_device(site: Site):
    server = driver(site, "allworx-server")
    for name, value in WRITES.items():
        before = site.server.state.get(name)
        result = server.set_setting(name, value)
        assert result["before"] == before and result["after"] == value, name
        assert result["changed"] is (before != value) and result["dry_run"] is False
        assert site.server.state.get(name) == value, name
    facts = server.gather(channels=["web"])
    assert {name: facts.value(name) for name in WRITES} == WRITES


def test_other_settings_on_the_same_page_survive(site: Site):
    snapshot = site.server.state.snapshot()
    driver(site, "allworx-server").set_setting("pnp_wan_creates_enabled", not snapshot["pnp_wan_creates_enabled"])
    after = site.server.state.snapshot()
    changed = {k for k in snapshot if snapshot[k] != after[k]}
    assert changed == {"pnp_wan_creates_enabled"}


def test_dry_run_touches_nothing(site: Site):
    before = site.server.state.snapshot()
    result = driver(site, "allworx-server").set_setting("network_mode", "standard_router", dry_run=True)
    assert result["dry_run"] and result["after"] == "standard_router"
    assert site.server.state.snapshot() == before


def test_partial_wan_services_and_secrets(site: Site):
    server = driver(site, "allworx-server")
    result = server.set_setting("wan_services", {"ftp": False, "smtp": False})
    assert result["after"] == {**result["before"], "ftp": False, "smtp": False}
    rotated = server.set_setting("phone_admin_password", Secret("Zr8#Lq2!vN5xMw7k"))
    assert isinstance(rotated["after"], Secret) and "Zr8#" not in repr(rotated)
    assert site.server.state.get("phone_admin_password") == "Zr8#Lq2!vN5xMw7k"


def test_menu_path_for_manual_steps_follows_the_version(site: Site):
    result = driver(site, "allworx-server").set_setting("pnp_lan_creates_enabled", False, dry_run=True)
    assert result["menu"] == "Servers > VoIP > Modify: Disable Phone Creates via LAN Plug and Play"
    assert driver(site, "allworx-server").manual_step("pnp_lan_creates_enabled", "6.2.0.1") == \
        "Servers > VoIP Server > Modify: Disable Phone Creates via LAN Plug and Play"


def test_device_refusal_is_change_rejected(site: Site):
    taken = site.server.state.get("imap_port")
    with pytest.raises(ChangeRejected, match="ports must differ") as err:
        driver(site, "allworx-server").set_setting("smtp_port", taken)
    assert isinstance(err.value, SharedChangeRejected)
    assert site.server.state.get("smtp_port") != taken


@pytest.mark.parametrize("name, value, message", [
    ("network_mode", "bridge", "is not one of"), ("smtp_port", 0, "expected an integer 1..65535"),
    ("stealth", "yes", "expected true or false"), ("wan_services", {"telnet": True}, "unknown services"),
    ("colour", "red", "unknown setting 'colour'"), ("pnp_secret_key", "", "non-empty string")])
def test_bad_values_fail_before_any_write(site: Site, name, value, message):
    before = site.server.state.snapshot()
    with pytest.raises(WebMapError, match=message):
        driver(site, "allworx-server").set_setting(name, value)
    assert site.server.state.snapshot() == before
