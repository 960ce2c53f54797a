"""AllworxServerDriver against the simulator (both presets) and against snmpsim serving the real walk."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from device_drivers.allworx import AllworxServerDriver
from device_drivers.facts import DeviceFacts, Secret
from simulator import Site, start_site
from simulator.snmp import SnmpAgent
from simulator.testing import QUICK, driver

WALK = Path(__file__).resolve().parents[1] / "fixtures" / "allworx" / "snmp" / "connect731.snmprec"
SETTINGS = ("network_mode", "stealth", "wan_admin_enabled", "wan_services", "pppoe", "vpn_configured",
            "smtp_port", "imap_port", "pop3_port", "pnp_lan_creates_enabled", "pnp_wan_creates_enabled",
            "phone_admin_password", "pnp_secret_key", "require_strong_passwords")


@pytest.fixture(scope="module")
def gathered() -> Iterator[dict[str, DeviceFacts]]:
    out = {}
    for preset in ("insecure", "secure"):
        with start_site(preset, phones=0, px=0) as site:
            out[preset] = driver(site, "allworx-server").gather()
    yield out


def test_every_channel_delivers_without_errors(gathered):
    for preset, facts in gathered.items():
        assert facts.errors == {}, preset
        assert facts.kind == "allworx_server"
        for key in SETTINGS + ("model", "software_version", "sys_object_id", "mac", "port_roles",
                               "open_ports", "banners", "sip_server_header", "admin_password"):
            assert key in facts.facts, (preset, key)


def test_presets_give_opposite_facts(gathered):
    bad, good = gathered["insecure"], gathered["secure"]
    expected = {"network_mode": ("standard_router", "nat_firewall"), "stealth": (False, True),
                "wan_admin_enabled": (True, False), "pnp_lan_creates_enabled": (True, False),
                "pnp_wan_creates_enabled": (True, False), "smtp_port": (25, 10025), "imap_port": (143, 10143),
                "require_strong_passwords": (False, True), "vpn_configured": (False, True),
                "software_version": ("7.4.8.3", "8.3.5.4")}
    for key, (insecure, secure) in expected.items():
        assert (bad.value(key), good.value(key)) == (insecure, secure), key
    assert bad.value("wan_services")["admin"] is True and good.value("wan_services")["admin"] is False
    assert bad.value("wan_services")["smtp"] is True and good.value("wan_services")["smtp"] is False


def test_secrets_are_secret_and_match_the_device(gathered):
    phone_pw = gathered["insecure"].get("phone_admin_password")
    assert isinstance(phone_pw.value, Secret) and phone_pw.value.reveal() == "1234"
    assert "1234" not in repr(phone_pw) and phone_pw.excerpt == "PhoneAdminPassword=***"
    assert gathered["secure"].value("pnp_secret_key").reveal() == "b7E2!xQ9#mK4vT8wZ3pR"
    admin = gathered["insecure"].get("admin_password")
    assert admin.provenance == "declared" and admin.value.reveal() == "Allworx"


def test_provenance_and_sources(gathered):
    facts = gathered["secure"]
    assert facts.get("software_version").source == "snmp:1.3.6.1.2.1.27.1.1.4.1"
    mode = facts.get("network_mode")
    assert mode.provenance == "device" and mode.source.startswith("http:/cgi/network/config ")
    assert mode.excerpt == "net_mode=NAT Firewall"
    assert facts.get("open_ports").provenance == "observed"
    voip = gathered["insecure"].get("pnp_lan_creates_enabled")
    assert "Servers > VoIP > Modify: Disable Phone Creates via LAN Plug and Play" in voip.source


def test_probes_see_the_confirmed_banners(gathered):
    banners = gathered["insecure"].value("banners")
    assert any(b == "220 allworx-insecure.sim InSciTek OIS Ready here ESMTP" for b in banners.values())
    assert any("(InSciTek OIS) ready <" in b for b in banners.values())
    assert any(b == "HTTP/1.0 403 Forbidden | Server: IST OIS" for b in banners.values())
    assert gathered["insecure"].value("sip_server_header") == "Allworx-Sim-Server/7.4"
    assert any(p.startswith("udp/") for p in gathered["insecure"].value("open_ports"))


def test_declared_facts_yield_to_device_reads():
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        facts = driver(site, "allworx-server", declared_facts={"network_mode": "standard_router",
                                                               "av_attested_until": "2030-01-01"}).gather(
            channels=["web"])
    assert facts.get("network_mode").value == "nat_firewall" and facts.get("network_mode").provenance == "device"
    assert facts.get("av_attested_until").provenance == "declared"


def test_six_x_server_is_read_through_the_voip_server_page():
    with start_site("insecure", snmp=False, phones=0, px=0,
                    overrides={"server": {"software_version": "6.9.2.1"}}) as site:
        facts = driver(site, "allworx-server").gather(channels=["web"])
    assert facts.errors == {}
    assert facts.value("software_version") == "6.9.2.1"
    assert "/servers/voipserver (Servers > VoIP Server > Modify" in facts.get("pnp_wan_creates_enabled").source


def test_real_connect731_walk():
    """snmpsim serving the unmodified LibreNMS walk of a Connect 731."""
    agent = SnmpAgent("127.0.0.1", 0, "public", WALK.read_text(encoding="utf-8"))
    agent.start()
    try:
        server = AllworxServerDriver("127.0.0.1", snmp={"port": agent.port}, options=QUICK)
        facts = server.gather(channels=["snmp"])
    finally:
        agent.stop()
    assert facts.errors == {}
    assert facts.value("model") == "Allworx Connect 731"
    assert facts.value("software_version") == "8.3.5.4"
    assert facts.value("sys_object_id") == "1.3.6.1.4.1.38516.2.5.1.0"
    assert facts.value("port_roles") == {"eth0": "lan", "eth1": "wan"}
    assert facts.value("mac") == "00:0A:DD:05:41:6E"
    assert facts.get("mac").excerpt == "ifPhysAddress.1 = 00:0A:DD:05:41:6E"


def test_get_facts_needs_open_and_identifies(insecure_server_site: Site):
    server = driver(insecure_server_site, "allworx-server")
    with pytest.raises(Exception, match="not open"):
        server.get_facts()
    with server:
        assert server.is_open
        facts = server.get_facts()
    assert not server.is_open
    assert facts == {"device_type": "allworx_server", "hostname": "allworx-server", "vendor": "Allworx",
                     "model": "Allworx Connect 731", "os_version": "7.4.8.3", "serial": ""}
    assert "Allworx" not in repr(server).replace("AllworxServerDriver", "")        # no password in repr


@pytest.fixture(scope="module")
def insecure_server_site() -> Iterator[Site]:
    with start_site("insecure", snmp=False, phones=0, px=0) as site:
        yield site


@pytest.mark.parametrize("kwargs, message", [
    ({"address": "allworx.local"}, "address must be an IP address"),
    ({"address": "127.0.0.1", "ports": {"web": 80}}, "unknown port name 'web'"),
    ({"address": "127.0.0.1", "ports": {"web_admin": 70000}}, "must be 1..65535"),
    ({"address": "127.0.0.1", "declared_facts": {"colour": "red"}}, "unknown declared fact"),
])
def test_bad_inputs_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AllworxServerDriver(**kwargs)


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="unknown channel"):
        AllworxServerDriver("127.0.0.1").gather(channels=["telnet"])
