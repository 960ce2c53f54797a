"""Smoke test of bench/api_load.py with a short, light load: it runs, every row has its number, and the
audit and remediation it runs under load complete (never its timings or goals)."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "api_load.py"
ENDPOINTS = ("bare Flask GET", "site status", "audit results", "inventory")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH), "--duration", "1", "--warmup", "0.5", "--clients", "4"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)


def _rows(out: str) -> dict[str, list[str]]:
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in row.strip("|").split("|")] for row in rows[1:])}


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_api_load", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_api_load"] = bench
    spec.loader.exec_module(bench)
    return bench


def test_quick_run_exits_zero(quick_run):
    assert quick_run.returncode == 0, quick_run.stdout + quick_run.stderr
    assert quick_run.stdout.startswith("command: ")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_has_throughput_and_latency(quick_run, endpoint):
    rows = _rows(quick_run.stdout)
    name = next((n for n in rows if n.startswith(endpoint) and n.endswith(", throughput")), None)
    assert name, f"no throughput row for {endpoint}: {list(rows)}"
    assert re.fullmatch(r"\d+ req/s( \(median of \d+, \d+, \d+\))?", rows[name][0]), rows[name][0]
    assert int(rows[name][0].split()[0]) > 0
    latency = rows[name.replace(", throughput", ", p50 / p99")][0]
    p50, p99 = map(float, re.fullmatch(r"([\d.]+) / ([\d.]+) ms", latency).groups())
    assert 0 < p50 <= p99
    assert re.match(r"[\d.]+ ms \(", rows[name.replace(", throughput", ", server CPU per request")][0])


def test_ratio_and_error_rows(quick_run):
    rows = _rows(quick_run.stdout)
    assert float(rows["site status / bare throughput"][0]) > 0
    assert rows["non-200 answers / reconnects"][0].startswith("0 / ")


def test_audit_and_remediation_under_load_completed(quick_run):
    rows = _rows(quick_run.stdout)
    audit = rows["audit under load"][0]
    assert re.match(r"completed, \d+ results, the same as the idle audit's", audit), audit
    remediation = rows["remediation under load (plan, apply, confirm)"][0]
    assert re.match(r"confirmed, [1-9]\d* settings verified on the simulated server", remediation), remediation
    assert "FAILED" not in quick_run.stdout


def test_a_failed_remediation_fails_the_run(capsys):
    """The exit code says whether the work done under load completed, whatever the timings."""
    bench = _bench_module()
    window = {"rps": 100.0, "p50": 1.0, "p99": 2.0, "errors": 0, "statuses": {200: 100}, "reconnects": 0,
              "client_cpu": 0.1, "server_ms_per_req": 1.0, "server_cores": 0.1, "others_cores": 0.0,
              "window": (0.0, 1.0)}
    during = bench.DuringLoad(None, 1, 1, {})
    rows = [{"check_id": "AWX-SRV-001", "device_id": 1, "target": "server", "status": "fail"}]
    during.audit = ({"state": "completed"}, rows, 1.0)
    during.error = "BenchError: remediation 1 confirmed but the device still has {'stealth': False}"
    args = bench.parse_args(["--duration", "1"])
    assert bench.report(args, 1, window, {"site status": window}, during, 0.0, 1.0, 0, (rows, 1.0), 0) == 1
    assert "FAILED: BenchError: remediation 1" in capsys.readouterr().out
    changed = [{**rows[0], "status": "error"}]           # a device the audit could not read under load
    during.remediation, during.error = ("confirmed", 9, 1.0), ""
    assert bench.report(args, 1, window, {"site status": window}, during, 0.0, 1.0, 0, (changed, 1.0), 0) == 1
    out = capsys.readouterr().out
    assert "2 differ from the idle audit's" in out and "FAILED: the audit under load and the idle audit differ" in out


def test_the_open_loop_windows_are_reported(quick_run):
    rows = _rows(quick_run.stdout)
    open_loop = [n for n in rows if n.startswith("site status, open loop") and n.endswith(", p50 / p99")]
    assert open_loop and re.match(r"p99 < 25 ms: (met|NOT met)$", rows[open_loop[0]][1])
    during = "site status while an audit and a remediation run, throughput"
    assert int(rows[during][0].split()[0]) > 0


def test_open_loop_client_keeps_its_schedule_and_counts_lateness():
    """A client due every 0.1 s sends on schedule; when one answer is slow, the requests that fell due
    meanwhile count their wait (no coordinated omission)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            served.append(time.time())
            if len(served) == 1:
                time.sleep(0.35)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bench = _bench_module()
        out: dict = {}
        start = time.time() + 0.05
        bench._client_thread(server.server_address[1], "/", {}, start, start, start + 1.0, out, interval=0.1)
    finally:
        server.shutdown()
    assert out["statuses"] == {200: len(out["lat"])} and 9 <= len(out["lat"]) <= 11
    late = sorted(out["lat"], reverse=True)
    assert late[0] >= 0.35 and late[1] >= 0.2 and late[2] >= 0.1   # due at 0.1, 0.2 s: sent after 0.35 s
    assert sorted(out["lat"])[0] < 0.05                               # later ones on time again
