"""JUnit XML: a testsuite per device (and one for the site), a testcase per result."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def render(summary: dict[str, Any]) -> bytes:
    suites = ET.Element("testsuites", name=f"allworx-hardening audit {summary['audit_id']}")
    groups: dict[str, list[dict]] = {}
    for row in summary["results"]:
        groups.setdefault(row["target"] or "site", []).append(row)
    for target, rows in groups.items():
        suite = ET.SubElement(suites, "testsuite", name=target, tests=str(len(rows)),
                              failures=str(sum(r["status"] == "fail" and not r["waived"] for r in rows)),
                              errors=str(sum(r["status"] == "error" for r in rows)),
                              skipped=str(sum(_skipped(r) for r in rows)))
        for row in rows:
            case = ET.SubElement(suite, "testcase", classname=row["check_id"], name=f"{row['check_id']} {row['title']}")
            detail = "\n".join(f"{e['detail']} {e['excerpt']}".strip() for e in row["evidence"])
            if row["waived"]:
                ET.SubElement(case, "skipped", message=f"waived: {row['waiver']['justification']}")
            elif row["status"] == "fail":
                ET.SubElement(case, "failure", message=row["message"], type=row["severity"]).text = detail
            elif row["status"] == "error":
                ET.SubElement(case, "error", message=row["message"]).text = detail
            elif row["status"] in ("not_applicable", "manual"):
                ET.SubElement(case, "skipped", message=f"{row['status']}: {row['message']}")
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def _skipped(row: dict) -> bool:
    return row["waived"] or row["status"] in ("not_applicable", "manual")
