"""Benchmark: audit one real (namespace-lab) router with our driver vs plain paramiko exec_command.

Builds its own lab with tests/lab/lab.sh (needs root), then times, per run:
  connect  - TCP + host-key check + login (+ shell setup for the driver)
  gather   - the linux parser's read-only commands
  analyze  - parse into RouterConfig + firewall.analyze (forwards, findings)
  close    - logout
The baseline runs the same commands over one paramiko SSHClient (a channel per command) and
parses and analyzes the same way. Prints best and median of N runs and the driver/baseline ratio.

    sudo .venv/bin/python bench/router_live.py [--runs 5]
"""
from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paramiko  # noqa: E402

from firewall import parsers  # noqa: E402
from hardening.engine.analyze import analyze  # noqa: E402
from tests.lab.labctl import Lab, missing_requirement, running_lab  # noqa: E402

PHASES = ("connect", "gather", "analyze", "close")
Timings = dict[str, float]


def _analyze(lab: Lab, outputs: dict[str, str]) -> int:
    report = analyze(parsers.parse("linux", outputs), server_lan_ip=lab.pbx_ip)
    if len(report["forwards"]) != 3:
        raise RuntimeError(f"expected the lab's 3 forwards, got {len(report['forwards'])}")
    return len(report["findings"])


def _timed(steps: dict[str, Callable[[], object]]) -> Timings:
    """Run the phases in order; seconds per phase and in total."""
    out: Timings = {}
    start = last = time.perf_counter()
    for phase, step in steps.items():
        step()
        now = time.perf_counter()
        out[phase], last = now - last, now
    out["total"] = last - start
    return out


def run_driver(lab: Lab) -> Timings:
    """One audit through NetmikoRouterDriver (pinned host key, as in production)."""
    driver, got = lab.driver(), {}
    return _timed({"connect": driver.open,
                   "gather": lambda: got.update(driver.gather()),
                   "analyze": lambda: _analyze(lab, got),
                   "close": driver.close})


def run_paramiko(lab: Lab) -> Timings:
    """The same audit with paramiko's exec_command and the same pinned key."""
    pin, client, got = lab.host_key_pin(), paramiko.SSHClient(), {}
    key = paramiko.PKey.from_type_string(pin["type"], base64.b64decode(pin["key"]))
    client.get_host_keys().add(lab.router_lan, pin["type"], key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())

    def connect() -> None:
        client.connect(lab.router_lan, username=lab.username, password=lab.password, timeout=2,
                       look_for_keys=False, allow_agent=False)

    def gather() -> None:
        for command in parsers.get_parser("linux").COMMANDS:
            _, stdout, _ = client.exec_command(f"LC_ALL=C {command}", timeout=10)
            got[command] = stdout.read().decode()

    return _timed({"connect": connect, "gather": gather, "analyze": lambda: _analyze(lab, got),
                   "close": client.close})


def measure(lab: Lab, runner: Callable[[Lab], Timings], runs: int) -> list[Timings]:
    with lab.netns(lab.app):
        runner(lab)                                   # warm-up: imports, first connection
        return [runner(lab) for _ in range(runs)]


def table(results: dict[str, list[Timings]]) -> str:
    lines = [f"{'client':<22}{'stat':<8}" + "".join(f"{p:>9}" for p in (*PHASES, "total"))]
    for name, samples in results.items():
        for stat, pick in (("best", min), ("median", statistics.median)):
            row = "".join(f"{pick([s[p] for s in samples]):>9.3f}" for p in (*PHASES, "total"))
            lines.append(f"{name:<22}{stat:<8}{row}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per client (default 5)")
    args = parser.parse_args(argv)
    reason = missing_requirement()
    if reason:
        print(f"router_live: the namespace lab {reason}", file=sys.stderr)
        return 2
    with running_lab() as lab:
        results = {"NetmikoRouterDriver": measure(lab, run_driver, args.runs),
                   "paramiko exec_command": measure(lab, run_paramiko, args.runs)}
        from bench._remediation_timing import measure_remediation, report
        remediation = measure_remediation(lab, args.runs)
    print(f"one lab router, {args.runs} runs each, seconds\n{table(results)}")
    for stat, pick in (("best", min), ("median", statistics.median)):
        ours = pick([s["total"] for s in results["NetmikoRouterDriver"]])
        base = pick([s["total"] for s in results["paramiko exec_command"]])
        print(f"ratio driver/paramiko ({stat} total): {ours / base:.2f}x"
              f"  -> {'under' if ours < 1.0 else 'OVER'} the 1 s per-router goal")
    print(f"\nremediation through the API (remove the 2 dangerous forwards), seconds\n{report(remediation)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
