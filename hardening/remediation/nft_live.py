"""The Linux nftables side of a change: backup, router-side auto-revert, atomic apply, exact restore.

Everything that changes the router is one `nft -f` file, so the kernel applies it as one transaction:
a session killed mid-apply leaves either the old or the new ruleset, never a mix. Before applying, a
timer is started ON THE ROUTER that reloads the backup after the confirm deadline; confirming kills
it. So even if the appliance dies, the router reverts by itself (commit-confirm, emulated).
"""
from __future__ import annotations

import json
import re
from typing import Any

_PID = re.compile(r"^(\d+)$", re.M)


def _paths(rid: int) -> dict[str, str]:
    base = f"/tmp/awxh-remediation-{rid}"
    return {"backup": f"{base}.backup.nft", "apply": f"{base}.apply.nft", "pid": f"{base}.revert.pid"}


def upload(driver, path: str, text: str) -> None:
    """Write a file on the router (SFTP on the pinned session; no shell quoting involved)."""
    driver.put_file(path, text)


def snapshot(driver) -> dict[str, Any]:
    return {"text": driver.run_checked("nft list ruleset"), "json": driver.run_checked("nft -j list ruleset")}


def normalized(nft_json: str) -> list[Any]:
    """nft -j without what a reload renumbers (handles) or stamps (metainfo): equal means same rules."""
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("handle", "metainfo")}
        if isinstance(node, list):
            return [strip(x) for x in node]
        return node
    items = json.loads(nft_json).get("nftables", [])
    return [strip(x) for x in items if "metainfo" not in x]


def arm_revert(driver, rid: int, backup_text: str, seconds: int) -> int:
    paths = _paths(rid)
    upload(driver, paths["backup"], "flush ruleset\n" + backup_text)
    out = driver.run_checked(f"nohup sh -c 'sleep {seconds}; nft -f {paths['backup']}' >/dev/null 2>&1 & "
                             f"echo $! | tee {paths['pid']}")
    found = _PID.findall(out)
    if not found:
        raise RuntimeError(f"could not start the router-side revert timer: {out[-200:]!r}")
    return int(found[-1])


def disarm_revert(driver, rid: int) -> None:
    pid_file = _paths(rid)["pid"]
    driver.run_checked(f"if [ -f {pid_file} ]; then kill \"$(cat {pid_file})\" 2>/dev/null; rm -f {pid_file}; fi; true")


def apply_script(driver, rid: int, commands: list[str]) -> None:
    path = _paths(rid)["apply"]
    upload(driver, path, "\n".join(commands) + "\n")
    driver.run_checked(f"nft -f {path}")


def restore(driver, rid: int, backup: dict[str, Any]) -> None:
    path = _paths(rid)["backup"]
    upload(driver, path, "flush ruleset\n" + backup["text"])
    driver.run_checked(f"nft -f {path}")


def cleanup(driver, rid: int) -> None:
    driver.run_checked("rm -f " + " ".join(_paths(rid).values()))
