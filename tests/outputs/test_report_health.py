"""The HTML report says plainly when the score is withheld and lists the devices the audit did not reach
(issue 13), as text and as headless Chromium renders it."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from hardening.outputs import report_html

REASON = "server pbx not reached: connection refused; 2 weighted check(s) could not be decided: AWX-SRV-004 on pbx"


def _row(check_id, status, severity):
    return {"check_id": check_id, "title": f"title {check_id}", "severity": severity, "status": status, "device_id": 1,
            "target": "pbx", "message": "could not decide on pbx <b>", "provenance": "device", "waived": False,
            "waiver": None, "evidence": [], "remediation": {"kind": "device", "hint": "fix"}}


def withheld_summary():
    health = [{"device_id": 1, "name": "pbx", "kind": "allworx_server", "address": "127.0.0.77", "reached": False,
               "reason": "connection refused",
               "channels": {"snmp": {"state": "failed", "reason": "timed out", "detail": "timeout: no SNMP response"},
                            "web": {"state": "failed", "reason": "connection refused", "detail": "refused"},
                            "probes": {"state": "failed", "reason": "connection refused", "detail": "all closed"},
                            "credential_test": {"state": "not_contacted", "reason": None, "detail": None}}},
              {"device_id": 2, "name": "phone-<101>", "kind": "allworx_phone", "address": "127.0.0.101", "reached": True,
               "reason": None, "channels": {"credential_test": {"state": "ok", "reason": None, "detail": None}}},
              {"device_id": 9, "name": "gw", "kind": "router", "address": "10.0.0.1", "reached": True,
               "reason": "garbled answer",
               "channels": {"ssh": {"state": "failed", "reason": "garbled answer", "detail": "x"}}}]
    rows = [_row("AWX-SRV-004", "error", "medium"), _row("AWX-SRV-001", "error", "high")]
    return {"audit_id": 4, "site": {"id": 1, "name": "Dental North"}, "profile": "baseline", "state": "completed",
            "started_at": "2026-12-05T00:00:00Z", "finished_at": "2026-12-05T00:01:00Z", "results": rows,
            "score": {"raw": None, "waived": None, "weights": {}, "withheld": REASON}, "overall": "UNKNOWN",
            "counts": {"total": 2, "pass": 0, "fail": 0, "error": 2, "not_applicable": 0, "manual": 0, "waived": 0,
                       "failing_by_severity": {}},
            "health": health, "problems": [], "drift": {"since_previous": None}}


def test_report_says_score_withheld_and_lists_the_unreached_devices():
    html = report_html.render(withheld_summary())
    assert f'<p class="withheld" id="withheld">Score withheld: {REASON}</p>' in html
    assert 'id="score">withheld<' in html and "/ 100; with waivers" not in html
    table = html.split("<table id='unreached'>", 1)[1].split("</table>", 1)[0]
    assert "<td>pbx</td><td>allworx_server</td><td>127.0.0.77</td><td><b>not reached</b>: connection refused</td>" \
        in table
    assert "snmp: timed out; web: connection refused; probes: connection refused" in table
    assert "<td>gw</td>" in table and "partly read" in table           # reached, but its SSH read failed
    assert "phone-" not in table                                        # read fine: not listed
    assert "could not decide on pbx &lt;b&gt;" in html                 # device text stays text


def test_report_with_every_device_answering_says_so():
    summary = withheld_summary()
    summary["health"] = [summary["health"][1]]
    summary["score"] = {"raw": 80.0, "waived": 80.0, "weights": {}}
    html = report_html.render(summary)
    assert "Every device the audit needed answered." in html and "Score withheld" not in html
    assert 'id="score">80.0<' in html


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium not installed (Debian package chromium)")
def test_withheld_report_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report_html.render(withheld_summary()), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], check=True, timeout=90,
                         capture_output=True, text=True).stdout
    assert f"Score withheld: {REASON}" in dom
    assert "127.0.0.77" in dom and "not reached" in dom and "UNKNOWN" in dom
