"""The Linux router side of a change: a private work dir, atomic nft runs and the router's own revert timer.

Every write is one `nft -j -f` file, so the kernel applies it as one transaction. The files live in a
directory made by `mktemp -d` (root's, mode 0700, an unguessable name); every path reaching the shell is
quoted, and names reaching nft were checked by firewall.nft_rules.safe_names.

The revert timer (commit-confirm, emulated) runs ON THE ROUTER, so it reverts even when the appliance is
gone. It puts back only this change's rules (restore.json), and only while the chains it touches are
exactly as the change left them (guard files); anything else changed there means a person is at work and
it does nothing. Whoever renames restore.json first wins: the timer (to restore.firing) when it fires, or
a confirmation (to restore.disarmed). So a confirmation either proves the timer can no longer act, or
learns that it already did.
"""
from __future__ import annotations

import json
import re
import shlex
from typing import Any

from firewall.nft_rules import Ruleset, safe_names

_DIR = re.compile(r"^/tmp/awxh-remediation-\d+\.[A-Za-z0-9]{10}$")
_PID = re.compile(r"^(\d+)$", re.M)
_TIMER_WORDS = ("AWXH_DISARMED", "AWXH_FIRED", "AWXH_TIMER_GONE", "AWXH_TIMER_ALIVE")

REVERT_SH = """#!/bin/sh
# awxh remediation {rid}: put back what this change took away, unless confirmed first (restore.json renamed)
d={dir}
trap 'kill "$s" 2>/dev/null; exit 0' TERM
sleep {seconds} & s=$!
wait "$s"
mv "$d/restore.json" "$d/restore.firing" 2>/dev/null || exit 0
finish() {{ echo "$1" > "$d/timer.state"; exit 0; }}
while read -r kind fam tab name idx; do
  case "$kind" in
  chain)
    nft -s -a list chain "$fam" "$tab" "$name" > "$d/now.$idx" 2>/dev/null || finish "chain $fam $tab $name is gone"
    if [ -s "$d/filter.$idx" ]; then grep -v -f "$d/filter.$idx" "$d/now.$idx" > "$d/rest.$idx"
    else cp "$d/now.$idx" "$d/rest.$idx"; fi
    cmp -s "$d/rest.$idx" "$d/expect.$idx" || finish "chain $fam $tab $name changed since the apply: left alone"
    if [ -s "$d/absent.$idx" ] && grep -q -f "$d/absent.$idx" "$d/now.$idx"; then finish "never applied"; fi ;;
  helper)
    if nft list ct helper "$fam" "$tab" "$name" >/dev/null 2>&1; then finish "never applied"; fi ;;
  esac
done < "$d/guard"
nft -j -f "$d/restore.firing" && finish restored
finish "restore failed"
"""

DISARM_SH = """#!/bin/sh
# awxh: disarm the revert timer of this directory and say whether it had fired; wait for it to end
d={dir}
if mv "$d/restore.json" "$d/restore.disarmed" 2>/dev/null; then echo AWXH_DISARMED; fired=; else echo AWXH_FIRED; fired=1; fi
pid=$(cat "$d/revert.pid" 2>/dev/null)
mine() {{ case "$pid" in ''|*[!0-9]*) return 1;; esac; grep -qF "$d/revert.sh" "/proc/$pid/cmdline" 2>/dev/null; }}
if [ -z "$fired" ] && mine; then kill -TERM "$pid"; fi
i=0
while [ $i -lt 100 ] && mine; do sleep 0.1; i=$((i+1)); done
if mine; then echo AWXH_TIMER_ALIVE; else echo AWXH_TIMER_GONE; fi
echo "AWXH_STATE=$(cat "$d/timer.state" 2>/dev/null)"
"""


def q(path: str) -> str:
    return shlex.quote(path)


def read(driver) -> tuple[str, Ruleset]:
    text = driver.run_checked("nft -j list ruleset")
    return text, Ruleset.parse(text)


def normalized(nft_json: str) -> list[Any]:
    """The ruleset without what a reload renumbers (handles) or stamps (metainfo): equal means same rules."""
    return Ruleset.parse(nft_json).normalized()


def make_dir(driver, rid: int) -> str:
    out = driver.run_checked(f"mktemp -d /tmp/awxh-remediation-{int(rid)}.XXXXXXXXXX")
    path = out.strip().splitlines()[-1].strip() if out.strip() else ""
    if not _DIR.match(path):
        raise RuntimeError(f"mktemp -d on the router gave {out[-200:]!r}, not a private directory")
    return path


def _check_dir(workdir: str) -> str:
    if not _DIR.match(workdir or ""):
        raise RuntimeError(f"{workdir!r} is not a remediation directory this appliance made")
    return workdir


def run_document(driver, workdir: str, name: str, document: dict[str, Any]) -> None:
    """Upload an nft JSON document and load it: one transaction."""
    path = f"{_check_dir(workdir)}/{name}"
    driver.put_file(path, json.dumps(document))
    driver.run_checked(f"nft -j -f {q(path)}")


def write_guard(driver, workdir: str, chains: dict[str, dict[str, Any]], helpers: list[dict[str, Any]],
                restore: dict[str, Any], target: str = "restore.json") -> None:
    """The timer's conditions, taken from the router as it is now, and what it restores. `chains`: chain ->
    {filter: handles whose lines the comparison leaves out (the rules the apply is about to change),
    absent: handles that must be gone when it fires (else the change never landed)}."""
    d = _check_dir(workdir)
    lines = []
    for idx, (chain, spec) in enumerate(chains.items()):
        family, table, name = chain.split(" ")
        safe_names(family, table, name)
        lines.append(f"chain {family} {table} {name} {idx}")
        driver.put_file(f"{d}/filter.{idx}", _handle_patterns(spec.get("filter", [])))
        driver.put_file(f"{d}/absent.{idx}", _handle_patterns(spec.get("absent", [])))
        listed, expect, fil = q(f"{d}/listed.{idx}"), q(f"{d}/expect.{idx}"), q(f"{d}/filter.{idx}")
        driver.run_checked(f"nft -s -a list chain {q(family)} {q(table)} {q(name)} > {listed} && "
                           f"if [ -s {fil} ]; then grep -v -f {fil} {listed} > {expect} || [ $? -eq 1 ]; "
                           f"else cp {listed} {expect}; fi")
    for body in helpers:
        safe_names(body["family"], body["table"], body["name"])
        lines.append(f"helper {body['family']} {body['table']} {body['name']} -")
    driver.put_file(f"{d}/guard", "".join(line + "\n" for line in lines))
    driver.put_file(f"{d}/{target}", json.dumps(restore))


def _handle_patterns(handles: list[int]) -> str:
    return "".join(f" # handle {int(h)}$\n" for h in handles)


def replace_restore(driver, workdir: str, chains: dict[str, dict[str, Any]], helpers: list[dict[str, Any]],
                    restore: dict[str, Any]) -> None:
    """After the apply: the timer's guard and restore from the read-back (actual handles), swapped in by a rename."""
    write_guard(driver, workdir, chains, helpers, restore, target="restore.next")
    d = q(_check_dir(workdir))
    driver.run_checked(f"[ -e {d}/restore.json ] && mv {d}/restore.next {d}/restore.json")


def arm_revert(driver, workdir: str, rid: int, seconds: int) -> int:
    d = _check_dir(workdir)
    driver.put_file(f"{d}/revert.sh", REVERT_SH.format(rid=int(rid), dir=q(d), seconds=int(seconds)))
    driver.put_file(f"{d}/disarm.sh", DISARM_SH.format(dir=q(d)))
    out = driver.run_checked(f"nohup sh {q(d + '/revert.sh')} >/dev/null 2>&1 </dev/null & "
                             f"echo $! > {q(d + '/revert.pid')}; cat {q(d + '/revert.pid')}")
    found = _PID.findall(out)
    if not found:
        raise RuntimeError(f"could not start the router-side revert timer: {out[-200:]!r}")
    return int(found[-1])


def disarm(driver, workdir: str) -> dict[str, Any]:
    """Disarm the timer: {"disarmed": it can no longer act, "fired": it acted first, "timer_gone",
    "timer_state": what it reported when it fired}. Waits (up to 10 s) for a firing timer to end."""
    out = driver.run_checked(f"sh {q(_check_dir(workdir) + '/disarm.sh')}", read_timeout=30)
    words = set(re.findall(r"AWXH_[A-Z_]+", out))
    if not words & {"AWXH_DISARMED", "AWXH_FIRED"}:
        raise RuntimeError(f"the router's answer to disarming its revert timer is garbled: {out[-300:]!r}")
    state = re.search(r"AWXH_STATE=(.*)", out)
    return {"disarmed": "AWXH_DISARMED" in words, "fired": "AWXH_FIRED" in words,
            "timer_gone": "AWXH_TIMER_GONE" in words, "timer_state": state.group(1).strip() if state else ""}


def cleanup(driver, workdir: str | None) -> None:
    if workdir:
        driver.run_checked(f"rm -rf -- {q(_check_dir(workdir))}")
