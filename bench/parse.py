"""Benchmark: parse + analysis of a large generated IOS config and nft ruleset, vs ciscoconfparse2.

Inputs are generated from a fixed seed: an IOS running-config (default 20,000 lines, 2,000 static
forwards) and an nft ruleset (default 5,000 rules, a realistic share of them dnat rules in a
prerouting nat chain). Both hold planted dangerous forwards to the Allworx server (TCP 8080 admin,
TCP 143 IMAP), so the benchmark also asserts the answers: forward counts, AWX-SRV-007 and NET-NAT-002
fail, and pass again on the same input without the planted rules. A fast but wrong parser fails.
The nft -j row needs root and nft: the text ruleset is loaded into a throw-away network namespace
and listed back as JSON there; otherwise the row is skipped with the reason.

    .venv/bin/python bench/parse.py [--runs 5] [--quick] [--scale N] [--strict]

--scale N multiplies every generated size (lines, forwards, VLAN subinterfaces, nft rules) by N and
adds the growth ratio time(Nx) / time(1x) of IOS parse + analysis; linear cost means about N, the
goal is at most 1.25 N (20 at 16x). The time goals scale with N too.

Exit status: 1 when a correctness check fails (or, with --strict, a time goal is missed).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ciscoconfparse2 import CiscoConfParse  # noqa: E402

from firewall import parsers  # noqa: E402
from hardening.engine.analyze import analyze  # noqa: E402

SEED = 20240603
SERVER_LAN, SERVER_WAN, WAN_IP = "10.10.0.10", "203.0.113.10", "203.0.113.2"
PHONES, PXS, SIP_PEERS = ["10.20.0.21", "10.20.0.22"], ["10.10.0.30"], ["198.51.100.0/24"]
PLANTED_CHECKS = ("AWX-SRV-007", "NET-NAT-002")
GOAL_SECONDS = 0.5


@dataclass
class Sizes:
    ios_lines: int
    ios_forwards: int
    nft_rules: int
    nft_dnat: int


FULL, QUICK = Sizes(20_000, 2_000, 5_000, 1_500), Sizes(2_000, 200, 500, 150)
MAX_SCALE = 30                   # unique external ports run out beyond (see _forwards)
GROWTH_GOAL = 1.25               # growth ratio allowed per unit of scale: 20 at 16x


def scaled(sizes: Sizes, factor: int) -> Sizes:
    return Sizes(*(value * factor for value in astuple(sizes)))


class BenchError(RuntimeError):
    """A correctness check failed: the numbers would measure a wrong parse."""


# --- input generation -------------------------------------------------------------------------

def _planted_forwards(count: int) -> list[tuple[str, str, int, int]]:
    """(proto, lan ip, lan port, wan port) of the dangerous forwards: server admin and IMAP."""
    return [("tcp", SERVER_LAN, (8080, 143)[i % 2], (8080, 143)[i % 2] + 10_000 * (i // 2))
            for i in range(count)]


def _forwards(rng: random.Random, count: int, planted: int) -> list[tuple[str, str, int, int]]:
    """Unique external ports; ordinary forwards go to hosts away from the Allworx devices."""
    pool = range(20_000, 60_000) if count - planted <= 40_000 else range(1_024, 65_536)
    wan_ports = rng.sample(pool, count - planted)
    out = _planted_forwards(planted)
    for wan_port in wan_ports:
        host = f"10.{rng.randint(30, 90)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
        out.append((rng.choice(("tcp", "udp")), host, rng.choice((22, 80, 443, 3389, 5900, 9000)), wan_port))
    rng.shuffle(out)
    return out


def ios_config(sizes: Sizes, planted: int = 4, seed: int = SEED) -> str:
    """A running-config of exactly sizes.ios_lines lines holding sizes.ios_forwards static forwards."""
    rng = random.Random(seed)
    head = ["Building configuration...", "", "version 15.7", "service timestamps log datetime msec",
            "hostname bench-isr", "!", "no ip nat service sip udp port 5060", "!",
            "interface Dialer0", " ip address negotiated", " ip nat outside", " dialer pool 1", "!",
            "interface GigabitEthernet0/0", " ip address 10.10.0.1 255.255.255.0", " ip nat inside", "!"]
    for vlan in range(20, 20 + sizes.ios_lines // 400):         # VLAN subinterfaces in proportion
        head += [f"interface GigabitEthernet0/0.{vlan}", f" description {'voice' if vlan == 20 else 'data'}-{vlan}",
                 f" encapsulation dot1Q {vlan}", f" ip address {_vlan_address(vlan)}", " ip nat inside",
                 " ip access-group LAN-IN in", "!"]
    for i in range(sizes.ios_lines // 200):
        head += [f"route-map RM-{i} permit 10", f" match ip address ACL-{i}", f" set ip next-hop 10.10.0.{i % 250 + 2}",
                 "!", f"ip route 172.{16 + i % 16}.{i % 256}.0 255.255.255.0 10.10.0.254"]
    nat = []
    for proto, host, port, wan_port in _forwards(rng, sizes.ios_forwards, planted):
        outside = "interface Dialer0" if rng.random() < 0.7 else WAN_IP
        nat.append(f"ip nat inside source static {proto} {host} {port} {outside} {wan_port}")
    tail = ["!", "line vty 0 4", " transport input ssh", "!", "end"]
    acl = ["!", "ip access-list extended LAN-IN"]
    while len(head) + len(nat) + len(tail) + len(acl) < sizes.ios_lines:
        acl.append(f" permit tcp 10.{rng.randint(20, 90)}.{rng.randint(0, 255)}.0 0.0.0.255 any eq "
                   f"{rng.choice((53, 80, 123, 443, 993))}")
    return "\n".join(head + nat + acl + tail) + "\n"


def _vlan_address(vlan: int) -> str:
    """A LAN address per VLAN: 10.V.0.1/16 while V fits an octet, then /24s in 172.17-31/16."""
    return f"10.{vlan}.0.1 255.255.0.0" if vlan < 256 else f"172.{16 + (vlan >> 8)}.{vlan & 255}.1 255.255.255.0"


def _nft_dnat_rules(rng: random.Random, sizes: Sizes, planted: int) -> list[str]:
    rules = []
    for i, (proto, host, port, wan_port) in enumerate(_forwards(rng, sizes.nft_dnat, planted)):
        source = 'ip saddr 198.51.100.0/24 ' if i % 7 == 0 else ""
        rules.append(f'iifname "ppp0" {source}{proto} dport {wan_port} dnat to {host}:{port} comment "fwd-{i}"')
    return rules


def nft_ruleset(sizes: Sizes, planted: int = 4, seed: int = SEED) -> str:
    """`nft list ruleset` text with sizes.nft_rules rules, sizes.nft_dnat of them dnat in prerouting."""
    rng = random.Random(seed + 1)
    dnat = _nft_dnat_rules(rng, sizes, planted)
    nat_tail = ['oifname "ppp0" masquerade']
    filters = ["ct state established,related accept", 'iifname "ppp0" ct status dnat accept']
    while len(dnat) + len(nat_tail) + len(filters) < sizes.nft_rules:
        filters.append(f"ip saddr 10.{rng.randint(20, 90)}.{rng.randint(0, 255)}.0/24 "
                       f"{rng.choice(('tcp', 'udp'))} dport {rng.randint(1, 65535)} accept")
    rule = "\t\t{}".format
    return "\n".join(
        ["table ip nat {", "\tchain prerouting {",
         "\t\ttype nat hook prerouting priority dstnat; policy accept;", *map(rule, dnat), "\t}", "",
         "\tchain postrouting {", "\t\ttype nat hook postrouting priority srcnat; policy accept;",
         *map(rule, nat_tail), "\t}", "}", "table inet filter {", "\tchain forward {",
         "\t\ttype filter hook forward priority filter; policy drop;", *map(rule, filters), "\t}", "}"]) + "\n"


def nft_json_via_netns(ruleset: str) -> tuple[str | None, str]:
    """(`nft -j list ruleset` of `ruleset` loaded in a throw-away netns, or None, and why not)."""
    if os.geteuid() != 0:
        return None, "not root: a network namespace is needed to load the ruleset"
    if not (shutil.which("nft") and shutil.which("ip")):
        return None, "nft or ip (iproute2) not installed"
    ns = f"awxhbench{os.getpid()}"
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as f:
        f.write(ruleset)
        f.flush()
        try:
            subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=30)
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", f.name], check=True, capture_output=True,
                           timeout=120)
            out = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"], check=True,
                                 capture_output=True, text=True, timeout=120)
            return out.stdout, "loaded into a throw-away network namespace"
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            return None, f"could not load the ruleset in a netns: {detail[:200]!r}"
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


# --- correctness ------------------------------------------------------------------------------

def parse_and_analyze(platform: str, command: str, text: str) -> dict:
    config = parsers.parse(platform, {command: text})
    return analyze(config, server_lan_ip=SERVER_LAN, server_wan_ip=SERVER_WAN, phone_ips=PHONES,
                   px_ips=PXS, allowed_sip_sources=SIP_PEERS)


def _statuses(report: dict) -> dict[str, str]:
    return {f["check_id"]: f["status"] for f in report["findings"]}


def verify(name: str, report: dict, clean: dict, forwards: int) -> list[str]:
    """Check the planted forwards are all found and decide the checks; the clean input passes them."""
    got, lines = len(report["forwards"]), []
    if got != forwards:
        raise BenchError(f"{name}: {got} forwards parsed, expected {forwards}")
    lines.append(f"CHECK {name} forwards: {got} == {forwards} ok")
    dirty, fine = _statuses(report), _statuses(clean)
    for check in PLANTED_CHECKS:
        if dirty.get(check) != "fail" or fine.get(check) != "pass":
            raise BenchError(f"{name}: {check} is {dirty.get(check)!r} with the planted forwards and "
                             f"{fine.get(check)!r} without; expected 'fail' and 'pass'")
        lines.append(f"CHECK {name} {check}: fail with planted forwards, pass without ok")
    return lines


# --- timing -----------------------------------------------------------------------------------

@dataclass
class Timing:
    best: float
    median: float


def measure(step: Callable[[], object], runs: int) -> Timing:
    """One warm-up call, then `runs` timed calls."""
    step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return Timing(min(times), statistics.median(times))


def _row(what: str, t: Timing, goal: str, met: bool | None) -> str:
    verdict = "" if met is None else ("met" if met else "**missed**")
    return f"| {what} | {t.best:.3f} | {t.median:.3f} | {goal} | {verdict} |"


def ios_seconds(sizes: Sizes, runs: int) -> Timing:
    """IOS parse + analysis of the generated config at `sizes`."""
    ios = ios_config(sizes)
    return measure(lambda: parse_and_analyze("cisco_ios", "show running-config", ios), runs)


def growth(sizes: Sizes, factor: int, runs: int) -> tuple[Timing, Timing, float]:
    """(time at 1x, time at `factor`x, best-time ratio): how the cost grows with the input."""
    base, big = ios_seconds(sizes, runs), ios_seconds(scaled(sizes, factor), runs)
    return base, big, big.best / base.best


def growth_row(sizes: Sizes, factor: int, runs: int) -> tuple[str, bool]:
    base, big, ratio = growth(sizes, factor, runs)
    goal = GROWTH_GOAL * factor
    return (f"| growth ratio IOS parse + analysis 1x -> {factor}x ({base.best:.3f} s -> {big.best:.3f} s) "
            f"| {ratio:.2f} | - | <= {goal:g} | {'met' if ratio <= goal else '**missed**'} |", ratio <= goal)


def run(sizes: Sizes, runs: int, goal_seconds: float = GOAL_SECONDS) -> tuple[list[str], list[str], bool]:
    """(correctness lines, markdown table, every goal met)."""
    ios, ios_clean = ios_config(sizes), ios_config(sizes, planted=0)
    nft, nft_clean = nft_ruleset(sizes), nft_ruleset(sizes, planted=0)
    if len(ios.splitlines()) != sizes.ios_lines:
        raise BenchError(f"generator: {len(ios.splitlines())} IOS lines, expected {sizes.ios_lines}")
    checks = verify("ios", parse_and_analyze("cisco_ios", "show running-config", ios),
                    parse_and_analyze("cisco_ios", "show running-config", ios_clean), sizes.ios_forwards)
    checks += verify("nft-text", parse_and_analyze("linux", "nft list ruleset", nft),
                     parse_and_analyze("linux", "nft list ruleset", nft_clean), sizes.nft_dnat)
    json_text, why = nft_json_via_netns(nft)
    json_clean, _ = nft_json_via_netns(nft_clean) if json_text else (None, why)
    if json_text and json_clean:
        checks += verify("nft-json", parse_and_analyze("linux", "nft -j list ruleset", json_text),
                         parse_and_analyze("linux", "nft -j list ruleset", json_clean), sizes.nft_dnat)
    lines = ios.splitlines()
    ours_parse = measure(lambda: parsers.parse("cisco_ios", {"show running-config": ios}), runs)
    ours = measure(lambda: parse_and_analyze("cisco_ios", "show running-config", ios), runs)
    ccp = measure(lambda: CiscoConfParse(lines, syntax="ios"), runs)
    nft_t = measure(lambda: parse_and_analyze("linux", "nft list ruleset", nft), runs)
    ratio = Timing(ours.best / ccp.best, ours.median / ccp.median)
    rows = [_row(f"IOS parse ({sizes.ios_lines} lines, {sizes.ios_forwards} forwards)", ours_parse, "", None),
            _row("IOS parse + analysis", ours, f"< {goal_seconds:g} s", ours.best < goal_seconds),
            _row("ciscoconfparse2 0.9 parse only (same config)", ccp, "", None),
            _row("ratio ours (parse + analysis) / ciscoconfparse2", ratio, "< 1 (ours faster)", ratio.best < 1),
            _row(f"nft text parse + analysis ({sizes.nft_rules} rules, {sizes.nft_dnat} dnat)", nft_t,
                 f"< {goal_seconds:g} s", nft_t.best < goal_seconds)]
    met = ours.best < goal_seconds and ratio.best < 1 and nft_t.best < goal_seconds
    if json_text:
        nft_j = measure(lambda: parse_and_analyze("linux", "nft -j list ruleset", json_text), runs)
        rows.append(_row("nft -j parse + analysis (same ruleset)", nft_j, f"< {goal_seconds:g} s",
                         nft_j.best < goal_seconds))
        met = met and nft_j.best < goal_seconds
    else:
        rows.append(f"| nft -j parse + analysis | - | - | < {goal_seconds:g} s | skipped: {why} |")
    header = ["| measurement | best (s) | median (s) | goal | verdict |", "|---|---|---|---|---|"]
    return checks, header + rows, met


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed repetitions after one warm-up (default 5)")
    ap.add_argument("--quick", action="store_true", help="small inputs (2,000 lines, 500 rules) for smoke tests")
    ap.add_argument("--scale", type=int, default=1, metavar="N",
                    help=f"multiply every size by N (1-{MAX_SCALE}) and report the growth ratio 1x -> Nx")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a time goal is missed")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if not 1 <= args.scale <= MAX_SCALE:
        ap.error(f"--scale must be between 1 and {MAX_SCALE}")
    base = QUICK if args.quick else FULL
    try:
        checks, table, met = run(scaled(base, args.scale), args.runs, GOAL_SECONDS * args.scale)
        if args.scale > 1:
            row, grew_ok = growth_row(base, args.scale, args.runs)
            table.append(row)
            met = met and grew_ok
    except BenchError as exc:
        print(f"CORRECTNESS FAILED: {exc}", file=sys.stderr)
        return 1
    print("\n".join(checks))
    print(f"\nPython {sys.version.split()[0]}, {args.runs} runs after one warm-up"
          f"{' (--quick sizes)' if args.quick else ''}{f', scale {args.scale}x' if args.scale > 1 else ''}:\n")
    print("\n".join(table))
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
