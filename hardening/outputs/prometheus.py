"""Prometheus text exposition (format 0.0.4): per-site scores, failing checks, last audit time."""
from __future__ import annotations

from typing import Any

HELP = {
    "awxh_site_score": ("gauge", "Hardening index 0-100 of the latest completed audit (kind=raw|waived)"),
    "awxh_site_failing_checks": ("gauge", "Unwaived failing results by severity"),
    "awxh_check_failing": ("gauge", "1 when the check fails (unwaived) on the target"),
    "awxh_audit_last_finished_timestamp_seconds": ("gauge", "When the latest completed audit finished"),
}


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _line(name: str, labels: dict[str, Any], value: Any) -> str:
    body = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
    return f"{name}{{{body}}} {value}"


def render(sites: list[dict[str, Any]]) -> str:
    """`sites`: [{"site": name, "summary": audit summary or None, "finished_ts": float|None}]."""
    lines: list[str] = []
    samples: dict[str, list[str]] = {name: [] for name in HELP}
    for entry in sites:
        summary, site = entry["summary"], entry["site"]
        if summary is None:
            continue
        for kind in ("raw", "waived"):
            value = summary["score"][kind]
            samples["awxh_site_score"].append(_line("awxh_site_score", {"site": site, "kind": kind},
                                                    "NaN" if value is None else value))
        for sev in ("critical", "high", "medium", "low", "info"):
            samples["awxh_site_failing_checks"].append(_line(
                "awxh_site_failing_checks", {"site": site, "severity": sev},
                summary["counts"]["failing_by_severity"].get(sev, 0)))
        for row in summary["results"]:
            if row["status"] == "fail" and not row["waived"]:
                samples["awxh_check_failing"].append(_line("awxh_check_failing", {
                    "site": site, "check_id": row["check_id"], "target": row["target"] or "site"}, 1))
        if entry.get("finished_ts") is not None:
            samples["awxh_audit_last_finished_timestamp_seconds"].append(_line(
                "awxh_audit_last_finished_timestamp_seconds", {"site": site}, entry["finished_ts"]))
    for name, (kind, text) in HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", *samples[name]]
    return "\n".join(lines) + "\n"
