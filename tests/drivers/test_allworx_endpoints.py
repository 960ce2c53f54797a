"""AllworxPhoneDriver and PxExpanderDriver against the simulated phones and expander."""
from __future__ import annotations

from typing import Iterator

import pytest

from device_drivers.allworx import AllworxPhoneDriver, PxExpanderDriver
from device_drivers.allworx.webmap import WebMapError
from simulator import Site, start_site
from simulator.testing import driver


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, Site]]:
    with start_site("insecure", snmp=False) as bad, start_site("secure", snmp=False) as good:
        yield {"insecure": bad, "secure": good}


def test_phone_facts(sites):
    for name, model, mac in (("phone-101", "ALLWORX 9212", "00:0A:DD:5E:00:10"),
                             ("phone-103", "ALLWORX 9312", "00:0A:DD:5E:00:12")):
        facts = driver(sites["insecure"], name).gather()
        assert facts.errors == {}
        assert facts.kind == "allworx_phone"
        assert (facts.value("model"), facts.value("mac")) == (model, mac)
        assert facts.get("model").source == "http:/" and facts.get("model").provenance == "device"
        assert facts.value("sip_server_header") == "Allworx-Sim-Phone"
        banner = next(iter(facts.value("banners").values()))
        assert banner == "HTTP/1.0 200 OK | Server: IST OIS | title: Phone&nbsp;Station&nbsp;Information"


def test_phone_password_follows_the_server_setting(sites):
    assert driver(sites["insecure"], "phone-101").gather().value("admin_password").reveal() == "1234"
    secure = driver(sites["secure"], "phone-101").gather()
    assert secure.errors == {} and secure.value("admin_password").reveal() == "Hx4#kP9!sW2qLr7m"


def test_px_facts(sites):
    facts = driver(sites["secure"], "px-1").gather()
    assert facts.errors == {} and facts.kind == "px_expander"
    assert facts.value("model") == "Px Expander" and facts.value("mac").startswith("00:0A:DD:")


def test_wrong_phone_password_is_an_auth_failure_but_status_facts_stay(sites):
    facts = driver(sites["insecure"], "phone-102", credentials={"password": "not-it"}).gather(channels=["web"])
    assert facts.errors["web"].startswith("auth failure: login rejected")
    assert facts.value("model") == "ALLWORX 9308"


def test_a_phone_is_not_a_px(sites):
    phone = sites["insecure"].device("phone-101")
    px = PxExpanderDriver(phone.address, ports={"web": phone.ports["web"]}, credentials={"password": "1234"})
    facts = px.gather(channels=["web"])
    assert facts.errors["web"].startswith("garbled page: / title is 'Phone&nbsp;Station&nbsp;Information'")
    assert "model" not in facts.facts


def test_px_password_rotation_reads_back_and_keeps_working():
    with start_site("insecure", snmp=False, phones=0, px=1) as site:
        px = driver(site, "px-1")
        result = px.set_setting("admin_password", "N3w!Px-Pass-4u#Q")
        assert result["changed"] and result["after"].reveal() == "N3w!Px-Pass-4u#Q"
        assert "N3w!" not in repr(result)
        assert site.device("px-1").state.password() == "N3w!Px-Pass-4u#Q"
        assert px.gather(channels=["web"]).errors == {}          # logs in with the new password


def test_phone_settings_live_on_the_server():
    with pytest.raises(WebMapError, match="Servers > VoIP > Modify"):
        AllworxPhoneDriver("127.0.0.1").set_setting("admin_password", "x")
