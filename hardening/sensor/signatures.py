"""SIP scanner signatures (data: hardening/data/sip_scanners.yaml) and matching a recorded request against them."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

SIGNATURES_FILE = Path(__file__).resolve().parents[1] / "data" / "sip_scanners.yaml"
HEADERS = ("user_agent", "from", "to")


@dataclass(frozen=True)
class Signature:
    name: str
    header: str          # a key of the sensor's event record: user_agent | from | to
    contains: str        # lower-case substring


def _signature(index: int, entry: Any) -> Signature:
    if not isinstance(entry, dict):
        raise ValueError(f"{SIGNATURES_FILE.name}: signature #{index} is not a mapping")
    name, header, contains = entry.get("name"), entry.get("header", "user_agent"), entry.get("contains")
    if header not in HEADERS:
        raise ValueError(f"{SIGNATURES_FILE.name}: signature #{index} header {header!r} is not one of {HEADERS}")
    if not isinstance(contains, str) or not contains.strip() or not isinstance(name, str) or not name:
        raise ValueError(f"{SIGNATURES_FILE.name}: signature #{index} needs a name and a non-empty 'contains'")
    return Signature(name, header, contains.strip().lower())


@functools.cache
def load_signatures(path: Path = SIGNATURES_FILE) -> tuple[Signature, ...]:
    """Every signature in the file; ValueError naming the entry that is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("signatures") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: expected a 'signatures' list")
    return tuple(_signature(i, entry) for i, entry in enumerate(entries, 1))


def match(event: Mapping[str, Any], signatures: tuple[Signature, ...] | None = None) -> str | None:
    """The name of the first signature the event's headers match, else None."""
    for sig in load_signatures() if signatures is None else signatures:
        value = event.get(sig.header)
        if isinstance(value, str) and sig.contains in value.lower():
            return sig.name
    return None
