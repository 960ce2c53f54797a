"""The shared web map: per-version lookup, drift between lines, the value codec, the page parser."""
from __future__ import annotations

import pytest

from device_drivers.allworx import webmap
from device_drivers.allworx.forms import parse
from device_drivers.allworx.webmap import WebMapError, decode, encode
from device_drivers.facts import FACT_KEYS, Secret


def test_lines_and_versions():
    assert webmap.lines() == ["7", "6", "8"]
    assert [webmap.line_for(v) for v in ("6.1.0.3", "7.4.10.2", "8.3.5.4", "9.1.2.0", "10.0.0.1")] == \
        ["6", "7", "8", "8", "8"]
    with pytest.raises(WebMapError, match="no web map for software version '5.9'"):
        webmap.for_version("5.9")


def test_voip_page_drifts_between_lines():
    v6, v7, v8 = (webmap.for_version(v).setting("pnp_wan_creates_enabled") for v in ("6.0.1.1", "7.6.0.1", "8.3.5.4"))
    assert (v6.menu, v7.menu) == ("Servers > VoIP Server > Modify", "Servers > VoIP > Modify")
    assert len({v6.path, v7.path, v8.path}) == 3
    assert (v7.field, v8.field) == ("DisableWANPnP", "disable_wan_pnp")
    assert v6.label == v7.label == "Disable Phone Creates via WAN (Remote Phone) Plug and Play"


def test_every_logical_setting_is_a_fact_key():
    for line in webmap.lines():
        assert set(webmap.for_line(line).settings) <= set(FACT_KEYS), line


@pytest.mark.parametrize("name, value, fields", [
    ("network_mode", "nat_firewall", {"NetworkMode": "NAT Firewall"}),
    ("wan_admin_enabled", False, {"WANAdmin": "Disable"}),
    ("stealth", True, {"StealthDMZ": "on"}),
    ("pnp_lan_creates_enabled", True, {"DisableLANPnP": None}),          # creates on = Disable box unchecked
    ("pnp_lan_creates_enabled", False, {"DisableLANPnP": "on"}),
    ("smtp_port", 2525, {"SMTPPort": "2525"}),
    ("pnp_secret_key", Secret("k3y"), {"PnPSecretKey": "k3y"}),
    ("wan_services", {"ftp": True, "sip": False}, {"WANSvcFTP": "on", "WANSvcSIP": None}),
])
def test_codec_round_trip(name, value, fields):
    setting = webmap.for_version("7.4.8.3").setting(name)
    assert encode(setting, value) == fields
    submitted = {k: v for k, v in fields.items() if v is not None}
    decoded = decode(setting, submitted)
    if isinstance(value, Secret):
        value = value.reveal()
    if isinstance(value, dict):
        decoded = {k: decoded[k] for k in value}
    assert decoded == value


def test_decode_reports_missing_fields_and_bad_text():
    setting = webmap.for_version("7.4.8.3").setting("network_mode")
    with pytest.raises(WebMapError, match=r"field\(s\) \['NetworkMode'\] not on /network/configuration"):
        decode(setting, {}, present=set())
    with pytest.raises(WebMapError, match="option 'Bridge' is not one of"):
        decode(setting, {"NetworkMode": "Bridge"})
    with pytest.raises(WebMapError, match="'abc' is not a number"):
        decode(webmap.for_version("8.0.0.0").setting("smtp_port"), {"smtp_port": "abc"})


def test_parser_reads_what_a_browser_would_submit():
    page = parse('<html><head><title>Phone&nbsp;Station&nbsp;Information</title></head><body>'
                 '<p class="message">Invalid &amp; refused</p><td id="model">ALLWORX 9212</td>'
                 '<form><select name="m"><option value="A">A</option><option value="B" selected>B</option></select>'
                 '<select name="n"><option value="X">X</option></select>'
                 '<input type="checkbox" name="c" checked><input type="checkbox" name="d">'
                 '<input type="password" name="p" value="1&amp;2"><input type="submit" value="Go"></form>')
    assert page.title == "Phone&nbsp;Station&nbsp;Information"
    assert page.values == {"m": "B", "n": "X", "c": "on", "p": "1&2"}
    assert page.fields == {"m", "n", "c", "d", "p"}
    assert page.ids == {"model": "ALLWORX 9212"} and page.messages == ["Invalid & refused"]
