"""What an audit reads of the sensor's records: a bounded read, and the audit context's callable."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Callable

from hardening.sensor.store import read_events as _read_all
from hardening.sensor.store import sensor_dir

DEFAULT_LIMIT = 10_000       # newest records handed to one audit (the log itself is size-capped)


def read_events(data_dir: str | os.PathLike, since: datetime | str | None = None,
                limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]] | None:
    """The newest `limit` sensor records at or after `since`, oldest first (newest last).

    Reads events.jsonl and its rotated files, skipping corrupt lines. None when the sensor never
    ran in `data_dir` (NET-SCAN-001 is then not_applicable). A bad `since` or `limit` is a
    ValueError; an unreadable log is an OSError naming the folder (the audit fails visibly)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit={limit!r}: expected a whole number of at least 1")
    try:
        events = _read_all(data_dir, since)
    except OSError as exc:
        raise OSError(f"SIP sensor records in {sensor_dir(data_dir)} are unreadable: {exc}") from exc
    return None if events is None else events[-limit:]


def audit_source(data_dir: str | os.PathLike, limit: int = DEFAULT_LIMIT) -> Callable[[Any], list | None]:
    """AuditContext.sensor_events: site -> the sensor's records (one sensor per appliance, so any site)."""
    return lambda _site: read_events(data_dir, limit=limit)

