"""JUnit, SARIF, Prometheus, Nagios and the HTML report from one audit summary."""
import json
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest

from hardening.outputs import junit, nagios, prometheus, report_html, sarif, status

XSS = "<script>alert('x')</script>"


def summary():
    def r(cid, st, sev, target, waived=False, message="found"):
        return {"check_id": cid, "title": f"title {cid}", "severity": sev, "status": st, "device_id": 1,
                "target": target, "message": message, "provenance": "device", "waived": waived,
                "waiver": {"justification": "ITSP needs it", "approver": "Dana", "risk": "r", "expires_at": None,
                           "expired": False} if waived else None,
                "evidence": [{"detail": "forward tcp/8080", "excerpt": 'dnat to 10.0.0.2:8080 "x"',
                              "source": "router:gw", "provenance": "device"}],
                "remediation": {"kind": "router", "hint": "remove it"}}
    results = [r("AWX-SRV-007", "fail", "critical", "pbx", message=XSS), r("NET-ALG-001", "fail", "low", "gw",
                                                                          waived=True),
               r("AWX-SRV-001", "pass", "high", "pbx"), r("AWX-PX-001", "error", "critical", "px-1")]
    return {"audit_id": 9, "site": {"id": 1, "name": 'Dental "North"'}, "profile": "baseline", "state": "completed",
            "started_at": "2026-11-27T00:00:00Z", "finished_at": "2026-11-27T00:01:00Z", "results": results,
            "score": {"raw": 33.3, "waived": 37.5}, "overall": "CRITICAL",
            "counts": {"total": 4, "pass": 1, "fail": 2, "error": 1, "not_applicable": 0, "manual": 0, "waived": 1,
                       "failing_by_severity": {"critical": 1}},
            "drift": {"since_previous": {"new_failures": [{"check_id": "AWX-SRV-007", "target": "pbx"}],
                                         "resolved": [], "unchanged_failures": [], "new_errors": []}}}


def test_junit_is_wellformed_and_classifies():
    root = ET.fromstring(junit.render(summary()))
    assert len(list(root.iter("failure"))) == 1 and len(list(root.iter("error"))) == 1
    skipped = [s.get("message") for s in root.iter("skipped")]
    assert skipped == ["waived: ITSP needs it"]


def test_sarif_structure_and_suppressions():
    doc = sarif.render(summary())
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and len(run["tool"]["driver"]["rules"]) == 32      # one rule per catalog check
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["AWX-SRV-007"]["level"] == "error"
    assert by_rule["NET-ALG-001"]["suppressions"][0]["justification"] == "ITSP needs it"
    assert "AWX-SRV-001" not in by_rule
    json.loads(sarif.render_json(summary()))


def test_prometheus_exposition_escapes_labels():
    text = prometheus.render([{"site": 'Dental "North"', "summary": summary(), "finished_ts": 1.5}])
    # prometheus_client writes labels in name order
    assert 'awxh_site_score{kind="raw",site="Dental \\"North\\""} 33.3' in text
    assert 'awxh_check_failing{check_id="AWX-SRV-007",site="Dental \\"North\\"",target="pbx"} 1' in text
    assert "NET-ALG-001" not in text                       # waived
    assert text.count("# TYPE") == 8                       # the 4 metrics of before and 4 new ones


@pytest.mark.parametrize("nable", [False, True])
def test_nagios_line_and_codes(nable):
    line, exit_code = nagios.render(status.render(summary()), nable=nable)
    assert exit_code == 2                                  # POSIX exit 0-3; N-able's code is on the line
    assert line.startswith("ALLWORX CRITICAL - site Dental \"North\": score 33.3/100, 1 failing, 1 new: AWX-SRV-007")
    assert "| score=33.3;;;0;100 failing=1 new=1" in line
    assert line.endswith(" nable_code=1002") == nable


def test_html_report_escapes_everything():
    html = report_html.render(summary())
    assert XSS not in html and "&lt;script&gt;" in html
    assert "ITSP needs it" in html and "Dana" in html and 'id="score">33.3<' in html


def _png_colours(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4}[ctype]
    stride = width * bpp + 1
    rows = [raw[i * stride + 1:(i + 1) * stride] for i in range(0, height, 7)]     # filtered bytes, sampled
    return len({row[i:i + bpp] for row in rows for i in range(0, len(row), bpp * 5)})


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium not installed (Debian package chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report_html.render(summary()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600"]
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", page.as_uri()], check=True, timeout=90,
                   capture_output=True)
    assert _png_colours(shot) > 20, "screenshot looks blank"
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], check=True, timeout=90,
                         capture_output=True, text=True).stdout
    assert "33.3" in dom and "AWX-SRV-007" in dom and "CRITICAL" in dom and "ITSP needs it" in dom
    assert "Devices not reached" in dom and "Score withheld" not in dom      # a score, no health recorded
