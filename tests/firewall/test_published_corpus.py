"""Published router configurations (tests/fixtures/router-corpus) against verdicts written from reading them.

Each <name>.txt has a <name>.source.md (where it was published, licence, secrets removed) and a
<name>.expected.yml: the site inputs chosen, the forward count and one status per router check, all written
before the analyzer ran. A still-open analyzer mistake is listed under `known_wrong:` (check ID or
"forwards" -> why, naming the parser or check at fault) and runs as a strict xfail, so CI shows it and
notices when it is fixed.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from firewall.parsers import parse
from hardening.engine.analyze import ROUTER_CHECKS, analyze

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "router-corpus"
# Directory names are the brief's platform names; the parser registry spells Junos "juniper_junos".
REGISTRY_NAME = {"juniper": "juniper_junos"}


def _samples() -> list[Path]:
    return sorted(CORPUS.glob("*/*.expected.yml"))


def _load(expected_path: Path) -> dict:
    return yaml.safe_load(expected_path.read_text())


def _cases():
    for path in _samples():
        expected = _load(path)
        known_wrong = expected.get("known_wrong") or {}
        sample = f"{path.parent.name}/{path.name.removesuffix('.expected.yml')}"
        for item in ("forwards", *ROUTER_CHECKS):
            marks = [pytest.mark.xfail(strict=True, reason=known_wrong[item])] if item in known_wrong else []
            yield pytest.param(path, item, marks=marks, id=f"{sample}:{item}")


_RESULTS: dict[Path, dict] = {}


def _analysis(path: Path) -> dict:
    if path not in _RESULTS:
        expected = _load(path)
        platform = REGISTRY_NAME.get(path.parent.name, path.parent.name)
        text = path.with_name(path.name.replace(".expected.yml", ".txt")).read_text()
        _RESULTS[path] = analyze(parse(platform, text), **expected["site"])
    return _RESULTS[path]


def test_corpus_is_complete():
    """Every sample has its text, its source note and a verdict for each router check; 2+ per platform."""
    samples = _samples()
    assert len(samples) >= 31
    per_platform: dict[str, int] = {}
    for path in samples:
        stem = path.name.removesuffix(".expected.yml")
        assert (path.parent / f"{stem}.txt").is_file() and (path.parent / f"{stem}.source.md").is_file()
        expected = _load(path)
        assert set(expected["verdicts"]) == set(ROUTER_CHECKS), stem
        assert "first_reading" in expected, stem
        assert set(expected.get("known_wrong") or {}) <= {"forwards", *ROUTER_CHECKS}, stem
        per_platform[path.parent.name] = per_platform.get(path.parent.name, 0) + 1
    assert all(count >= 2 for count in per_platform.values()), per_platform


@pytest.mark.parametrize("path,item", list(_cases()))
def test_published_config_verdict(path: Path, item: str):
    expected = _load(path)
    result = _analysis(path)
    if item == "forwards":
        assert len(result["forwards"]) == expected["forwards"]
        return
    got = {f["check_id"]: f for f in result["findings"]}[item]
    assert got["status"] == expected["verdicts"][item], got["message"]
