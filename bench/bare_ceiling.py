"""Benchmark: how far a bare Flask endpoint gets under gunicorn on this machine with 50 closed-loop clients.

bench/api_load.py holds the appliance's status reads against a bare Flask GET under the same settings. This
asks the question behind its p99 goal: can ANY endpoint keep p99 under 25 ms with 50 clients that send
their next request as soon as the last is answered, on this box? The bare endpoint of api_load.py (one small
JSON, no database) runs under the repo's gunicorn.conf.py and under variants of it that trade features for
speed (no access log, fewer threads, sync workers), with api_load.py's load generator: --clients keep-alive
clients over several processes, --warmup + --duration s per window, --rounds windows per setting (medians).

    .venv/bin/python bench/bare_ceiling.py
    .venv/bin/python bench/bare_ceiling.py --duration 2 --warmup 0.5 --rounds 1     # smoke test

Closed loop, the mean latency is clients / throughput (Little's law), so p99 < 25 ms with 50 clients needs
more than 2000 req/s even if every request took exactly as long as the mean.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.api_load import BARE_APP, P99_GOAL_MS, BenchError, Procs, median_window, run_load, start_gunicorn, wait_http  # noqa: E402

# gunicorn settings tried, as lines appended to a copy of gunicorn.conf.py (later assignments win)
SETTINGS = {
    "repo settings: 2 gthread workers x 8 threads, access log": "",
    "the same, no access log": "accesslog = None",
    "2 gthread workers x 1 thread": "threads = 1",
    "3 gthread workers x 1 thread, no access log": "workers = 3\nthreads = 1\naccesslog = None",
    "3 sync workers (no keep-alive), no access log": "worker_class = 'sync'\nworkers = 3\naccesslog = None",
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per window")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per setting (the median is shown)")
    parser.add_argument("--procs", type=int, default=0, help="client processes (0: min(clients, 10))")
    return parser.parse_args(argv)


def measure(args, procs: Procs, pool, n_procs: int, tmp: Path, index: int, name: str, extra: str) -> dict:
    config = tmp / f"gunicorn-{index}.conf.py"
    config.write_text((ROOT / "gunicorn.conf.py").read_text(encoding="utf-8") + f"\n# {name}\n{extra}\n",
                      encoding="utf-8")
    log = config.with_suffix(".log")
    proc, port = start_gunicorn(procs, "bare_app:app", tmp, dict(os.environ), log, config=config)
    try:
        wait_http(proc, port, "/status", log)
        windows = [run_load(pool, n_procs, args.clients, port, "/status", {"Accept": "application/json"},
                            args.warmup, args.duration, proc.pid) for _ in range(args.rounds)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    return {**median_window(windows), "rounds": [w["rps"] for w in windows]}


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n_procs = args.procs or min(args.clients, 10)
    procs = Procs()
    with tempfile.TemporaryDirectory(prefix="awxh-bare-ceiling-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
        try:
            with cf.ProcessPoolExecutor(max_workers=n_procs, mp_context=multiprocessing.get_context("spawn")) as pool:
                list(pool.map(abs, range(n_procs)))
                results = {name: measure(args, procs, pool, n_procs, tmp, index, name, extra)
                           for index, (name, extra) in enumerate(SETTINGS.items())}
        except BenchError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            procs.stop_all()
    python = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else sys.executable
    print(f"command: {' '.join([python, *sys.argv])}")
    print(f"load: {args.clients} closed-loop keep-alive clients over {n_procs} processes (bench/api_load.py's), "
          f"{args.warmup:g} s warm-up + {args.duration:g} s per window, median of {args.rounds}; "
          f"p99 < {P99_GOAL_MS:g} ms needs > {1000 * args.clients / P99_GOAL_MS:.0f} req/s (Little's law)")
    print("| gunicorn settings | throughput (rounds) | p50 / p99 | server CPU per request | load generator |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        rounds = ", ".join(f"{x:.0f}" for x in r["rounds"])
        print(f"| {name} | {r['rps']:.0f} req/s ({rounds}) | {r['p50']:.1f} / {r['p99']:.1f} ms | "
              f"{r['server_ms_per_req']:.2f} ms | {r['client_cpu']:.2f} cores |")
    met = [name for name, r in results.items() if r["p99"] < P99_GOAL_MS and not r["errors"]]
    print(f"settings with p99 < {P99_GOAL_MS:g} ms: {', '.join(met) if met else 'none'}")
    errors = sum(r["errors"] for r in results.values())
    if errors:
        print(f"FAILED: {errors} non-200 answers", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
