"""Drift between two audits (or an audit and the pinned baseline): new, resolved, unchanged failures.

Results are keyed by (check id, device id). A waived failure is still a failure for `unchanged` and
`resolved`, but a failure that is waived now is not reported as new: fail-on-new is for surprises.
"""
from __future__ import annotations

from typing import Any

Key = tuple[str, Any]


def _key(row: dict[str, Any]) -> Key:
    return row["check_id"], row.get("device_id")


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("check_id", "device_id", "target", "severity", "title", "message")}


def diff(current: list[dict[str, Any]], previous: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    now_fail = {_key(r): r for r in current if r["status"] == "fail"}
    was_fail = {_key(r): r for r in previous if r["status"] == "fail"}
    was_error = {_key(r) for r in previous if r["status"] == "error"}
    current_by_key = {_key(r): r for r in current}
    return {
        "new_failures": [_brief(r) for k, r in now_fail.items() if k not in was_fail and not r.get("waived")],
        "resolved": [_brief(r) for k, r in was_fail.items()
                     if k not in now_fail and current_by_key.get(k, {}).get("status") == "pass"],
        "unchanged_failures": [_brief(r) for k, r in now_fail.items() if k in was_fail],
        "new_errors": [_brief(r) for r in current if r["status"] == "error" and _key(r) not in was_error],
    }
