"""Benchmark: a full site audit, concurrent vs one device after another, and the worker's peak RSS.

Site: 1 server, 100 phones, 4 Px Expanders (the simulator, in its own process, 20 ms injected
latency on every device request) and, when run as root, the namespace-lab router read over SSH.
The appliance runs in this process (the "worker") so its peak RSS is measured alone.

    .venv/bin/python bench/site_audit.py            # full run (3 rounds)
    .venv/bin/python bench/site_audit.py --quick    # 10 phones, one round, for a smoke test
Goals (issue 6): full audit < 5 s, >= 10x faster than sequential, worker peak RSS < 200 MB.

One discarded audit first: the first audit in a process pays imports and caches (reported apart as
"cold"). Then rounds of (concurrent, sequential) audits; the table gives each side's median.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def simulator_command(phones: int, px: int, latency_ms: float) -> list[str]:
    return [sys.executable, "-m", "simulator", "--preset", "insecure", "--phones", str(phones), "--px", str(px),
            "--latency-ms", str(latency_ms), "--with-credentials"]


def read_inventory(proc: subprocess.Popen) -> list[dict]:
    """The inventory the simulator prints once it listens."""
    lines = []
    for line in proc.stdout:                       # the JSON document ends with a closing brace at column 0
        lines.append(line)
        if line.startswith("}"):
            break
    if not lines or not lines[-1].startswith("}"):
        raise RuntimeError(f"the simulator did not start (exit {proc.poll()})")
    return json.loads("".join(lines))["inventory"]


def start_simulator(phones: int, px: int, latency_ms: float, netns: str | None) -> tuple[subprocess.Popen, list[dict]]:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    proc = subprocess.Popen([*prefix, *simulator_command(phones, px, latency_ms)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    return proc, read_inventory(proc)


def audit_once(inventory: list[dict], router: dict | None, workers: int) -> tuple[float, dict]:
    from api.auth import new_token
    from app import create_app
    from simulator.seed import flask_call, seed_site
    app = create_app({"DATA_DIR": tempfile.mkdtemp(prefix="awxh-bench-"), "AUDITS_SYNCHRONOUS": True,
                      "AUDIT_GATHER_WORKERS": workers, "BACKGROUND_DUTIES": False, "CREDENTIAL_TESTS": False})
    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "bench", "admin")
        sess.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    site_id = seed_site(flask_call(client, headers), "bench", inventory, extra_devices=[router] if router else [])
    started = time.perf_counter()
    resp = client.post(f"/api/v1/sites/{site_id}/audits", json={}, headers=headers)
    elapsed = time.perf_counter() - started
    audit = client.get(resp.headers["Location"], headers=headers).get_json()
    if audit["state"] != "completed":
        raise SystemExit(f"audit did not complete: {audit}")
    return elapsed, audit


def lab_router():
    """(context manager, router inventory entry) for the namespace lab, or (None, None) without root."""
    try:
        from tests.lab.labctl import missing_requirement, running_lab
    except ImportError:
        return None, None
    if missing_requirement():
        return None, None
    ctx = running_lab()
    lab = ctx.__enter__()
    entry = {"kind": "router", "name": "lab-router", "address": lab.router_lan, "device_type": "linux",
             "credentials": {"username": lab.username, "password": lab.password}}
    return (ctx, lab), entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    phones = 10 if args.quick else 100
    lab_ctx, router = lab_router()
    try:
        return _run(phones, args.latency_ms, 1 if args.quick else args.rounds, lab_ctx, router)
    finally:
        if lab_ctx:
            lab_ctx[0].__exit__(None, None, None)


def _run(phones: int, latency_ms: float, rounds: int, lab_ctx, router) -> int:
    lab = lab_ctx[1] if lab_ctx else None
    # With the lab, everything runs in its appliance namespace: the simulator on that namespace's
    # loopback, the audit's threads (created inside the setns context, so they inherit it) and the router.
    sim, inventory = start_simulator(phones, 4, latency_ms, lab.app if lab else None)
    try:
        with (lab.netns(lab.app) if lab else _nothing()):
            cold_s, _ = audit_once(inventory, router, workers=32)
            concurrent, sequential = [], []
            for _ in range(rounds):
                elapsed, audit = audit_once(inventory, router, workers=32)
                concurrent.append(elapsed)
                sequential.append(audit_once(inventory, router, workers=1)[0])
    finally:
        sim.terminate()
        sim.wait(10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    concurrent_s, sequential_s = statistics.median(concurrent), statistics.median(sequential)
    devices = audit["progress"]["devices_total"]
    print(f"site: 1 server, {phones} phones, 4 Px, {latency_ms:g} ms latency per device request; "
          f"{devices} devices audited, {len(audit['summary']['counts'] or {})} count keys")
    print("| measure | value | goal |\n|---|---|---|")
    print(f"| full audit, concurrent (32 workers), median of {rounds} | {concurrent_s:.2f} s "
          f"({', '.join(f'{x:.2f}' for x in concurrent)}) | < 5 s |")
    print(f"| same audit, one device after another, median of {rounds} | {sequential_s:.2f} s "
          f"({', '.join(f'{x:.2f}' for x in sequential)}) | baseline |")
    print(f"| first audit in the process (cold: imports, caches) | {cold_s:.2f} s | |")
    print(f"| speed-up | {sequential_s / concurrent_s:.1f}x | >= 10x |")
    print(f"| router | {'namespace lab (nftables + OpenSSH), in the audit' if lab else 'none (not root)'} | |")
    print(f"| worker peak RSS | {peak_mb:.0f} MB | < 200 MB |")
    print(f"score {audit['summary']['score']['raw']}, overall {audit['summary']['overall']}")
    return 0


@contextlib.contextmanager
def _nothing():
    yield


if __name__ == "__main__":
    sys.exit(main())
