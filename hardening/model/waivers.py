"""Apply waivers to result rows at read time; the real status always stays visible.

A waiver matches a row on check id and scope (the whole site, or one device). An expired waiver
does not apply: the row keeps `waived: False` and carries the waiver marked `expired` (so a report
can say "your waiver ran out"), the opposite of showing expired waivers as waived. `now` is
always passed in, so a clock jump is the caller's single source of truth.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def _parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def matches(waiver: dict[str, Any], row: dict[str, Any]) -> bool:
    if waiver["check_id"] != row["check_id"]:
        return False
    return waiver["scope"] == "site" or waiver.get("device_id") == row.get("device_id")


def apply_waivers(rows: list[dict[str, Any]], waivers: list[dict[str, Any]], now: datetime) -> list[dict]:
    now = _aware(now)
    out = []
    for row in rows:
        row = {**row, "waived": False, "waiver": None}
        candidates = [w for w in waivers if matches(w, row)]
        active = [w for w in candidates if (_parse(w.get("expires_at")) or datetime.max.replace(
            tzinfo=timezone.utc)) > now]
        if active:
            row["waiver"], row["waived"] = {**_public(active[0]), "expired": False}, True
        elif candidates:
            row["waiver"] = {**_public(candidates[0]), "expired": True}
        out.append(row)
    return out


def _public(waiver: dict[str, Any]) -> dict[str, Any]:
    return {k: waiver.get(k) for k in ("id", "justification", "approver", "risk", "expires_at", "scope")}
