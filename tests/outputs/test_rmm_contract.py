"""The RMM contract on hand-made summaries: UNKNOWN in every mode when the evidence cannot carry a
verdict, the one line naming the worst problems (errors included), N-able's code on the line with a
POSIX exit 0-3, and the Prometheus exposition parsed back with prometheus_client's own parser."""
from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hardening.model import scoring
from hardening.outputs import nagios, prometheus, status

SITE = {"id": 1, "name": "Dental North"}


def row(cid, st, sev, target=None, device_id=None, message="found", waived=False):
    return {"check_id": cid, "title": f"title {cid}", "severity": sev, "status": st, "device_id": device_id,
            "target": target, "message": message, "provenance": "device", "waived": waived, "waiver": None,
            "evidence": [], "remediation": {"kind": "router", "hint": "fix it"}}


def brief(r):
    return {k: r[k] for k in ("check_id", "device_id", "target", "severity", "title", "message")}


def summary_of(rows, new=None, unchanged=(), **extra):
    """A summary as hardening.engine.summaries makes it, scored by the real scoring functions."""
    failing = [r for r in rows if r["status"] == "fail" and not r["waived"]]
    return {"audit_id": 3, "site": SITE, "profile": "baseline", "state": "completed",
            "started_at": "2026-11-27T00:00:00Z", "finished_at": "2026-11-27T00:01:00Z", "results": rows,
            "score": scoring.score(rows), "counts": scoring.counts(rows), "overall": scoring.overall(rows),
            "drift": {"since_previous": {"new_failures": [brief(r) for r in (failing if new is None else new)],
                                         "unchanged_failures": [brief(r) for r in unchanged],
                                         "resolved": [], "new_errors": []}}, **extra}


def codes(summary):
    """(plain, --nable, --fail-on-new, --fail-on-new --nable) exit codes and the --nable line."""
    st = status.render(summary)
    plain, nable = nagios.render(st), nagios.render(st, nable=True)
    new_plain, new_nable = nagios.render(nagios.only_new(st)), nagios.render(nagios.only_new(st), nable=True)
    return (plain[1], nable[1], new_plain[1], new_nable[1]), nable[0], new_nable[0]


def test_only_the_sensors_no_scanner_seen_decided_is_unknown_in_every_mode():
    rows = [row("NET-SCAN-001", "pass", "info", message="no scanner seen"),
            row("AWX-SRV-002", "not_applicable", "critical", message="no router in inventory"),
            row("LAN-AV-001", "manual", "info", message="attest it")]
    summary = summary_of(rows)
    exits, line, new_line = codes(summary)
    assert exits == (3, 3, 3, 3)
    assert line.startswith("ALLWORX UNKNOWN - site Dental North: nothing of weight was decided")
    assert line.endswith(" nable_code=1003") and new_line.endswith(" nable_code=1003")
    st = status.render(summary)
    assert st["overall"] == "UNKNOWN" and st["nagios_code"] == 3 and st["nable_code"] == 1003


def test_a_withheld_score_is_unknown_in_every_mode_and_the_line_names_the_error():
    known = row("AWX-SRV-007", "fail", "critical", "allworx-server", 1, "WAN Admin is enabled")
    rows = [known, row("NET-NAT-001", "error", "critical", "gw", 9, "authentication failed")]
    score = {**scoring.score(rows), "raw": None, "waived": None, "withheld": "router gw: authentication failed"}
    problems = [{"severity": "critical", "check_id": "AWX-SRV-007", "device_id": 1,
                 "text": "AWX-SRV-007 admin page exposed"},
                {"severity": "error", "check_id": None, "device_id": 9, "text": "router gw: authentication failed"}]
    summary = summary_of(rows, new=[], unchanged=[known], score=score, problems=problems,
                         health=[{"device_id": 9, "name": "gw", "kind": "router", "reached": False}])
    exits, line, new_line = codes(summary)
    assert exits == (3, 3, 3, 3)                   # before: CRITICAL, and --fail-on-new said OK (nothing new)
    assert line == ("ALLWORX UNKNOWN - site Dental North: score withheld: router gw: authentication failed, "
                    "1 failing, 0 new: AWX-SRV-007 admin page exposed; router gw: authentication failed "
                    "| score=U;;;0;100 failing=1 new=0 errors=1 nable_code=1003")
    assert "router gw: authentication failed |" in new_line


@pytest.mark.parametrize("health", [[], [{"device_id": None, "name": "Dental North", "kind": "site",
                                          "reached": True}]], ids=["nothing", "only-the-outside-probe"])
def test_a_site_without_devices_is_unknown(health):
    summary = summary_of([row("AWX-SRV-001", "pass", "high", message="declared 7.4.10.2")], health=health)
    exits, line, _ = codes(summary)
    assert exits == (3, 3, 3, 3) and "the site has no devices" in line
    text = prometheus.render([{"site": "Dental North", "summary": summary, "finished_ts": 1.0}], now_ts=2.0)
    assert "awxh_device_reachable{" not in text                  # the site's probe entry is no device


def test_the_line_names_failures_worst_first_then_errors_and_fail_on_new_drops_known_ones():
    known = row("AWX-SRV-007", "fail", "critical", "allworx-server", 1, "WAN Admin is enabled")
    fresh = row("AWX-SRV-004", "fail", "medium", "allworx-server", 1, "voicemail SMTP on standard 25")
    rows = [fresh, row("AWX-SRV-001", "pass", "high", "allworx-server", 1), known,
            row("NET-SCAN-001", "error", "info", None, None, "sensor records unreadable")]
    summary = summary_of(rows, new=[fresh], unchanged=[known])
    st = status.render(summary)
    line, code = nagios.render(st)
    assert code == 2 and st["score"]["raw"] == 27.8              # 5 of 18 weight (10 + 3 failed, 5 passed)
    assert line.startswith("ALLWORX CRITICAL - site Dental North: score 27.8/100, 2 failing, 1 new: "
                           "AWX-SRV-007 allworx-server: WAN Admin is enabled; "
                           "AWX-SRV-004 allworx-server: voicemail SMTP on standard 25; "
                           "NET-SCAN-001: error: sensor records unreadable |")
    new_line, new_code = nagios.render(nagios.only_new(st), nable=True)
    assert new_code == 1 and new_line.startswith("ALLWORX WARNING")     # a new medium failure
    assert "AWX-SRV-007" not in new_line and "AWX-SRV-004" in new_line and "NET-SCAN-001: error" in new_line
    assert new_line.endswith(" nable_code=1001")


def test_fail_on_new_with_only_an_error_left_warns_instead_of_ok():
    known = row("AWX-SRV-007", "fail", "critical", "allworx-server", 1, "WAN Admin is enabled")
    rows = [known, row("NET-SCAN-001", "error", "info", None, None, "sensor records unreadable")]
    st = nagios.only_new(status.render(summary_of(rows, new=[], unchanged=[known])))
    assert nagios.render(st)[1] == 1


def test_problems_text_stays_within_its_limit_and_counts_the_rest():
    problems = [{"text": f"AWX-PHN-006 phone-{n:03d}: the phone web UI accepted a default"} for n in range(30)]
    text = nagios.problems_text(problems)
    shown = text.split(" (+")[0].split("; ")
    assert len(text) <= nagios.MAX_TEXT and text.endswith(f" (+{30 - len(shown)} more)") and 1 < len(shown) < 30
    assert nagios.problems_text([{"text": "a | b\nc"}]) == "a | b c"           # one line (render drops the '|')


def test_unknown_lines_carry_the_nable_code_and_never_a_pipe():
    assert nagios.unknown("no site 'a|b'", nable=True) == ("ALLWORX UNKNOWN - no site 'a/b' | nable_code=1003", 3)
    assert nagios.unknown("no site 'x'") == ("ALLWORX UNKNOWN - no site 'x'", 3)
    st = status.no_audit(SITE)
    assert nagios.render(st, nable=True) == (
        "ALLWORX UNKNOWN - site Dental North: no completed audit yet | nable_code=1003", 3)


def _samples(text):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_exposition_parses_and_carries_state_withheld_age_and_reachability():
    rows = [row("AWX-SRV-007", "fail", "critical", "allworx-server", 1, "WAN Admin is enabled"),
            row("NET-NAT-001", "error", "critical", "gw", 9, "authentication failed")]
    score = {**scoring.score(rows), "raw": None, "waived": None, "withheld": "router gw: authentication failed"}
    health = [{"device_id": 9, "name": "gw", "kind": "router", "reached": False},
              {"device_id": 1, "name": "allworx-server", "kind": "server", "reached": True},
              {"device_id": 2, "name": "phone-101", "kind": "phone", "reached": None}]
    clinic = summary_of(rows, score=score, health=health)
    text = prometheus.render([{"site": "Clinic", "summary": clinic, "finished_ts": 1000.0},
                              {"site": "New Site", "summary": None, "finished_ts": None}], now_ts=1600.0)
    got = _samples(text)

    def value(name, **labels):
        return got[(name, tuple(sorted(labels.items())))]
    assert value("awxh_site_state", site="Clinic", state="UNKNOWN") == 1
    assert value("awxh_site_state", site="Clinic", state="CRITICAL") == 0       # a failure, but no verdict
    assert value("awxh_site_score_withheld", site="Clinic", reason="router gw: authentication failed") == 1
    assert math.isnan(value("awxh_site_score", site="Clinic", kind="raw"))
    assert value("awxh_site_audit_age_seconds", site="Clinic") == 600
    assert value("awxh_device_reachable", site="Clinic", device="gw", kind="router") == 0
    assert value("awxh_device_reachable", site="Clinic", device="allworx-server", kind="server") == 1
    assert not [k for k in got if k[0] == "awxh_device_reachable" and ("device", "phone-101") in k[1]]
    assert value("awxh_check_failing", site="Clinic", check_id="AWX-SRV-007", target="allworx-server") == 1
    assert value("awxh_site_state", site="New Site", state="UNKNOWN") == 1
    assert value("awxh_site_audit_age_seconds", site="New Site") == math.inf
    assert not [k for k in got if k[0] == "awxh_site_score_withheld" and ("site", "New Site") in k[1]]


@pytest.mark.parametrize("reached, expected", [(True, 1), (False, 0)])
def test_reachability_is_taken_from_the_audit_row_when_the_summary_has_no_health(reached, expected):
    summary = summary_of([row("AWX-SRV-001", "pass", "high", "pbx", 1)])
    text = prometheus.render([{"site": "S", "summary": summary, "finished_ts": 5.0,
                               "health": [{"name": "pbx", "kind": "server", "reached": reached}]}], now_ts=5.0)
    assert _samples(text)[("awxh_device_reachable", (("device", "pbx"), ("kind", "server"), ("site", "S")))] == expected
