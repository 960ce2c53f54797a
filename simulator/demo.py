"""`make demo`: a simulated Allworx site, the appliance under gunicorn, an audit, a printed summary.

Everything listens on loopback. The appliance is driven only through its REST API, as an RMM tool
or a partner script would drive it.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from simulator import start_site
from simulator.seed import seed_site

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "app.py", "create-token", "--name", "demo", "--scope", "admin"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                             f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "app:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60          # workers import drivers and apply migrations first
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read()[-2000:]}")


def run(preset: str = "insecure", data_dir: str | None = None) -> int:
    data_dir = data_dir or str(ROOT / "var" / "demo")
    if Path(data_dir).exists():
        import shutil
        shutil.rmtree(data_dir)
    env = {**os.environ, "AWXH_DATA_DIR": data_dir, "AWXH_WORKERS": "2"}
    token = _token(env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"starting a simulated Allworx site ({preset} preset) and the appliance on {base} ...")
    with start_site(preset) as site:
        server = _gunicorn(env, port)
        try:
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {token}"

            def call(method, path, body=None):
                resp = http.request(method, base + path, json=body, timeout=30)
                return resp.status_code, resp.json() if resp.content else None

            site_id = seed_site(call, "Demo Dental Office", site.inventory(),
                                site_fields={"lan_subnets": ["127.0.0.0/8"],
                                             "required_wan_services": ["sip", "vpn"]})
            resp = http.post(f"{base}/api/v1/sites/{site_id}/audits", json={"profile": "baseline"}, timeout=30)
            audit_url = base + resp.headers["Location"]
            audit = _wait(http, audit_url)
            _print_summary(http, base, audit, audit_url, data_dir, token)
        finally:
            server.terminate()
            server.wait(10)
    return 0 if audit["state"] == "completed" else 1


def _wait(http: requests.Session, url: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        audit = http.get(url, timeout=10).json()
        if audit["state"] not in ("queued", "running"):
            return audit
        time.sleep(0.2)
    raise RuntimeError("the audit did not finish in time")


def _print_summary(http, base: str, audit: dict, audit_url: str, data_dir: str, token: str) -> None:
    summary = audit.get("summary") or {}
    rows = http.get(f"{audit_url}/results", timeout=30).json() if audit["state"] == "completed" else []
    report = Path(data_dir) / f"audit-{audit['id']}-report.html"
    if audit["state"] == "completed":
        report.write_text(http.get(f"{audit_url}/report", timeout=30).text, encoding="utf-8")
    score = summary.get("score") or {}
    print(f"\naudit {audit['id']}: {audit['state']}  overall {summary.get('overall')}  "
          f"hardening index {score.get('raw')}/100 (with waivers {score.get('waived')})")
    print(f"devices gathered: {audit['progress'].get('devices_done')}/{audit['progress'].get('devices_total')} "
          f"in {audit['progress'].get('gather_seconds')} s")
    print(f"counts: {json.dumps(summary.get('counts'))}\n")
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    for row in sorted((r for r in rows if r["status"] == "fail"), key=lambda r: (order[r["severity"]], r["check_id"])):
        print(f"  FAIL {row['severity']:<8} {row['check_id']:<12} {row['target'][:28]:<28} {row['message'][:70]}")
    undecided = [r for r in rows if r["status"] in ("error", "manual", "not_applicable")]
    print(f"\n  ({len(undecided)} results could not be decided here: error/manual/not applicable; see the report)")
    print(f"\nreport:  {report}")
    print(f"results: curl -H 'Authorization: Bearer <token>' {audit_url}/results   (the demo token was {token[:12]}...)")
    print(f"data:    {data_dir}  (SQLite database, secret.key)")
