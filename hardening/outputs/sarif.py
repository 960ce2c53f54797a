"""SARIF 2.1.0: rules from the catalog, results with levels, waived results as suppressions."""
from __future__ import annotations

import json
from typing import Any

from hardening.model.catalog import catalog

SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def _rules() -> list[dict[str, Any]]:
    return [{"id": cid, "name": cid.replace("-", ""), "shortDescription": {"text": meta["title"]},
             "help": {"text": meta["hint"]},
             "properties": {"security-severity": SECURITY_SEVERITY[meta["severity"]], "severity": meta["severity"]}}
            for cid, meta in catalog().items()]


def _result(row: dict[str, Any]) -> dict[str, Any]:
    out = {"ruleId": row["check_id"], "level": LEVEL[row["severity"]] if row["status"] == "fail" else "none",
           "kind": {"fail": "fail", "pass": "pass", "error": "review"}.get(row["status"], "notApplicable"),
           "message": {"text": row["message"]},
           "locations": [{"logicalLocations": [{"name": row["target"] or "site", "kind": "device"}]}],
           "properties": {"status": row["status"], "provenance": row["provenance"]}}
    if row.get("waiver") and row["waived"]:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": row["waiver"]["justification"]}]
    return out


def render(summary: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "allworx-hardening-appliance", "rules": _rules()}},
                      "automationDetails": {"id": f"audit/{summary['audit_id']}"},
                      "results": [_result(r) for r in summary["results"] if r["status"] in ("fail", "error")
                                  or r["waived"]]}]}


def render_json(summary: dict[str, Any]) -> str:
    return json.dumps(render(summary), indent=2)
