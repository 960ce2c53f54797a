"""Nagios-plugin output: one summary line with perfdata and exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN).

The line names the worst problems first (the status's `problems`: failures by severity, then errors
such as "router gw: authentication failed"), at most MAX_TEXT characters of them.

N-able: a POSIX exit status is 8 bits (an exit of 1002 arrives as 234), so `--nable` keeps the exit
0-3 and prints the N-able custom code on the line as the perfdata item `nable_code=1000+code` (1000 OK,
1001 WARNING, 1002 CRITICAL, 1003 UNKNOWN), on every line, UNKNOWN ones included. N-sight RMM script
checks pass on exit 0, fail on any other exit and show what the script printed on stdout:
  https://documentation.n-able.com/remote-management/userguide/Content/script_guide_return.htm
an N-central custom service over an Automation Manager policy sets its state by whether the policy's
output string contains a value ("contains nable_code=1002" -> Failed):
  https://documentation.n-able.com/N-central/userguide/Content/Services/CustomServices/CustomServices_Properties.htm
N-sight reserves exits 1-999 and recommends one above 1000 for its text display, which no POSIX process
can return: the JSON status (GET /sites/{id}/status) keeps `nable_code` for a Windows wrapper
(PowerShell `exit $status.nable_code`, README) where exit codes have 32 bits.
"""
from __future__ import annotations

from typing import Any

CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
MAX_TEXT = 400


def only_new(status: dict[str, Any]) -> dict[str, Any]:
    """fail-on-new: known (unchanged) failures no longer alert and are no longer named; new ones keep
    their severity. Errors still warn, and UNKNOWN (missing evidence) stays UNKNOWN: never OK."""
    if status["overall"] == "UNKNOWN" or (status.get("score") or {}).get("withheld"):
        return {**status, "overall": "UNKNOWN"}
    new = status.get("new_failures") or []
    known = {(f["check_id"], f.get("device_id")) for f in status.get("unchanged_failures") or []}
    problems = [p for p in status.get("problems") or []
                if p.get("check_id") is None or (p["check_id"], p.get("device_id")) not in known]
    worst = "OK"
    if any(f.get("severity") in ("critical", "high") for f in new):
        worst = "CRITICAL"
    elif any(f.get("severity") != "info" for f in new) or (status.get("counts") or {}).get("error"):
        worst = "WARNING"
    return {**status, "overall": worst, "problems": problems}


def problems_text(problems: list[dict[str, Any]], limit: int = MAX_TEXT) -> str:
    """The problems' texts, worst first, joined with '; ' within `limit` characters (+N more)."""
    shown: list[str] = []
    for index, problem in enumerate(problems):
        text = " ".join(str(problem.get("text") or "").split())         # one line, whatever it held
        rest = len(problems) - index - 1
        if shown and len("; ".join(shown + [text])) + (len(f" (+{rest} more)") if rest else 0) > limit:
            return "; ".join(shown) + f" (+{len(problems) - index} more)"
        shown.append(text[:limit])
    return "; ".join(shown)


def unknown(text: str, nable: bool = False) -> tuple[str, int]:
    """An UNKNOWN line for a check that has no status to render (no such site, an audit refused)."""
    line = " ".join(f"ALLWORX UNKNOWN - {text}".split()).replace("|", "/")
    return (f"{line} | nable_code=1003" if nable else line), CODES["UNKNOWN"]


def render(status: dict[str, Any], nable: bool = False) -> tuple[str, int]:
    site = status["site"]["name"]
    if status.get("last_audit") is None:
        return unknown(f"site {site}: no completed audit yet", nable)
    overall = status["overall"]
    counts = status.get("counts") or {}
    score = (status.get("score") or {}).get("raw")
    failing = sum((counts.get("failing_by_severity") or {}).values())
    new = status.get("new_failures") or []
    named = problems_text(status.get("problems") or [])
    head = f"score {score}/100" if score is not None else "score U"
    if overall == "UNKNOWN":
        head = status.get("unknown_reason") or "nothing was decided"
    text = (f"ALLWORX {overall} - site {site}: {head}, {failing} failing, {len(new)} new"
            + (f": {named}" if named else ""))
    line = (" ".join(text.split()).replace("|", "/")   # one line; '|' starts the perfdata, never in the text
            + f" | score={score if score is not None else 'U'};;;0;100 failing={failing} new={len(new)}"
              f" errors={counts.get('error', 0)}")
    code = CODES[overall]
    return (f"{line} nable_code={1000 + code}" if nable else line), code
