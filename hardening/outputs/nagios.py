"""Nagios-plugin output: one summary line with perfdata and exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN).

N-able (N-central/N-sight) script checks can map custom exit codes above 1000; with `nable=True`
the exit code is 1000 + the plugin code (1000 OK, 1001 WARNING, 1002 CRITICAL, 1003 UNKNOWN), so a
rule can key on them without colliding with a script's own crash codes. Windows keeps 32-bit exit
codes; POSIX keeps only the low 8 bits (1002 arrives as 234), so the line also carries `code=1002`
in its perfdata, and GET /sites/{id}/status has `nable_code` for a PowerShell wrapper.
"""
from __future__ import annotations

from typing import Any

CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def only_new(status: dict[str, Any]) -> dict[str, Any]:
    """fail-on-new: known (unchanged) failures no longer alert; new ones keep their severity."""
    new = status.get("new_failures") or []
    worst = "OK"
    if any(f.get("severity") in ("critical", "high") for f in new):
        worst = "CRITICAL"
    elif new:
        worst = "WARNING"
    return {**status, "overall": worst}


def render(status: dict[str, Any], nable: bool = False) -> tuple[str, int]:
    overall = status["overall"]
    counts = status.get("counts") or {}
    score = (status.get("score") or {}).get("raw")
    failing = sum((counts.get("failing_by_severity") or {}).values())
    new = status.get("new_failures") or []
    ids = ", ".join(sorted({f["check_id"] for f in new}))[:300]
    site = status["site"]["name"]
    if status.get("last_audit") is None:
        line = f"ALLWORX UNKNOWN - site {site}: no completed audit yet"
    else:
        line = (f"ALLWORX {overall} - site {site}: score {score}/100, {failing} failing, {len(new)} new"
                + (f": {ids}" if ids else "")
                + f" | score={score if score is not None else 'U'};;;0;100 failing={failing} new={len(new)}"
                  f" errors={counts.get('error', 0)}")
    code = CODES[overall if status.get("last_audit") else "UNKNOWN"]
    code = 1000 + code if nable else code
    return (f"{line} code={code}" if nable and "|" in line else line), code
