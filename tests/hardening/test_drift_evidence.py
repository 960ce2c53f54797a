"""Drift compares evidence, not only (check, device): a router read twice gives no drift, also with every
line number and nft handle shifted; a new dangerous forward under a failing check is a change; a forward
removed then re-added is new again; after an outage, failures compared with the last decided audit."""
from __future__ import annotations

import re
from pathlib import Path

from firewall.parsers import linux
from hardening.checks.registry import run_checks
from hardening.engine.analyze import ROUTER_CHECKS, analyze, site_facts_for
from hardening.model import drift
from hardening.model.policy import Policy
from hardening.model.site import RouterFacts

LAB = (Path(__file__).resolve().parents[1] / "fixtures" / "router-samples" / "linux"
       / "nft_lab_text_handles.txt").read_text()       # a real `nft -a list ruleset` of the lab router
SERVER = "10.77.1.20"
COMMAND = "nft -a list ruleset"
SMTP_RULE = '\t\tiifname "wan0" tcp dport 25 dnat to 10.77.1.20:25 comment "fwd-pbx-smtp" # handle 19\n'
HTTP_RULE = '\t\tiifname "wan0" tcp dport 8080 dnat to 10.77.1.20:8080 comment "fwd-pbx-http" # handle 6\n'
UNRELATED = ("table inet mgmt { # handle 9\n\tchain input { # handle 1\n"
             "\t\ttype filter hook input priority filter; policy accept;\n"
             '\t\tiifname "br-lan" tcp dport 22 accept # handle 2\n\t}\n}\n')


def rows(text: str, device_id: int = 3) -> list[dict]:
    """The router checks' results on `text` as an audit's result rows (what drift reads)."""
    found = analyze(linux.parse({COMMAND: text}), server_lan_ip=SERVER)["findings"]
    return [{**f, "device_id": device_id, "target": "gw", "waived": False} for f in found]


def by_check(items: list[dict]) -> dict[str, dict]:
    return {item["check_id"]: item for item in items}


def failing(rows_: list[dict]) -> set[str]:
    return {r["check_id"] for r in rows_ if r["status"] == "fail"}


def test_the_lab_ruleset_fails_the_admin_and_mail_checks():
    # read from the input: tcp 8080 -> 10.77.1.20 (admin port), tcp 143 -> 10.77.1.20 (IMAP)
    first = by_check(rows(LAB))
    assert first["AWX-SRV-007"]["status"] == "fail" and len(first["AWX-SRV-007"]["evidence"]) == 1
    assert first["NET-NAT-002"]["status"] == "fail" and len(first["NET-NAT-002"]["evidence"]) == 1
    assert "143" in first["NET-NAT-002"]["evidence"][0]["detail"]


def test_the_same_router_read_twice_gives_no_drift():
    d = drift.diff(rows(LAB), rows(LAB))
    assert d["new_failures"] == [] and d["changed_failures"] == [] and d["resolved"] == []
    assert {r["check_id"] for r in d["unchanged_failures"]} == failing(rows(LAB)) >= {"AWX-SRV-007", "NET-NAT-002"}


def test_shifted_lines_renumbered_handles_and_counters_give_no_drift():
    renumbered = re.sub(r"# handle (\d+)", lambda m: f"# handle {int(m.group(1)) + 100}", LAB)
    shifted = UNRELATED + renumbered.replace("tcp dport 8080 dnat", "tcp dport 8080 counter packets 31 bytes 1860 dnat")
    before, after = by_check(rows(LAB)), by_check(rows(shifted))
    # the positional parts really moved: otherwise this test would prove nothing
    assert before["AWX-SRV-007"]["evidence"][0]["source"] != after["AWX-SRV-007"]["evidence"][0]["source"]
    assert before["AWX-SRV-007"]["evidence"][0]["excerpt"] != after["AWX-SRV-007"]["evidence"][0]["excerpt"]
    d = drift.diff(rows(shifted), rows(LAB))
    assert d["new_failures"] == [] and d["changed_failures"] == [] and d["resolved"] == []
    assert {r["check_id"] for r in d["unchanged_failures"]} == failing(rows(LAB))


def test_a_second_mail_forward_under_a_failing_check_is_a_change():
    with_smtp = LAB.replace(HTTP_RULE, HTTP_RULE + SMTP_RULE)
    d = drift.diff(rows(with_smtp), rows(LAB))
    assert d["new_failures"] == []                           # NET-NAT-002 was failing already ...
    changed = by_check(d["changed_failures"])
    mail = changed["NET-NAT-002"]                            # ... but on new evidence
    assert [e["excerpt"] for e in mail["new_evidence"]] == [SMTP_RULE.strip()]
    assert "tcp 25 -> 10.77.1.20" in mail["new_evidence"][0]["detail"] and mail["gone_evidence"] == []
    assert "NET-NAT-002" not in by_check(d["unchanged_failures"])
    assert "AWX-SRV-007" in by_check(d["unchanged_failures"])       # the admin forward did not change
    # and the other way round: the forward removed again is gone evidence, not a resolution
    back = drift.diff(rows(LAB), rows(with_smtp))
    assert by_check(back["changed_failures"])["NET-NAT-002"]["new_evidence"] == []
    assert [e["excerpt"] for e in by_check(back["changed_failures"])["NET-NAT-002"]["gone_evidence"]] == \
        [SMTP_RULE.strip()]
    assert "NET-NAT-002" not in by_check(back["resolved"])


def test_a_re_added_8080_forward_is_new_again():
    audit1, audit2, audit3 = rows(LAB), rows(LAB.replace(HTTP_RULE, "")), rows(LAB)
    assert by_check(audit2)["AWX-SRV-007"]["status"] == "pass"
    second = drift.diff(audit2, audit1)
    resolved = by_check(second["resolved"])["AWX-SRV-007"]
    assert "8080" in resolved["evidence"][0]["detail"]       # what was failing, as it was seen
    third = drift.diff(audit3, audit2, decided=[{**r, "audit_id": 1} for r in audit1])
    new = by_check(third["new_failures"])["AWX-SRV-007"]
    assert [e["excerpt"] for e in new["evidence"]] == [HTTP_RULE.strip()]
    assert "AWX-SRV-007" not in by_check(third["unchanged_failures"])


def _unreachable_rows(reason: str) -> list[dict]:
    facts = site_facts_for(linux.parse({COMMAND: LAB}), server_lan_ip=SERVER)
    facts.routers[:] = [RouterFacts(3, "gw", None, error=reason, source="ssh:10.77.1.1")]
    return [{**r.to_dict(), "severity": "high", "title": r.check_id, "waived": False}
            for r in run_checks(facts, Policy(), ROUTER_CHECKS)]


def test_after_an_outage_returning_failures_are_not_new():
    audit1 = rows(LAB)
    audit2 = _unreachable_rows("10.77.1.1:22: authentication failed")
    assert {r["check_id"] for r in audit2 if r["status"] == "error"} >= {"AWX-SRV-007", "NET-NAT-002"}
    outage = drift.diff(audit2, audit1)
    errors = by_check(outage["new_errors"])
    assert errors["AWX-SRV-007"]["was"] == "fail" and "authentication failed" in errors["AWX-SRV-007"]["message"]
    assert outage["resolved"] == [] and outage["new_failures"] == []
    audit3 = rows(LAB)
    naive = drift.diff(audit3, audit2)                        # the previous audit alone knew nothing
    assert "AWX-SRV-007" in by_check(naive["new_failures"])
    back = drift.diff(audit3, audit2, decided=[{**r, "audit_id": 1} for r in audit1])
    assert back["new_failures"] == [] and back["changed_failures"] == []
    assert {r["check_id"] for r in back["unchanged_failures"]} == failing(audit1)
    returned = by_check(back["returned_failures"])
    assert set(returned) == failing(audit1) and returned["NET-NAT-002"]["last_decided_audit_id"] == 1
    assert {r["previous_status"] for r in returned.values()} == {"error"}
    assert {"AWX-SRV-007", "NET-NAT-002"} <= set(by_check(back["cleared_errors"]))


def test_after_an_outage_a_new_forward_is_still_a_change():
    audit1, audit2 = rows(LAB), _unreachable_rows("10.77.1.1:22: connection refused")
    audit3 = rows(LAB.replace(HTTP_RULE, HTTP_RULE + SMTP_RULE))
    d = drift.diff(audit3, audit2, decided=[{**r, "audit_id": 1} for r in audit1])
    assert "NET-NAT-002" in by_check(d["changed_failures"]) and d["new_failures"] == []


def test_evidence_identity_ignores_volatile_parts_only():
    probe = {"source": "probe:tcp/8080", "detail": "answered in 12.5 ms at 2024-05-01T10:00:03Z (3 attempts)"}
    later = {"source": "probe:tcp/8080", "detail": "answered in 830 ms at 2024-06-11 22:14:59+02:00 (1 attempt)"}
    other_port = {"source": "probe:tcp/8081", "detail": probe["detail"]}
    assert drift.evidence_identity(probe) == drift.evidence_identity(later)
    assert drift.evidence_identity(probe) != drift.evidence_identity(other_port)
    ruled = {"source": "router:gw nft -a list ruleset line 9 rule ip portfwd prerouting handle 6", "detail": "x 8080"}
    moved = {"source": "router:gw nft -a list ruleset line 40 rule ip portfwd prerouting handle 77", "detail": "x 8080"}
    elsewhere = {"source": "router:edge2 nft -a list ruleset line 9", "detail": "x 8080"}
    assert drift.evidence_identity(ruled) == drift.evidence_identity(moved) != drift.evidence_identity(elsewhere)
    assert drift.evidence_identity({"source": "x", "detail": "until 2025-01-31"}) != \
        drift.evidence_identity({"source": "x", "detail": "until 2026-01-31"})      # a date is no timestamp


def test_identities_are_counted_and_undecided_probes_are_no_evidence():
    item = {"source": "router:gw", "detail": "mail port: dnat tcp 25 -> 10.0.0.5 (same ports)"}
    row = {"check_id": "NET-NAT-002", "device_id": 1, "status": "fail", "evidence": [item]}
    twice = {**row, "evidence": [item, dict(item)]}
    d = drift.diff([twice], [row])
    assert [c["new_evidence"] for c in d["changed_failures"]] == [[item]]
    flaky = {"source": "probe:tcp/8080", "detail": "outside probe of the WAN address on TCP 8080: undecided (not evidence)"}
    assert drift.diff([{**row, "evidence": [item, flaky]}], [row])["changed_failures"] == []


def _row(check_id, status, *details, device_id=1):
    return {"check_id": check_id, "device_id": device_id, "status": status, "waived": False,
            "evidence": [{"source": "http:/servers/voip", "detail": d} for d in details]}


def test_not_applicable_for_want_of_input_is_not_a_decision():
    # audit 2 had no router in the picture: the check did not apply, it did not pass
    first, gap, back = [_row("AWX-SRV-007", "fail", "WAN Admin on")], [_row("AWX-SRV-007", "not_applicable")], \
        [_row("AWX-SRV-007", "fail", "WAN Admin on")]
    assert drift.diff(gap, first)["resolved"] == []
    d = drift.diff(back, gap, decided=[{**first[0], "audit_id": 1}])
    assert d["new_failures"] == [] and [r["previous_status"] for r in d["returned_failures"]] == ["not_applicable"]
    # a check that was passing when last decided and fails now is new, however long ago that was
    d = drift.diff(back, gap, decided=[{**_row("AWX-SRV-007", "pass"), "audit_id": 1}])
    assert [r["check_id"] for r in d["new_failures"]] == ["AWX-SRV-007"]


def test_evidence_a_partial_outage_hid_is_not_new_when_it_returns():
    full = _row("AWX-SRV-006", "fail", "server admin password weak", "phone admin password weak")
    partial = _row("AWX-SRV-006", "fail", "server admin password weak")      # the web channel was down
    d = drift.diff([full], [partial], complete=[{**full, "audit_id": 1}])
    assert d["changed_failures"] == [] and [r["check_id"] for r in d["unchanged_failures"]] == ["AWX-SRV-006"]
    without = drift.diff([full], [partial])                  # what the previous audit alone would say
    assert [e["detail"] for e in without["changed_failures"][0]["new_evidence"]] == ["phone admin password weak"]
    really_new = _row("AWX-SRV-006", "fail", "server admin password weak", "phone admin password weak",
                      "Plug 'n' Play secret weak")
    d = drift.diff([really_new], [partial], complete=[{**full, "audit_id": 1}])
    assert [e["detail"] for e in d["changed_failures"][0]["new_evidence"]] == ["Plug 'n' Play secret weak"]
