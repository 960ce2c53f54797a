"""Channel faults become DeviceFacts.errors entries that name the reason, never a silent pass."""
from __future__ import annotations

import socket
from typing import Iterator

import pytest

from device_drivers.allworx import AllworxServerDriver, DriverOptions
from device_drivers.allworx.errors import Garbled, Unreachable
from device_drivers.exceptions import DeviceUnreachable, GarbledOutput
from simulator import Site, start_site
from simulator.testing import driver


@pytest.fixture
def site() -> Iterator[Site]:
    with start_site("insecure", snmp=False, phones=1, px=0) as running:
        yield running


def closed_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]            # nothing listens once the socket is closed


def test_closed_web_port(site: Site):
    server = site.server
    facts = driver(site, server.name, ports={**server.ports, "web_admin": closed_port(server.address)}).gather(
        channels=["web"])
    assert facts.errors["web"].startswith("unreachable: http://127.0.0.20:")
    assert "Connection refused" in facts.errors["web"]
    assert "network_mode" not in facts.facts


def test_wrong_password(site: Site):
    facts = driver(site, "allworx-server", credentials={"username": "admin", "password": "wrong"}).gather(
        channels=["web"])
    assert facts.errors == {"web": "auth failure: login rejected at http://127.0.0.20:"
                                   f"{site.server.ports['web_admin']}/login"}


def test_missing_password_is_recorded(site: Site):
    facts = driver(site, "allworx-server", credentials={}).gather(channels=["web"])
    assert facts.errors["web"].startswith("auth failure: allworx-server: no password in the inventory")


def test_garbled_pages(site: Site):
    site.set_fault("allworx-server", "garbled")        # every 200 page turns to garbage
    facts = driver(site, "allworx-server").gather(channels=["web"])
    assert facts.errors["web"] == "garbled page: /home/about (Home > About) shows no software version"
    assert "software_version" not in facts.facts
    assert isinstance(Garbled("x"), GarbledOutput)


def test_one_garbled_page_keeps_the_other_facts(site: Site, monkeypatch):
    from simulator import html
    real = html.settings_form

    def broken(action, settings, values, note=""):
        return "<p>oops</p>" if action == "/servers/email" else real(action, settings, values, note)
    monkeypatch.setattr(html, "settings_form", broken)
    facts = driver(site, "allworx-server").gather(channels=["web"])
    assert facts.errors["web"].startswith("garbled page: smtp_port: field(s) ['SMTPPort'] not on")
    assert "smtp_port" not in facts.facts and facts.value("network_mode") == "standard_router"


def test_timeout(site: Site):
    site.set_latency(800)
    server = driver(site, "allworx-server", options=DriverOptions(timeout=0.2, probe_timeout=0.2))
    facts = server.gather(channels=["web"])
    assert facts.errors["web"].startswith("timeout: no answer from http://127.0.0.20:")
    assert facts.errors["web"].endswith("within 0.2s")


def test_connection_reset(site: Site):
    site.set_fault("phone-101", "reset")
    facts = driver(site, "phone-101").gather(channels=["web"])
    assert facts.errors["web"].startswith("unreachable: ")
    assert isinstance(Unreachable("x"), DeviceUnreachable)


def test_snmp_timeout_and_dead_probes():
    address = "127.0.0.1"
    server = AllworxServerDriver(address, snmp={"port": closed_port(address)},
                                 ports={"web_admin": closed_port(address), "sip": closed_port(address),
                                        "smtp": closed_port(address), "pop3": closed_port(address),
                                        "imap": closed_port(address)},
                                 options=DriverOptions(snmp_timeout=0.2, snmp_retries=0, probe_timeout=0.2),
                                 policy={"credential_test": {}, "admin_ports": [], "mail_ports": []})
    facts = server.gather(channels=["snmp", "probes"])
    assert facts.errors["snmp"].startswith("timeout: no SNMP response from 127.0.0.1:")
    assert facts.errors["probes"].startswith("error: no answer on any probed port (tcp/")
    assert facts.value("open_ports") == []


def test_lockout_sign_during_gather_is_named():
    with start_site("insecure", snmp=False, phones=0, px=0, overrides={"lockout": {"max_failures": 1}}) as site:
        bad = driver(site, "allworx-server", credentials={"username": "admin", "password": "wrong"})
        assert bad.gather(channels=["web"]).errors["web"].startswith("auth failure")
        facts = driver(site, "allworx-server").gather(channels=["web"])
    assert facts.errors["web"].startswith("lockout sign: http://127.0.0.20:")
