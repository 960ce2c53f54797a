"""Where the sensor keeps its records: JSON lines under <DATA_DIR>/sensor/, size-capped and rate-limited.

A flood cannot fill the disk: each source (and all sources together) has a token bucket, and the
log rotates at a fixed size keeping a fixed number of old files.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

SENSOR_DIR = "sensor"
EVENTS_FILE = "events.jsonl"


def sensor_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / SENSOR_DIR


class RateLimiter:
    """Token buckets per key: `burst` at once, refilled at `rate` per second; counts what it refused."""

    def __init__(self, rate: float, burst: int, max_keys: int = 4096):
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate must be > 0, burst and max_keys >= 1")
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()   # key -> [tokens, last time, refused]

    def allow(self, key: str, now: float) -> bool:
        bucket = self._buckets.pop(key, None) or [float(self.burst), now, 0.0]
        bucket[0] = min(float(self.burst), bucket[0] + max(0.0, now - bucket[1]) * self.rate)
        bucket[1] = now
        allowed = bucket[0] >= 1.0
        if allowed:
            bucket[0] -= 1.0
        else:
            bucket[2] += 1
        self._buckets[key] = bucket                  # most recently seen last
        while len(self._buckets) > self.max_keys:    # forget the longest-quiet key (spoofed floods)
            self._buckets.popitem(last=False)
        return allowed

    def take_refused(self, key: str) -> int:
        """How many were refused for `key` since the last call (reported on its next record)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0
        refused, bucket[2] = int(bucket[2]), 0.0
        return refused


class EventLog:
    """Append-only JSON lines with rotation: events.jsonl, events.jsonl.1 (older) ... .<keep>."""

    def __init__(self, data_dir: str | os.PathLike, max_bytes: int = 5 * 1024 * 1024, keep: int = 3):
        if max_bytes < 1024 or keep < 0:
            raise ValueError("max_bytes must be >= 1024 and keep >= 0")
        self.dir = sensor_dir(data_dir)
        self.path = self.dir / EVENTS_FILE
        self.max_bytes, self.keep = max_bytes, keep
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)              # the file's existence says "the sensor ran"

    def _rotate(self) -> None:
        if self.keep == 0:
            self.path.unlink(missing_ok=True)
            return
        for n in range(self.keep - 1, 0, -1):
            older = self.dir / f"{EVENTS_FILE}.{n}"
            if older.exists():
                os.replace(older, self.dir / f"{EVENTS_FILE}.{n + 1}")
        os.replace(self.path, self.dir / f"{EVENTS_FILE}.1")

    def _write(self, lines: list[str]) -> None:
        if lines:
            with open(self.path, "ab") as fh:
                fh.write("".join(lines).encode("ascii"))
                fh.flush()
                os.fsync(fh.fileno())

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Write one batch, rotating before a line that would pass the cap; fsync per file written.
        Returns the bytes written (a single record bigger than the cap is dropped)."""
        lines = [json.dumps(e, ensure_ascii=True, separators=(",", ":")) + "\n" for e in events]
        lines = [line for line in lines if len(line) <= self.max_bytes]
        size = self.path.stat().st_size if self.path.exists() else 0
        chunk: list[str] = []
        for line in lines:
            if size and size + len(line) > self.max_bytes:
                self._write(chunk)
                self._rotate()
                size, chunk = 0, []
            chunk.append(line)
            size += len(line)
        self._write(chunk)
        return sum(map(len, lines))


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _files_oldest_first(folder: Path) -> list[Path]:
    rotated = []
    for path in folder.glob(f"{EVENTS_FILE}.*"):
        suffix = path.name.rsplit(".", 1)[-1]
        if suffix.isdigit():
            rotated.append((int(suffix), path))
    return [p for _, p in sorted(rotated, reverse=True)] + [folder / EVENTS_FILE]


def _records(path: Path) -> Iterable[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):    # a torn last line after a crash, or junk: skip it
                    continue
                if isinstance(record, dict):
                    yield record
    except FileNotFoundError:               # rotated away while we read
        return


def read_events(data_dir: str | os.PathLike, since: datetime | str | None = None) -> list[dict[str, Any]] | None:
    """Every recorded event, oldest first, at or after `since` (datetime or ISO text; naive = UTC).

    None when the sensor never ran in this data directory (NET-SCAN-001 is then not_applicable)."""
    folder = sensor_dir(data_dir)
    if not (folder / EVENTS_FILE).exists():
        return None
    cutoff = _as_time(since) if since is not None else None
    if since is not None and cutoff is None:
        raise ValueError(f"since={since!r} is not an ISO date/time")
    events = []
    for path in _files_oldest_first(folder):
        for record in _records(path):
            moment = _as_time(record.get("time"))
            if cutoff is None or (moment is not None and moment >= cutoff):
                events.append(record)
    return events
