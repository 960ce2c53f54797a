"""Scoring by severity, waivers at read time (expiry, clock jumps), drift between audits."""
from datetime import datetime, timedelta, timezone

from hardening.model import drift, scoring, waivers


def row(check_id, status, severity="high", device_id=1, waived=False):
    return {"check_id": check_id, "status": status, "severity": severity, "device_id": device_id,
            "target": f"d{device_id}", "title": check_id, "message": "", "waived": waived, "waiver": None}


def test_score_weighs_decided_results_only():
    rows = [row("A", "pass", "critical"), row("B", "fail", "high"), row("C", "error", "critical"),
            row("D", "not_applicable", "critical"), row("E", "manual", "high"), row("F", "pass", "info")]
    # the weighting itself, over the decided rows (C's error withholds the site's score: see below)
    raw, _waived = scoring.decided_index(rows)
    assert raw == round(100 * 10 / 15, 1)
    rows[1]["waived"] = True
    assert scoring.decided_index(rows) == (round(100 * 10 / 15, 1), 100.0)
    s = scoring.score(rows)
    assert s["raw"] is None and s["waived"] is None and "C" in s["withheld"]


def test_an_unreachable_device_never_raises_the_score():
    base = [row("A", "pass", "high"), row("B", "fail", "high", device_id=2)]
    unreachable = [row("A", "pass", "high"), row("B", "error", "high", device_id=2)]
    # issue 13: the score is withheld, not 100 (it used to rise from 50 to 100 when B became an error)
    assert scoring.score(unreachable)["raw"] is None and "B on d2" in scoring.score(unreachable)["withheld"]
    assert scoring.overall(unreachable) == "UNKNOWN"          # no verdict on missing evidence
    assert scoring.score(base)["raw"] == 50.0
    assert scoring.overall(base) == "CRITICAL"


def test_no_decided_weight_is_none_with_a_reason():
    s = scoring.score([row("A", "error"), row("B", "pass", "info")])
    assert s["raw"] is None and "no decided result" in s["note"]
    assert scoring.overall([row("A", "not_applicable")]) == "UNKNOWN"


def test_counts_and_overall_levels():
    rows = [row("A", "fail", "medium"), row("B", "pass"), row("C", "fail", "critical", waived=True)]
    c = scoring.counts(rows)
    assert (c["fail"], c["pass"], c["waived"], c["failing_by_severity"]) == (2, 1, 1, {"medium": 1})
    assert scoring.overall(rows) == "WARNING"
    assert scoring.overall([row("A", "pass")]) == "OK"


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def waiver(check_id="A", scope="site", device_id=None, expires=None):
    return {"id": 1, "check_id": check_id, "scope": scope, "device_id": device_id, "justification": "vendor fix due",
            "approver": "ops lead", "risk": "low", "expires_at": expires}


def test_waiver_matching_by_scope():
    rows = [row("A", "fail", device_id=1), row("A", "fail", device_id=2), row("B", "fail")]
    out = waivers.apply_waivers(rows, [waiver(scope="device", device_id=2)], NOW)
    assert [r["waived"] for r in out] == [False, True, False]
    assert out[1]["status"] == "fail"                           # the real status stays visible
    out = waivers.apply_waivers(rows, [waiver()], NOW)
    assert [r["waived"] for r in out] == [True, True, False]


def test_expired_waiver_stops_applying_and_says_so_across_a_clock_jump():
    expires = (NOW + timedelta(hours=1)).isoformat()
    rows = [row("A", "fail")]
    assert waivers.apply_waivers(rows, [waiver(expires=expires)], NOW)[0]["waived"] is True
    jumped = NOW + timedelta(days=3)                            # the clock jumps past the expiry
    out = waivers.apply_waivers(rows, [waiver(expires=expires)], jumped)[0]
    assert out["waived"] is False and out["waiver"]["expired"] is True
    back = waivers.apply_waivers(rows, [waiver(expires=expires)], NOW - timedelta(days=1))[0]
    assert back["waived"] is True                               # decided by the clock given, nothing cached


def test_drift_new_resolved_unchanged():
    prev = [row("A", "fail"), row("B", "fail"), row("C", "pass"), row("D", "fail")]
    cur = [row("A", "fail"), row("B", "pass"), row("C", "fail"), row("D", "error"), row("E", "fail", waived=True)]
    d = drift.diff(cur, prev)
    assert [r["check_id"] for r in d["new_failures"]] == ["C"]          # E is waived: not a surprise
    assert [r["check_id"] for r in d["resolved"]] == ["B"]              # D is error now, not resolved
    assert [r["check_id"] for r in d["unchanged_failures"]] == ["A"]
    assert [r["check_id"] for r in d["new_errors"]] == ["D"]
