"""JUnit XML stays XML when a device banner carries terminal escapes, NULs or lone surrogates."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from hardening.outputs import junit

BANNER = "SSH-2.0-RouterOS\x1b[31m\x00 welcome\x07\x0c\ud800\ufffe"


def _summary(message: str, excerpt: str) -> dict:
    row = {"check_id": "NET-SSH-001", "title": "Router SSH banner", "target": "gw\x1b", "status": "fail",
           "waived": False, "severity": "high", "message": message, "waiver": None,
           "evidence": [{"detail": "banner", "excerpt": excerpt}]}
    return {"audit_id": 3, "results": [row, {**row, "status": "error"}]}


def test_characters_xml_cannot_carry_are_escaped_visibly():
    out = junit.render(_summary(f"banner {BANNER}", BANNER))
    root = ET.fromstring(out)                               # expat refuses raw control characters
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == "banner SSH-2.0-RouterOS\\x1b[31m\\x00 welcome\\x07\\x0c\\ud800\\ufffe"
    assert failure.text == "banner SSH-2.0-RouterOS\\x1b[31m\\x00 welcome\\x07\\x0c\\ud800\\ufffe"
    assert root.find("testsuite").get("name") == "gw\\x1b"
    assert root.find("testsuite/testcase/error") is not None


def test_tab_newline_and_ordinary_unicode_are_kept():
    out = junit.render(_summary("a\tb", "line 1\nline 2 \u00e9\u4e2d"))
    failure = ET.fromstring(out).find("testsuite/testcase/failure")
    assert failure.get("message") == "a\tb" and failure.text == "banner line 1\nline 2 \u00e9\u4e2d"
