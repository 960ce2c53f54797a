"""The compact status an RMM tool polls: overall state, score, counts, what is newly failing."""
from __future__ import annotations

from typing import Any


def render(summary: dict[str, Any]) -> dict[str, Any]:
    since = (summary.get("drift") or {}).get("since_previous")
    failing = [r for r in summary["results"] if r["status"] == "fail" and not r["waived"]]
    new = since["new_failures"] if since is not None else [
        {k: r.get(k) for k in ("check_id", "device_id", "target", "severity", "title", "message")} for r in failing]
    return {"site": summary["site"], "overall": summary["overall"], "score": summary["score"],
            "counts": summary["counts"], "new_failures": new,
            "last_audit": {"id": summary["audit_id"], "finished_at": summary["finished_at"],
                           "profile": summary["profile"]}}
