"""Which events a summary raises and what their payloads say (hardening.jobs.webhook_events): absolute
links or a note, changed failures only with new evidence and not waived, errors with the device channel
that failed since the previous audit, resolved failures and cleared errors."""
from __future__ import annotations

import pytest

from hardening.jobs import webhook_events as ev


@pytest.mark.parametrize("value, base", [
    ("https://awxh.example.net:8443", "https://awxh.example.net:8443"),
    ("https://awxh.example.net:8443/", "https://awxh.example.net:8443"),
    ("http://10.0.5.2/appliance/", "http://10.0.5.2/appliance"),
])
def test_public_base_urls(value, base):
    assert ev.public_base(value) == (base, None)
    links = ev.audit_links(value, 3, 12)
    assert links["audit_url"] == f"{base}/api/v1/audits/12" == links["links"]["audit"]
    assert links["links"]["report"] == f"{base}/api/v1/audits/12/report"
    assert links["links"]["site_status"] == f"{base}/api/v1/sites/3/status" and links["links_note"] is None


@pytest.mark.parametrize("value, words", [
    ("", "is not set"), (None, "is not set"), ("   ", "is not set"),
    ("/api/v1", "not an absolute"), ("awxh.example.net", "not an absolute"), ("ftp://awxh.example.net", "not an absolute"),
    ("https://admin:pw@awxh.example.net", "without credentials"), ("https://awxh.example.net/?x=1", "query"),
    ("https://awxh.example.net/#top", "fragment"), ("https://awxh.example.net/a b", "not an absolute"),
])
def test_no_usable_base_url_gives_null_links_and_says_why(value, words):
    links = ev.audit_links(value, 3, 12)
    assert links["audit_url"] is None and links["links"] is None
    assert words in links["links_note"] and "PUBLIC_BASE_URL" in links["links_note"]
    assert "pw" not in links["links_note"]


def _summary(**since):
    return {"overall": "CRITICAL", "score": {"raw": 40.0}, "drift": {"previous_audit_id": 4, "since_previous": since}}


def test_a_changed_failure_raises_new_failures_only_with_new_unwaived_evidence():
    item = {"detail": "mail port 25"}
    quiet = _summary(new_failures=[], changed_failures=[
        {"check_id": "NET-NAT-002", "waived": False, "new_evidence": [], "gone_evidence": [item]},    # better
        {"check_id": "AWX-SRV-007", "waived": True, "new_evidence": [item], "gone_evidence": []}])   # waived
    assert ev.audit_events(quiet, "completed") == []
    loud = _summary(changed_failures=[{"check_id": "NET-NAT-002", "waived": False, "new_evidence": [item],
                                       "gone_evidence": []}])
    (event, part), = ev.audit_events(loud, "completed")
    assert event == "new_failures" and part["new_failures"] == [] and part["previous_audit_id"] == 4
    assert [c["check_id"] for c in part["changed_failures"]] == ["NET-NAT-002"]
    assert part["text"] == "1 failure with new evidence (NET-NAT-002)"


def test_resolved_and_cleared_errors_are_one_resolved_event():
    (event, part), = ev.audit_events(_summary(resolved=[], cleared_errors=[{"check_id": "AWX-SRV-001", "now": "fail"}]),
                                     "completed")
    assert event == "resolved" and part["cleared_errors"][0]["check_id"] == "AWX-SRV-001"
    assert part["text"] == "1 cleared error (AWX-SRV-001)"


def test_an_audit_that_did_not_complete_is_an_audit_error():
    assert ev.audit_events({}, "failed", "database is locked") == [
        ("audit_error", {"state": "failed", "error": "database is locked", "text": "audit failed: database is locked"})]


HEALTH = [
    {"device_id": 1, "name": "pbx", "kind": "allworx_server", "address": "10.0.0.5", "reached": True,
     "reason": "timed out", "channels": {"snmp": {"state": "failed", "reason": "timed out"},
                                         "web": {"state": "failed", "reason": "authentication failed"},
                                         "probes": {"state": "ok", "reason": None}}},
    {"device_id": 2, "name": "gw", "kind": "router", "address": "10.0.0.1", "reached": False,
     "reason": "authentication failed", "channels": {"ssh": {"state": "failed", "reason": "authentication failed"}}},
]
NEWLY = [{"device_id": 1, "channel": "web", "reason": "authentication failed"},
         {"device_id": 2, "channel": "ssh", "reason": "authentication failed"}]


def test_new_errors_name_the_device_and_the_channel_that_failed_since():
    errors = [
        {"check_id": "AWX-PHN-004", "device_id": 1, "target": "pbx",
         "message": "could not decide on pbx, pnp_lan_creates_enabled not read: web: auth failure: login rejected; "
                    "also failed: snmp: timeout"},
        {"check_id": "AWX-SRV-005", "device_id": 1, "target": "pbx",
         "message": "the gentle login test is not decided yet (daily budget spent)"},
        {"check_id": "NET-NAT-002", "device_id": 2, "target": "gw",
         "message": "could not decide: router gw: 10.0.0.1:22: authentication failed (Authentication failed.)"},
        {"check_id": "AWX-PX-001", "device_id": 9, "target": "px-1", "message": "could not decide: web: reset"},
    ]
    part = ev.new_errors(errors, HEALTH, NEWLY)
    reasons = {e["check_id"]: e["reason"] for e in part["new_errors"]}
    assert reasons == {"AWX-PHN-004": "authentication failed (web)",            # not the old SNMP timeout
                       "AWX-SRV-005": "the gentle login test is not decided yet (daily budget spent)",
                       "NET-NAT-002": "authentication failed (ssh)",
                       "AWX-PX-001": "could not decide: web: reset"}            # no health entry: its message
    assert [d["name"] for d in part["devices"]] == ["pbx", "gw"]
    assert part["devices"][0]["newly_failed_channels"] == {"web": "authentication failed"}
    assert part["problems"] == ["server pbx: authentication failed (web)", "router gw: authentication failed (ssh)",
                                "AWX-PX-001 on px-1: could not decide: web: reset"]


def test_the_payload_names_the_site_first():
    body = ev.payload({"id": 3, "name": "Dental North"}, 12, "", {"text": "1 new failure (AWX-SRV-007)", "x": 1})
    assert body["site"] == {"id": 3, "name": "Dental North"} and body["site_id"] == 3 and body["audit_id"] == 12
    assert body["text"] == "site Dental North: 1 new failure (AWX-SRV-007)" and body["x"] == 1
    assert body["links"] is None and "not set" in body["links_note"]
