"""JUnit XML: a testsuite per device (and one for the site), a testcase per result."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

# What XML 1.0 cannot carry at all, not even as a character reference: C0 controls but tab, LF and CR,
# lone surrogates, U+FFFE/U+FFFF. Device banners and configs bring them; ElementTree writes them as they
# are and the file is then not XML (CI servers reject the whole report).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """The text with each character XML cannot carry written as a visible escape (\\x1b, \\ud800)."""
    return NOT_XML.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _clean(element: ET.Element) -> None:
    for node in element.iter():
        node.attrib = {key: xml_safe(value) for key, value in node.attrib.items()}
        if node.text:
            node.text = xml_safe(node.text)
        if node.tail:
            node.tail = xml_safe(node.tail)


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
    _clean(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def _skipped(row: dict) -> bool:
    return row["waived"] or row["status"] in ("not_applicable", "manual")
