"""The simulated server web admin: sessions, settings forms from the web map, lockout, faults."""
from __future__ import annotations

import time

import pytest

from device_drivers.allworx.forms import parse
from simulator import Site, start_site
from simulator.auth import LOCKOUT_TEXT, LoginGuard
from tests.simulator.wire import cookie_of, http


def login(site: Site, password: str | None = None) -> str:
    server = site.server
    reply = http(server.address, server.ports["web_admin"], "/login", "POST",
                 {"username": "admin", "password": password or server.state.admin_password})
    return cookie_of(reply)


def page(site: Site, path: str, cookie: str) -> str:
    server = site.server
    return http(server.address, server.ports["web_admin"], path, cookie=cookie).decode()


def test_login_sets_a_session_cookie_that_opens_admin_pages(fresh_site: Site):
    cookie = login(fresh_site)
    assert cookie.startswith("OISSESSION=")
    about = page(fresh_site, "/home/about", cookie)
    assert 'id="software-version">7.4.8.3<' in about and 'id="model">Allworx Connect 731<' in about
    assert "Standard Router" in page(fresh_site, "/network/configuration", cookie)


def test_wrong_password_gets_no_cookie(fresh_site: Site):
    server = fresh_site.server
    reply = http(server.address, server.ports["web_admin"], "/login", "POST",
                 {"username": "admin", "password": "nope"})
    assert cookie_of(reply) == "" and b"Login failed" in reply


def test_settings_form_round_trip_with_checkbox_semantics(fresh_site: Site):
    cookie = login(fresh_site)
    form = parse(page(fresh_site, "/servers/voip", cookie))
    assert "DisableLANPnP" in form.fields and "DisableLANPnP" not in form.values      # PnP on: box unchecked
    values = dict(form.values, DisableLANPnP="on")
    server = fresh_site.server
    reply = http(server.address, server.ports["web_admin"], "/servers/voip", "POST", values, cookie)
    assert reply.startswith(b"HTTP/1.0 302")
    assert server.state.get("pnp_lan_creates_enabled") is False
    assert server.state.get("pnp_wan_creates_enabled") is True                           # untouched


def test_invalid_value_is_refused_and_state_kept(fresh_site: Site):
    cookie = login(fresh_site)
    form = parse(page(fresh_site, "/network/configuration", cookie))
    server = fresh_site.server
    reply = http(server.address, server.ports["web_admin"], "/network/configuration", "POST",
                 dict(form.values, NetworkMode="Bridge"), cookie).decode()
    assert reply.startswith("HTTP/1.0 200") and "Invalid value" in reply
    assert server.state.get("network_mode") == "standard_router"


def test_lockout_after_bad_logins_blocks_even_the_right_password():
    with start_site("insecure", snmp=False, phones=0, px=0,
                    overrides={"lockout": {"max_failures": 3, "window_seconds": 60}}) as site:
        for _ in range(3):
            assert login(site, "wrong") == ""
        server = site.server
        reply = http(server.address, server.ports["web_admin"], "/login", "POST",
                     {"username": "admin", "password": server.state.admin_password}).decode()
        assert LOCKOUT_TEXT in reply and cookie_of(reply.encode()) == ""
        assert server.guard.attempts == 4


def test_guard_window_and_expiry_with_a_clock():
    now = [0.0]
    guard = LoginGuard(max_failures=2, window_seconds=10, lockout_seconds=30, clock=lambda: now[0])
    assert guard.check(False) == "bad"
    now[0] = 11.0                               # the first failure left the window
    assert guard.check(False) == "bad" and not guard.is_locked()
    assert guard.check(False) == "bad" and guard.is_locked()
    assert guard.check(True) == "locked"
    now[0] = 42.0
    assert guard.check(True) == "ok"


def test_version_six_uses_the_voip_server_page():
    with start_site("insecure", snmp=False, phones=0, px=0,
                    overrides={"server": {"software_version": "6.9.2.1"}}) as site:
        cookie = login(site)
        assert "Servers &gt; VoIP Server &gt; Modify" in page(site, "/servers/voipserver", cookie)
        assert page(site, "/servers/voip", cookie).startswith("HTTP/1.0 404")


def test_faults_and_latency(fresh_site: Site):
    server = fresh_site.server
    fresh_site.set_fault(server.name, "garbled")
    assert b"<form" not in http(server.address, server.ports["web_admin"], "/login")
    fresh_site.set_fault(server.name, "reset")
    assert http(server.address, server.ports["web_admin"], "/login") == b""
    fresh_site.set_fault(server.name, None)
    fresh_site.set_latency(150)
    started = time.monotonic()
    http(server.address, server.ports["web_admin"], "/login")
    assert time.monotonic() - started >= 0.15
    with pytest.raises(ValueError, match="unknown fault"):
        fresh_site.set_fault(server.name, "melt")
