"""The hardening index (checks.md, Scoring) and the counts and overall state built on it.

Only decided results (pass/fail) carry weight; error, not_applicable and manual are counted apart,
so an unreachable device can never raise the score. A waived result counts with its real status in
the raw score and as passed in the waived score.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from hardening.model.results import SEVERITY_WEIGHT

DECIDED = ("pass", "fail")


def _index(weights: Iterable[tuple[int, bool]]) -> float | None:
    total = earned = 0
    for weight, passed in weights:
        total += weight
        earned += weight if passed else 0
    return None if total == 0 else round(100.0 * earned / total, 1)


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    decided = [r for r in rows if r["status"] in DECIDED]
    raw = _index((SEVERITY_WEIGHT[r["severity"]], r["status"] == "pass") for r in decided)
    waived = _index((SEVERITY_WEIGHT[r["severity"]], r["status"] == "pass" or r.get("waived", False))
                    for r in decided)
    out: dict[str, Any] = {"raw": raw, "waived": waived, "weights": dict(SEVERITY_WEIGHT)}
    if raw is None:
        out["note"] = "no decided result carries weight (all error, not applicable, manual or info)"
    return out


def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_status = Counter(r["status"] for r in rows)
    failing = [r for r in rows if r["status"] == "fail" and not r.get("waived")]
    return {"total": len(rows), **{s: by_status.get(s, 0) for s in ("pass", "fail", "error", "not_applicable",
                                                                  "manual")},
            "waived": sum(1 for r in rows if r.get("waived")),
            "failing_by_severity": dict(Counter(r["severity"] for r in failing))}


def overall(rows: list[dict[str, Any]]) -> str:
    """CRITICAL: an unwaived critical/high failure; WARNING: another unwaived failure or any error;
    OK: otherwise with at least one decided result; UNKNOWN: nothing decided."""
    failing = [r for r in rows if r["status"] == "fail" and not r.get("waived")]
    if any(r["severity"] in ("critical", "high") for r in failing):
        return "CRITICAL"
    if any(r["severity"] != "info" for r in failing) or any(r["status"] == "error" for r in rows):
        return "WARNING"
    if not any(r["status"] in DECIDED for r in rows):
        return "UNKNOWN"
    return "OK"
