"""Severity that follows risk for SIP scanners: NET-SCAN-001 (info) reports every scanner, NET-SCAN-002 (high)
fails on one inside the LAN, NET-SCAN-003 (low) fails when internet scanning passes the policy's daily volume.
One severity per check ID (the catalog's), so scores, waivers and reports stay keyed on the ID."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hardening.checks.registry import load_all
from hardening.model.catalog import catalog
from hardening.model.policy import Policy
from hardening.model.site import SiteFacts, SiteInfo

CHECKS = load_all()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def check(check_id: str, events, policy: Policy | None = None, **site):
    [result] = CHECKS[check_id].evaluate(SiteFacts(SiteInfo("clinic", **site), [], now=NOW, sensor_events=events),
                                         policy or Policy())
    return result


def scan(source: str, time: str = "2026-11-27T10:00:00", agent: str = "friendly-scanner", **extra) -> dict:
    return {"time": time, "source": source, "source_port": 5060, "method": "OPTIONS", "user_agent": agent, **extra}


def test_the_catalog_gives_each_id_its_own_severity():
    assert [catalog()[c]["severity"] for c in ("NET-SCAN-001", "NET-SCAN-002", "NET-SCAN-003")] == \
        ["info", "high", "low"]
    assert all(catalog()[c]["needs"] == {"sensor"} for c in ("NET-SCAN-002", "NET-SCAN-003"))


@pytest.mark.parametrize("check_id", ["NET-SCAN-002", "NET-SCAN-003"])
def test_no_sensor_is_not_applicable(check_id):
    result = check(check_id, None)
    assert result.status == "not_applicable" and "SIP sensor not running" in result.message


# --- NET-SCAN-002: a scanner inside the LAN ---------------------------------------------------------

def test_a_private_source_is_inside_and_fails_high():
    events = [scan("192.168.1.50"), scan("192.168.1.50", "2026-11-27T10:00:05"), scan("203.0.113.9")]
    result = check("NET-SCAN-002", events)
    assert result.status == "fail" and result.provenance == "observed"
    assert result.message == "SIP scanner inside the LAN: 2 request(s) from 192.168.1.50"
    assert result.observed == {"192.168.1.50": 2}                    # the internet source is not in it
    assert result.evidence[0].detail.startswith("192.168.1.50: 2 scanner request(s) (SIPVicious)")
    assert "private range 192.168.0.0/16 (policy sip_scan.inside_networks)" in result.evidence[0].detail
    assert check("NET-SCAN-001", events).status == "fail"           # still reported, at info


def test_the_sites_lan_subnets_count_as_inside_even_outside_private_ranges():
    events = [scan("100.64.10.7")]
    assert check("NET-SCAN-002", events).status == "pass"           # carrier-grade NAT space: not private
    result = check("NET-SCAN-002", events, lan_subnets=["100.64.10.0/24"])
    assert result.status == "fail" and "in the site's LAN subnet 100.64.10.0/24" in result.evidence[0].detail


def test_an_ipv4_mapped_source_is_judged_as_ipv4():
    assert check("NET-SCAN-002", [scan("::ffff:10.1.2.3")]).status == "fail"
    assert check("NET-SCAN-002", [scan("fe80::1")]).status == "fail"          # link-local: on the LAN


def test_policy_can_name_private_sources_that_are_the_internet():
    # a router that masquerades inbound forwards makes every internet scanner look like its LAN address
    policy = Policy({"sip_scan": {"internet_sources": ["10.9.9.1/32"]}})
    events = [scan("10.9.9.1", suppressed_before=30)]
    assert check("NET-SCAN-002", events).status == "fail"
    result = check("NET-SCAN-002", events, policy)
    assert result.status == "pass" and "1 scanning source(s) on the internet side" in result.evidence[0].detail
    assert check("NET-SCAN-003", events, policy).observed == 31                    # counted as internet instead


def test_internet_scanners_or_ordinary_sip_only_pass():
    result = check("NET-SCAN-002", [scan("203.0.113.9"), scan("198.51.100.4", agent="sipcli/v1.8")])
    assert result.status == "pass" and result.message == "no SIP scanner inside the LAN in 2 sensor record(s)"
    ordinary = check("NET-SCAN-002", [scan("192.168.1.60", agent="Yealink SIP-T46S")])
    assert ordinary.status == "pass" and ordinary.evidence == []
    assert check("NET-SCAN-002", []).status == "pass"


def test_a_scanner_without_a_readable_source_is_an_error_unless_one_inside_fails():
    unreadable = [scan("203.0.113.9"), {"time": "2026-11-27T10:00:00", "user_agent": "friendly-scanner"}]
    result = check("NET-SCAN-002", unreadable)
    assert result.status == "error" and "1 scanner record(s) without a readable source address" in result.message
    assert "'unknown' is not an IP address" in result.evidence[0].detail
    assert check("NET-SCAN-002", [*unreadable, scan("10.0.0.7")]).status == "fail"
    garbage = check("NET-SCAN-002", [scan("203.0.113.9"), "garbage"])
    assert garbage.status == "error" and "1 unreadable sensor record(s)" in garbage.message


def test_a_bad_inside_network_in_the_policy_is_an_error_naming_the_key():
    result = check("NET-SCAN-002", [scan("192.168.1.50")], Policy({"sip_scan": {"inside_networks": ["lan"]}}))
    assert result.status == "error" and "policy sip_scan.inside_networks" in result.message
    result = check("NET-SCAN-002", [scan("192.168.1.50")], lan_subnets=["10.0.0.0/33"])
    assert result.status == "error" and "site lan_subnets" in result.message


# --- NET-SCAN-003: heavy scanning from the internet --------------------------------------------------

def test_more_than_the_daily_volume_within_24_hours_fails_low():
    # 61 requests at 10:00 on the 26th (60 rate-limited), 40 at 09:00 on the 27th: 101 within 23 hours
    events = [scan("203.0.113.9", "2026-11-26T10:00:00", suppressed_before=60),
              scan("198.51.100.4", "2026-11-27T09:00:00", agent="sipcli/v1.8", suppressed_before=39)]
    result = check("NET-SCAN-003", events)
    assert result.status == "fail" and result.observed == 101 and result.expected == "at most 100 per day"
    assert result.message == ("heavy SIP scanning from the internet: 101 scanner request(s) from 2 source(s) within "
                              "24 hours (2026-11-26T10:00:00 to 2026-11-27T09:00:00), above the policy's 100 per day")
    assert [e.detail.split(":")[0] for e in result.evidence] == ["203.0.113.9", "198.51.100.4"]


def test_the_same_requests_a_full_day_apart_stay_below_it():
    events = [scan("203.0.113.9", "2026-11-26T10:00:00", suppressed_before=60),
              scan("203.0.113.9", "2026-11-27T10:00:00", suppressed_before=39)]      # exactly 24 hours later
    result = check("NET-SCAN-003", events)
    assert result.status == "pass" and result.observed == 61
    assert result.message == ("internet SIP scanning within the policy: 61 scanner request(s) in the busiest "
                              "24 hours (at most 100 per day)")


def test_inside_scanners_do_not_count_towards_the_internet_volume():
    events = [scan("192.168.1.50", suppressed_before=500), scan("203.0.113.9")]
    result = check("NET-SCAN-003", events)
    assert result.status == "pass" and result.observed == 1
    assert check("NET-SCAN-002", events).status == "fail"


def test_the_threshold_is_policy():
    events = [scan("203.0.113.9")]
    assert check("NET-SCAN-003", events).status == "pass"
    assert check("NET-SCAN-003", events, Policy({"sip_scan": {"internet_requests_per_day": 0}})).status == "fail"
    bad = check("NET-SCAN-003", events, Policy({"sip_scan": {"internet_requests_per_day": "lots"}}))
    assert bad.status == "error" and "policy sip_scan.internet_requests_per_day" in bad.message


def test_requests_without_a_time_decide_only_when_they_cannot_change_the_verdict():
    timed = [scan("203.0.113.9", suppressed_before=94)]                                  # 95 with a time
    few = check("NET-SCAN-003", timed + [scan("203.0.113.9", "t", suppressed_before=4)])  # + 5 without: <= 100
    assert few.status == "pass" and few.observed == 95
    many = check("NET-SCAN-003", timed + [scan("203.0.113.9", "t", suppressed_before=9)])  # + 10: could pass 100
    assert many.status == "error" and "10 more without a readable time or source" in many.message
