"""Site checks: NET-SCAN-001 over SIP sensor records and LAN-AV-001 over a declared attestation."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from device_drivers.facts import DeviceFacts, Fact
from hardening.checks.registry import load_all
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo
from hardening.sensor import signatures

CHECKS = load_all()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def check(check_id: str, devices=(), **kw):
    [result] = CHECKS[check_id].evaluate(SiteFacts(SiteInfo("clinic"), list(devices), now=NOW, **kw), Policy())
    return result


def event(source: str, agent: str, time: str, **extra) -> dict:
    return {"time": time, "source": source, "source_port": 5060, "method": "OPTIONS", "user_agent": agent,
            "to": "<sip:100@10.77.1.10>", **extra}


# --- NET-SCAN-001 --------------------------------------------------------------------------------

def test_no_sensor_data_is_not_applicable():
    result = check("NET-SCAN-001")
    assert result.status == "not_applicable" and "SIP sensor not running" in result.message


def test_no_events_or_only_ordinary_sip_passes():
    assert check("NET-SCAN-001", sensor_events=[]).status == "pass"
    result = check("NET-SCAN-001", sensor_events=[event("192.168.1.50", "Yealink SIP-T46S", "2026-11-27T10:00:00")])
    assert result.status == "pass" and "1 other SIP request" in result.evidence[0].detail


def test_scanners_grouped_per_source():
    events = [event("203.0.113.9", "friendly-scanner", "2026-11-27T10:00:02"),
              event("203.0.113.9", "friendly-scanner", "2026-11-27T10:00:01"),
              event("203.0.113.9", "sipcli/v1.8", "2026-11-27T10:05:00", suppressed_before=40),
              event("198.51.100.4", "VaxSIPUserAgent/3.1", "2026-11-27T11:00:00"),
              event("192.168.1.50", "Yealink SIP-T46S", "2026-11-27T10:00:00")]
    result = check("NET-SCAN-001", sensor_events=events)
    assert result.status == "fail" and result.provenance == "observed"
    assert result.message == "SIP scanning seen: 44 request(s) from 2 source(s)"
    assert result.observed == {"203.0.113.9": 43, "198.51.100.4": 1}
    first = result.evidence[0]
    assert first.detail == ("203.0.113.9: 43 scanner request(s) (SIPVicious, sipcli) from 2026-11-27T10:00:01 "
                            "to 2026-11-27T10:05:00")
    assert first.excerpt == "User-Agent: friendly-scanner | sipcli/v1.8" and first.source == "sip-sensor"
    assert "VaxSIPUserAgent" in result.evidence[1].detail
    assert any("1 other SIP request" in e.detail for e in result.evidence)


@pytest.mark.parametrize("agent", ["friendly-scanner", "SIPVicious 0.3.4", "sipsak 0.9.6", "iWar", "sundayddr",
                                   "pplsip", "SIP Scanner 2.0", "VaxSIPUserAgent/3.1", "sipcli/v1.8"])
def test_every_listed_tool_is_recognised(agent):
    assert check("NET-SCAN-001", sensor_events=[event("203.0.113.9", agent, "t")]).status == "fail"


def test_from_header_signature_and_bad_records():
    spoofed = event("203.0.113.9", "Asterisk PBX", "t", **{"from": '"sipvicious"<sip:100@1.1.1.1>'})
    result = check("NET-SCAN-001", sensor_events=[spoofed, "garbage", None])
    assert result.status == "fail" and any("2 unreadable" in e.detail for e in result.evidence)


def test_signatures_are_data(tmp_path: Path):
    names = {s.name for s in signatures.load_signatures()}
    assert {"SIPVicious", "sipcli", "sipsak", "iWar", "sundayddr", "pplsip", "SIP Scanner"} <= names
    bad = tmp_path / "sip_scanners.yaml"
    bad.write_text("signatures:\n  - {name: x, header: via, contains: y}\n")
    with pytest.raises(ValueError, match="signature #1 header 'via'"):
        signatures.load_signatures(bad)
    bad.write_text("- friendly-scanner\n")
    with pytest.raises(ValueError, match="'signatures' list"):
        signatures.load_signatures(bad)
    custom = (signatures.Signature("mytool", "user_agent", "mytool"),)
    assert signatures.match({"user_agent": "MyTool 1.0"}, custom) == "mytool"
    assert signatures.match({"user_agent": None}, custom) is None


# --- LAN-AV-001 ----------------------------------------------------------------------------------

def attested(value, provenance: str = "declared") -> list[DeviceFacts]:
    device = DeviceFacts(1, "allworx_server", "pbx", "192.168.1.10")
    device.facts["av_attested_until"] = Fact(value, provenance, "declared:av_attested_until", "")
    return [device]


@pytest.mark.parametrize("value", ["2027-01-31", "2026-11-27", date(2026, 12, 1), "2026-12-01T00:00:00Z"])
def test_attestation_in_the_future_passes(value):
    result = check("LAN-AV-001", attested(value))
    assert result.status == "pass" and result.provenance == "declared" and "declared" in result.message


def test_expired_attestation_fails_with_the_date():
    result = check("LAN-AV-001", attested("2026-10-01"))
    assert result.status == "fail" and result.message.startswith("attestation expired on 2026-10-01")


def test_no_attestation_is_manual_and_bad_date_is_error():
    assert check("LAN-AV-001").status == "manual"
    assert check("LAN-AV-001", attested("next year")).status == "error"


def test_several_attestations_the_first_to_expire_decides():
    devices = attested("2027-06-01") + attested("2026-01-01")
    assert check("LAN-AV-001", devices).status == "fail"
