"""Read the check catalog (data) once: ids, titles, severities, remediation hints."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "data"      # hardening/data: the policy as data files


@functools.cache
def catalog() -> dict[str, dict]:
    with open(DATA / "catalog.yaml", encoding="utf-8") as fh:
        entries = yaml.safe_load(fh)
    for check_id, entry in entries.items():
        entry["id"] = check_id
    return entries


def check_meta(check_id: str) -> dict:
    try:
        return catalog()[check_id]
    except KeyError:
        raise KeyError(f"unknown check id {check_id!r}") from None
