"""The check catalog (data) agrees with the published check table: ids, titles and severities."""
import re
from pathlib import Path

from hardening.model.catalog import catalog

# A copy of ../shared/docs/checks.md, so the project stands alone; refreshed by hand when it changes.
CHECKS_MD = Path(__file__).resolve().parents[1] / "fixtures" / "docs" / "checks.md"
ROW = re.compile(r"^\| ([A-Z]+-[A-Z]+-\d{3}) \| (.+?) \| (critical|high|medium|low|info) \|", re.M)


def test_catalog_matches_the_published_table():
    published = {m[0]: (m[1], m[2]) for m in ROW.findall(CHECKS_MD.read_text(encoding="utf-8"))}
    assert len(published) == 32
    ours = {cid: (entry["title"], entry["severity"]) for cid, entry in catalog().items()}
    assert ours == published


def test_every_entry_has_a_remediation_kind_and_hint():
    for cid, entry in catalog().items():
        assert entry["remediation"] in {"router", "device", "manual", "rotate", "report"}, cid
        assert len(entry["hint"]) > 20, cid
