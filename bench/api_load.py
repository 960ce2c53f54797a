"""Benchmark: the REST API under gunicorn with 50 concurrent clients, against a bare Flask endpoint.

Two gunicorn servers run side by side with the SAME settings file (gunicorn.conf.py: 2 gthread
workers x 8 threads, access log on): the appliance ('app:create_app()', temp data dir, a simulated
site of 1 server, 20 phones, 2 Px at 20 ms device latency) and a bare Flask app with one GET that
returns a small JSON. Windows of --warmup + --duration seconds, one after another:
  1-2. the bare GET and the site status, --clients closed-loop clients (no think time) each, taking
     turns for --rounds rounds (3; the medians are reported);
  3-4. audit results, site inventory (all devices of the site in one page), the same, once;
  5. site status, open loop: the same clients together send 0.5x the bare throughput measured in
     windows 1 (the goal's rate), each at a fixed interval; latency counts from when a request was due;
  6. site status, closed loop, twice as long, while an audit and an Allworx server remediation (plan,
     apply, confirm) run through the API; the remediated settings are then read back from the
     simulated server itself, and the audit's results compared with an idle audit's.
The clients are threads spread over --procs processes (so the load generator is not one GIL), each on
its own keep-alive connection with a minimal HTTP/1.1 client (the load generator shares the 2 cores with
the servers). Everything listens on 127.0.0.x.

    .venv/bin/python bench/api_load.py                                      # full run
    .venv/bin/python bench/api_load.py --rates 200,300,400,500              # ... and where p99 < 25 ms holds
    .venv/bin/python bench/api_load.py --duration 1 --warmup 0.5 --clients 4  # smoke test
Goals: status reads >= 0.5x the bare endpoint's throughput (window 2 against 1, medians), p99 < 25 ms; the
audit and the remediation complete correctly (exit 1 otherwise, or on any non-200 read).

Closed loop, latency = clients / throughput on average (Little's law): p99 < 25 ms with 50 clients
needs well over 2000 req/s, more than the bare endpoint serves on 2 cores. The open-loop window says
what p99 a status reader sees at the throughput the goal asks for. The load generator shares the 2
cores with the servers; its CPU share is shown.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import http.client
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.site_audit import read_inventory, simulator_command  # noqa: E402  (after the path set-up)

HOST = "127.0.0.1"
P99_GOAL_MS = 25.0
RATIO_GOAL = 0.5
OPEN_LOOP = "site status, open loop at "        # + the rate: each window's name
DURING = "site status while an audit and a remediation run"
BARE_APP = '''"""The bare endpoint api_load.py compares the appliance with (same gunicorn settings)."""
from flask import Flask

app = Flask(__name__)


@app.get("/status")
def status():
    return {"status": "ok", "overall": "pass", "score": 100, "counts": {"fail": 0, "pass": 12}}
'''


class BenchError(Exception):
    """A step of the benchmark failed; the message says which."""


# ---- load generator (runs in spawned processes: keep it free of app imports) -------------------

class KeepAliveClient:
    """A minimal HTTP/1.1 GET client on one keep-alive connection: the request's bytes are built once and
    only the status line and the framing headers of each answer are parsed. http.client parsed every
    header with the email package, ~0.3 ms of CPU per request (~0.07 ms this way): a third of a core at
    these rates, taken from the servers it measures on the same 2 cores."""

    def __init__(self, port: int, path: str, headers: dict, timeout: float = 60.0):
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def get(self) -> int:
        """Send the request and read the whole answer: its status. On any fault the connection is closed
        (the next call opens another) and the error raised: OSError, or ValueError for a garbled answer."""
        try:
            if self.sock is None:
                self.sock, self.buf = socket.create_connection((HOST, self.port), timeout=self.timeout), b""
            self.sock.sendall(self.request)
            status_line, *lines = self._until(b"\r\n\r\n").split(b"\r\n")
            status = int(status_line.partition(b" ")[2][:3])       # ValueError when there is none
            headers = dict((name.strip().lower(), value.strip().lower())
                           for name, _, value in (line.partition(b":") for line in lines))
            if b"content-length" in headers:
                self._take(int(headers[b"content-length"]))
            elif headers.get(b"transfer-encoding") == b"chunked":
                while size := int(self._until(b"\r\n").split(b";")[0], 16):
                    self._take(size + 2)
                while self._until(b"\r\n"):            # trailers, up to the empty line
                    pass
            elif status >= 200 and status not in (204, 304):
                raise ValueError("an answer without Content-Length or chunks")
            if headers.get(b"connection") == b"close":
                self.close()
            return status
        except (OSError, ValueError):
            self.close()
            raise

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _until(self, delimiter: bytes) -> bytes:
        while delimiter not in self.buf:
            self._recv()
        part, _, self.buf = self.buf.partition(delimiter)
        return part

    def _take(self, size: int) -> None:
        while len(self.buf) < size:
            self._recv()
        self.buf = self.buf[size:]

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        self.buf += data


def _client_thread(port: int, path: str, headers: dict, start: float, measure_from: float, stop: float,
                   out: dict, interval: float | None = None, phase: float = 0.0) -> None:
    """One client on its own keep-alive connection. Closed loop (interval None): the next request as
    soon as the answer is in. Open loop: a request every `interval` seconds from start + phase, its
    latency counted from when it was due (a late send counts as waiting: no coordinated omission).
    A request counts when it completes inside [measure_from, stop); its latency runs across reconnects
    (a recycled worker, a closed keep-alive), as a client that retries would see it. Three failed
    attempts count as status 0."""
    client = KeepAliveClient(port, path, headers)
    lat, statuses, reconnects = [], {}, 0
    due = start + phase
    while time.time() < start:
        time.sleep(0.001)
    while time.time() < stop:
        if interval is not None:
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            t0 = time.perf_counter() - max(0.0, time.time() - due)
            due += interval
        else:
            t0 = time.perf_counter()
        status = 0
        for _attempt in range(3):
            try:
                status = client.get()
                break
            except (OSError, ValueError):
                reconnects += 1
        elapsed, done = time.perf_counter() - t0, time.time()
        if measure_from <= done < stop:
            lat.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
    client.close()
    out.update(lat=lat, statuses=statuses, reconnects=reconnects)


def load_process(port: int, path: str, headers: dict, phases: list[float], start: float, measure_from: float,
                 stop: float, interval: float | None = None) -> dict:
    """One client process: a client per phase, each on its own keep-alive connection."""
    cpu0 = time.process_time()
    outs = [{} for _ in phases]
    pool = [threading.Thread(target=_client_thread,
                             args=(port, path, headers, start, measure_from, stop, o, interval, phase))
            for o, phase in zip(outs, phases)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    lat, statuses, reconnects = [], {}, 0
    for o in outs:
        lat.extend(o.get("lat", []))
        for code, n in o.get("statuses", {}).items():
            statuses[code] = statuses.get(code, 0) + n
        reconnects += o.get("reconnects", 0)
    return {"lat": lat, "statuses": statuses, "reconnects": reconnects, "cpu": time.process_time() - cpu0}


def median_window(windows: list[dict]) -> dict:
    """The window of median throughput (its own latencies with it)."""
    return sorted(windows, key=lambda w: w["rps"])[len(windows) // 2]


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def run_load(pool: cf.ProcessPoolExecutor, procs: int, clients: int, port: int, path: str, headers: dict,
             warmup: float, duration: float, server_pid: int, rate: float | None = None) -> dict:
    """`clients` clients over `procs` processes, closed loop, or open loop at `rate` requests/s in all
    (each client every clients/rate s, their phases spread evenly): throughput and latency of the
    window, and the CPU the server (gunicorn master + workers) and the rest of the machine used."""
    interval = clients / rate if rate else None
    phases = [i * (interval or 0.0) / clients for i in range(clients)]
    per = [phases[i::procs] for i in range(procs)]
    start = time.time() + 0.3                       # every process is ready before the clients go
    measure_from, stop = start + warmup, start + warmup + duration
    futures = [pool.submit(load_process, port, path, headers, mine, start, measure_from, stop, interval)
               for mine in per if mine]
    time.sleep(max(0.0, measure_from - time.time()))
    cpu0 = CpuSnapshot(server_pid)
    time.sleep(max(0.0, stop - time.time()))
    cpu = CpuSnapshot(server_pid).since(cpu0)
    parts = [f.result(timeout=warmup + duration + 120) for f in futures]
    lat = sorted(x for p in parts for x in p["lat"])
    statuses: dict[int, int] = {}
    for p in parts:
        for code, n in p["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return {"requests": len(lat), "rps": len(lat) / duration, "p50": _percentile(lat, 0.50) * 1000,
            "p99": _percentile(lat, 0.99) * 1000, "max": (lat[-1] * 1000) if lat else float("nan"),
            "errors": sum(n for code, n in statuses.items() if code != 200), "statuses": statuses,
            "reconnects": sum(p["reconnects"] for p in parts),
            "client_cpu": sum(p["cpu"] for p in parts) / (warmup + duration),
            "server_ms_per_req": 1000 * cpu["server"] / len(lat) if lat else float("nan"),
            "server_cores": cpu["server"] / cpu["seconds"], "others_cores": cpu["others"] / cpu["seconds"],
            "window": (measure_from, stop)}


class CpuSnapshot:
    """CPU seconds so far (/proc, Linux) of: one process tree (the server), this benchmark's whole tree,
    and the machine. Exited workers count through their parent's cutime/cstime once reaped."""
    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server_pid: int):
        self.at = time.monotonic()
        parents, cpu = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry)
            parents[pid] = int(fields[1])
            cpu[pid] = sum(int(f) for f in fields[11:15]) / self.TICK      # utime stime cutime cstime
        self.server = self._tree(server_pid, parents, cpu)
        self.ours = self._tree(os.getpid(), parents, cpu)
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:9]]
        self.busy = (sum(ticks) - ticks[3] - ticks[4]) / self.TICK           # minus idle and iowait

    @staticmethod
    def _tree(root: int, parents: dict[int, int], cpu: dict[int, float]) -> float:
        members, frontier = {root}, {root}
        while frontier:
            frontier = {p for p, pp in parents.items() if pp in frontier and p not in members}
            members |= frontier
        return sum(cpu.get(p, 0.0) for p in members)

    def since(self, before: "CpuSnapshot") -> dict[str, float]:
        return {"seconds": self.at - before.at, "server": self.server - before.server,
                "others": max(0.0, (self.busy - before.busy) - (self.ours - before.ours))}


# ---- processes: simulator, gunicorn -------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Procs:
    """Every subprocess this run started, each in its own session; all stopped on exit."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, argv: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)      # a second Ctrl-C must not cut the clean-up short
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)     # its own group: stragglers (workers, snmpsim) too
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


def start_simulator(procs: Procs, phones: int, px: int, latency_ms: float) -> list[dict]:
    proc = procs.start(simulator_command(phones, px, latency_ms), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        inventory = read_inventory(proc)
    except RuntimeError as exc:
        raise BenchError(str(exc)) from None
    bad = [e["address"] for e in inventory if not e["address"].startswith("127.")]
    if bad:
        raise BenchError(f"the simulator listens outside loopback: {bad}")
    return inventory


def start_gunicorn(procs: Procs, app_spec: str, cwd: Path, env: dict, log: Path,
                   config: Path = ROOT / "gunicorn.conf.py") -> tuple[subprocess.Popen, int]:
    port = _free_port()
    with log.open("w") as errors:                # the access log goes to stdout, as configured: discarded
        # --no-control-socket: gunicorn 27 would otherwise bind ~/.gunicorn/gunicorn.ctl, shared with any
        # other gunicorn on the box (both servers get it; it is not on the request path)
        proc = procs.start([sys.executable, "-m", "gunicorn", "-c", str(config),
                            "--no-control-socket", app_spec],
                           cwd=cwd, env={**env, "AWXH_BIND": f"{HOST}:{port}"},
                           stdout=subprocess.DEVNULL, stderr=errors)
    return proc, port


def wait_http(proc: subprocess.Popen, port: int, path: str, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.2)
    raise BenchError(f"gunicorn on port {port} did not answer {path}: {log.read_text()[-2000:]}")


def restarts(log: Path) -> int:
    return log.read_text(errors="replace").count("Autorestarting worker")


# ---- the API: seeding, audit, remediation -------------------------------------------------------

class Api:
    def __init__(self, port: int, token: str):
        import requests
        self.base = f"http://{HOST}:{port}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body=None) -> tuple[int, object]:
        resp = self.http.request(method, self.base + path, json=body, timeout=120)
        return resp.status_code, (resp.json() if resp.content else None)

    def ok(self, method: str, path: str, body=None, expect: int = 200):
        status, data = self.call(method, path, body)
        if status != expect:
            raise BenchError(f"{method} {path}: {status} {data}")
        return data


def run_audit(api: Api, site_id: int, timeout: float = 300.0) -> tuple[dict, list[dict], float]:
    """Start an audit and wait for it: (audit, its results, seconds)."""
    started = time.perf_counter()
    audit = api.ok("POST", f"/api/v1/sites/{site_id}/audits", {}, expect=202)
    deadline = time.monotonic() + timeout
    while audit["state"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise BenchError(f"audit {audit['id']} still {audit['state']} after {timeout:.0f} s")
        time.sleep(0.2)
        audit = api.ok("GET", f"/api/v1/audits/{audit['id']}")
    elapsed = time.perf_counter() - started
    if audit["state"] != "completed":
        raise BenchError(f"audit {audit['id']} ended {audit['state']}: {audit.get('error')}")
    rows = api.ok("GET", f"/api/v1/audits/{audit['id']}/results")
    if not rows:
        raise BenchError(f"audit {audit['id']} completed without results")
    return audit, rows, elapsed


def outcome(rows: list[dict]) -> list[tuple]:
    return sorted((r["check_id"], r["device_id"] or 0, r["target"], r["status"]) for r in rows)


def server_driver(entry: dict):
    from simulator.testing import entry_driver       # QUICK options, the quick policy, through the one opener
    return entry_driver(entry)


def device_settings(entry: dict, names: list[str]) -> dict:
    """Read settings from the simulated server itself (its web admin), not from the appliance."""
    facts = server_driver(entry).gather(channels=["web"])
    if facts.errors.get("web"):
        raise BenchError(f"the simulated server could not be read: {facts.errors['web']}")
    out = {}
    for name in names:
        value = facts.value(name)
        out[name] = value.reveal() if hasattr(value, "reveal") else value
    return out


def run_remediation(api: Api, device_id: int, entry: dict) -> tuple[str, int, float]:
    """Plan, apply, confirm an Allworx server remediation; check every setting on the device.
    Returns (final state, settings verified on the device, seconds)."""
    started = time.perf_counter()
    plan = api.ok("POST", "/api/v1/remediations", {"device_id": device_id}, expect=201)
    if plan["state"] != "planned" or not plan["plan"]["changes"]:
        raise BenchError(f"remediation {plan['id']} not planned: {plan['state']} {plan.get('error')}")
    changes = {c["setting"]: c["to"] for c in plan["plan"]["changes"]}
    applied = api.ok("POST", f"/api/v1/remediations/{plan['id']}/apply")
    if applied["state"] != "awaiting_confirmation":
        raise BenchError(f"remediation {plan['id']} after apply: {applied['state']} {applied.get('error')}")
    confirmed = api.ok("POST", f"/api/v1/remediations/{plan['id']}/confirm")
    final = api.ok("GET", f"/api/v1/remediations/{plan['id']}")
    elapsed = time.perf_counter() - started
    if confirmed["state"] != "confirmed" or final["state"] != "confirmed":
        raise BenchError(f"remediation {plan['id']} ended {final['state']}: {final.get('error')}")
    generated = applied.get("generated") or {}
    want = {name: generated.get(name, to) for name, to in changes.items()}
    if any(v == "(generated, shown once)" for v in want.values()):
        raise BenchError(f"apply returned no generated secret for {sorted(set(changes) - set(generated))}")
    have = device_settings(entry, sorted(want))
    wrong = {n: "(secret)" if n in generated else have[n] for n in want if have[n] != want[n]}
    if wrong:
        raise BenchError(f"remediation {plan['id']} confirmed but the device still has {wrong}")
    return final["state"], len(want), elapsed


class DuringLoad(threading.Thread):
    """The audit and the remediation that run while the appliance is under load."""

    def __init__(self, api: Api, site_id: int, server_id: int, server_entry: dict):
        super().__init__(daemon=True, name="during-load")
        self.api, self.site_id, self.server_id, self.entry = api, site_id, server_id, server_entry
        self.audit: tuple | None = None
        self.remediation: tuple | None = None
        self.error: str = ""
        self.started = self.finished = 0.0

    def run(self) -> None:
        self.started = time.time()
        try:
            self.audit = run_audit(self.api, self.site_id)
            self.remediation = run_remediation(self.api, self.server_id, self.entry)
        except Exception as exc:                      # reported, and the exit code says so
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished = time.time()


# ---- the run ------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent closed-loop clients")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each window")
    parser.add_argument("--procs", type=int, default=0, help="client processes (0: min(clients, 10))")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/status rounds (medians)")
    parser.add_argument("--rates", type=lambda text: [float(r) for r in text.split(",") if r], default=[],
                        help="more open-loop status windows at these total rates, e.g. 200,400")
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--px", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="simulated device latency")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # clean up as on Ctrl-C
    procs = Procs()
    with tempfile.TemporaryDirectory(prefix="awxh-api-load-") as tmp:
        try:
            return _run(args, procs, Path(tmp))
        except BenchError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted; stopping the servers and the simulator", file=sys.stderr)
            return 130
        finally:
            procs.stop_all()


def _run(args, procs: Procs, tmp: Path) -> int:
    n_procs = args.procs or min(args.clients, 10)
    env = {**os.environ, "AWXH_DATA_DIR": str(tmp / "data")}
    env.pop("AWXH_SETTINGS_FILE", None)
    (tmp / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
    app_log, bare_log = tmp / "appliance.log", tmp / "bare.log"

    inventory = start_simulator(procs, args.phones, args.px, args.latency_ms)
    token = subprocess.run([sys.executable, "app.py", "create-token", "--name", "bench", "--scope", "admin"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if token.returncode != 0:
        raise BenchError(f"create-token failed: {token.stderr[-2000:]}")
    token = token.stdout.strip()
    app_proc, app_port = start_gunicorn(procs, "app:create_app()", ROOT, env, app_log)
    bare_proc, bare_port = start_gunicorn(procs, "bare_app:app", tmp, env, bare_log)
    wait_http(app_proc, app_port, "/api/v1/health", app_log)
    wait_http(bare_proc, bare_port, "/status", bare_log)

    api = Api(app_port, token)
    from simulator.seed import seed_site
    site_id = seed_site(api.call, "load", inventory, site_fields={"required_wan_services": ["sip", "vpn"]})
    server = api.ok("GET", f"/api/v1/devices?site_id={site_id}&kind=allworx_server")[0]
    server_entry = next(e for e in inventory if e["kind"] == "allworx_server")
    idle_audit, idle_rows, idle_audit_s = run_audit(api, site_id)       # the results endpoint needs data
    n_devices = len(inventory)

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    endpoints = [("site status", f"/api/v1/sites/{site_id}/status"),
                 (f"audit results ({len(idle_rows)} rows)", f"/api/v1/audits/{idle_audit['id']}/results"),
                 (f"inventory ({n_devices} devices)", f"/api/v1/devices?site_id={site_id}&page_size=100")]
    for _name, path in endpoints:                  # every path answers before it is timed
        api.ok("GET", path)

    ctx = multiprocessing.get_context("spawn")     # no fork of a process that has threads
    with cf.ProcessPoolExecutor(max_workers=n_procs, mp_context=ctx) as pool:
        list(pool.map(abs, range(n_procs)))         # the processes exist before the first window

        def window(port, path, hdrs, pid, rate=None, duration=args.duration):
            return run_load(pool, n_procs, args.clients, port, path, hdrs, args.warmup, duration, pid, rate)

        bare_restarts = restarts(bare_log)
        restarts_before = restarts(app_log)
        load_started = time.time()
        status_name, status_path = endpoints[0]
        # bare and status alternate over --rounds rounds (medians): the ratio is the goal, and one pair
        # of windows swings with whatever else the two cores did meanwhile
        pairs = [(window(bare_port, "/status", {"Accept": "application/json"}, bare_proc.pid),
                  window(app_port, status_path, headers, app_proc.pid)) for _ in range(args.rounds)]
        bare, status = median_window([b for b, _ in pairs]), median_window([s for _, s in pairs])
        bare_restarts = restarts(bare_log) - bare_restarts
        measured = {status_name: {**status, "rounds": [s["rps"] for _, s in pairs]}}
        bare = {**bare, "rounds": [b["rps"] for b, _ in pairs]}
        measured.update((name, window(app_port, path, headers, app_proc.pid)) for name, path in endpoints[1:])
        goal_rate = RATIO_GOAL * bare["rps"]
        measured[f"{OPEN_LOOP}0.5x the bare throughput"] = window(app_port, status_path, headers, app_proc.pid,
                                                                  rate=goal_rate)
        for rate in args.rates:                    # where the p99 goal holds: a latency/throughput curve
            measured[f"{OPEN_LOOP}{rate:g} req/s"] = window(app_port, status_path, headers, app_proc.pid, rate=rate)
        # the audit and the remediation run in a last window of status reads, twice as long: they must
        # complete correctly under load, and what they cost the readers is shown apart
        during = DuringLoad(api, site_id, server["id"], server_entry)
        timer = threading.Timer(0.3 + args.warmup, during.start)         # with the measured part
        timer.daemon = True
        timer.start()
        measured[DURING] = window(app_port, status_path, headers, app_proc.pid, duration=2 * args.duration)
        load_ended = time.time()
        worker_restarts = restarts(app_log) - restarts_before
    during.join(600)
    if during.is_alive():
        during.error = during.error or "the audit/remediation did not finish within 600 s"

    return report(args, n_procs, bare, measured, during, load_started, load_ended, worker_restarts,
                  (idle_rows, idle_audit_s), bare_restarts)


def report(args, n_procs, bare, measured, during, load_started, load_ended, worker_restarts, idle,
           bare_restarts) -> int:
    status = next(iter(measured.values()))
    ratio = status["rps"] / bare["rps"] if bare["rps"] else 0.0
    windows = [bare, *measured.values()]
    errors = sum(m["errors"] for m in windows)

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    python = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else sys.executable
    print(f"command: {' '.join([python, *sys.argv])}")
    print(f"load: {args.clients} clients over {n_procs} processes, keep-alive, closed loop unless "
          f"said, {args.warmup:g} s warm-up + {args.duration:g} s measured per endpoint; both servers under "
          f"gunicorn.conf.py on {HOST}; site: 1 server, {args.phones} phones, {args.px} Px at {args.latency_ms:g} ms")
    print("| measure | value | goal |\n|---|---|---|")
    for name, m in [("bare Flask GET", bare), *measured.items()]:
        goal = "baseline" if m is bare else ""
        if m is status:
            goal = f">= {RATIO_GOAL * bare['rps']:.0f} req/s ({RATIO_GOAL:g}x bare): {met(ratio >= RATIO_GOAL)}"
        rounds = f" (median of {', '.join(f'{r:.0f}' for r in m['rounds'])})" if len(m.get("rounds", ())) > 1 else ""
        print(f"| {name}, throughput | {m['rps']:.0f} req/s{rounds} | {goal} |")
        if name.startswith(OPEN_LOOP):
            p99_goal = f"p99 < {P99_GOAL_MS:g} ms: {met(m['p99'] < P99_GOAL_MS)}"
        elif m is bare:
            p99_goal = ""
        else:
            # closed loop: the mean latency is clients / throughput whatever the server (Little's law)
            floor = 1000 * args.clients / m["rps"] if m["rps"] else float("nan")
            p99_goal = f"p99 < {P99_GOAL_MS:g} ms: {met(m['p99'] < P99_GOAL_MS)} (closed-loop mean {floor:.1f} ms)"
        print(f"| {name}, p50 / p99 | {m['p50']:.1f} / {m['p99']:.1f} ms | {p99_goal} |")
        busy = during.started and during.started < m["window"][1] and during.finished > m["window"][0]
        print(f"| {name}, server CPU per request | {m['server_ms_per_req']:.2f} ms "
              f"({m['server_cores']:.2f} cores busy{', audit/remediation included' if busy else ''}) | |")
    print(f"| site status / bare throughput | {ratio:.2f} | >= {RATIO_GOAL:g}: {met(ratio >= RATIO_GOAL)} |")
    if DURING in measured:
        print(f"| site status while an audit and a remediation run / bare throughput | "
              f"{measured[DURING]['rps'] / bare['rps'] if bare['rps'] else 0.0:.2f} | |")
    print(f"| non-200 answers / reconnects | {errors} / {sum(m['reconnects'] for m in windows)} | 0 non-200 |")
    print(f"| worker restarts (max_requests) in the windows | {worker_restarts} appliance, {bare_restarts} bare | |")
    print(f"| load generator CPU, busiest window | {max(m['client_cpu'] for m in windows):.2f} cores "
          f"of {os.cpu_count()} | |")
    print(f"| CPU of other processes on the machine, busiest window | {max(m['others_cores'] for m in windows):.2f} "
          f"cores | ~0 (a quiet machine) |")
    ok = bool(not during.error and during.audit and during.remediation)
    differ: set = set()
    if during.audit:
        audit, rows, secs = during.audit
        idle_rows, idle_s = idle
        differ = set(outcome(rows)) ^ set(outcome(idle_rows))
        ok = ok and not differ
        print(f"| audit under load | {audit['state']}, {len(rows)} results, "
              f"{'the same as' if not differ else f'{len(differ)} differ from'} the idle audit's; {secs:.1f} s "
              f"(idle: {idle_s:.1f} s) | completed, same results |")
    else:
        print("| audit under load | FAILED | completed with results |")
    if during.remediation:
        state, settings, secs = during.remediation
        print(f"| remediation under load (plan, apply, confirm) | {state}, {settings} settings verified "
              f"on the simulated server, {secs:.1f} s | confirmed, device changed |")
    else:
        print("| remediation under load (plan, apply, confirm) | FAILED | confirmed, device changed |")
    if during.started:
        print(f"the audit and the remediation ran from {during.started - load_started:.1f} s to "
              f"{during.finished - load_started:.1f} s of the {load_ended - load_started:.1f} s appliance load"
              + ("" if during.finished <= load_ended else " (they outlasted it)"))
    if during.error:
        print(f"FAILED: {during.error}")
    if differ:
        print(f"FAILED: the audit under load and the idle audit differ in (check, device, target, status): "
              f"{sorted(differ)[:6]}")
    if errors:
        print("FAILED: non-200 answers under load: " + ", ".join(
            f"{n} {m['statuses']}" for n, m in [("bare", bare), *measured.items()] if m["errors"]))
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
