"""The compact status an RMM tool polls: overall state, score, counts, what is newly failing."""
from __future__ import annotations

from typing import Any

CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def render(summary: dict[str, Any]) -> dict[str, Any]:
    since = (summary.get("drift") or {}).get("since_previous")
    failing = [r for r in summary["results"] if r["status"] == "fail" and not r["waived"]]
    new = since["new_failures"] if since is not None else [
        {k: r.get(k) for k in ("check_id", "device_id", "target", "severity", "title", "message")} for r in failing]
    code = CODES[summary["overall"]]
    return {"site": summary["site"], "overall": summary["overall"], "nagios_code": code, "nable_code": 1000 + code,
            "score": summary["score"],
            "counts": summary["counts"], "new_failures": new,
            "last_audit": {"id": summary["audit_id"], "finished_at": summary["finished_at"],
                           "profile": summary["profile"]}}
