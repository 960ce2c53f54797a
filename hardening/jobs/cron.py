"""Cron expressions and time zones, in one place: every caller (the schedules API, the tick) asks here.

The arithmetic is cronsim's (the cron evaluator Healthchecks.io runs; no dependencies, zoneinfo
native, it matches Debian's Vixie cron): five fields, minute hour day-of-month month day-of-week,
numbers, '*', ranges, steps and lists; day-of-week 0-6 (0 = Sunday, 7 also Sunday); when both day
fields are restricted a day matches if either does. An expression is read in an IANA time zone
(the site's), and times go in and out naive UTC, as the database keeps them.

Daylight saving time, as Debian cron does it:
- spring forward (02:00 -> 03:00 in America/New_York): a time in the skipped hour runs at the first
  minute after the change (02:30 runs at 03:00 local that day), once;
- fall back (01:00-01:59 happens twice): a fixed time in the repeated hour runs once, on its first
  pass (01:30 EDT, not again at 01:30 EST); an expression with '*' in the hour field keeps running
  through both passes (every real half hour for '*/30 * * * *').
"""
from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime, timezone, tzinfo

from cronsim import CronSim, CronSimError

UTC = "UTC"
FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_RANGES = {"minute": "0-59", "hour": "0-23", "day-of-month": "1-31", "month": "1-12", "day-of-week": "0-7"}


class CronError(ValueError):
    """A cron expression that cannot run (bad field, never matches) or an unknown time zone."""


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The IANA zone names a site may have: those of the pinned tzdata package (requirements.txt), so
    that what is accepted, and the API documents, does not depend on the machine's own zone files."""
    try:
        from importlib import resources
        names = set(resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())
    except (ImportError, OSError):
        names = set(zoneinfo.available_timezones())
    # "localtime" is the appliance's own zone, not a place: a site names where it is
    return tuple(sorted(names - {"localtime"}))


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(zone_names())


def zone(name: str) -> tzinfo:
    """The IANA zone `name` (e.g. "Europe/Berlin", "UTC"); CronError naming the zone when unknown."""
    if not isinstance(name, str) or name not in _known():
        raise CronError(f"unknown time zone {name!r}: use an IANA name such as 'America/New_York' or 'UTC'")
    return timezone.utc if name == UTC else zoneinfo.ZoneInfo(name)


def _message(expr: str, exc: CronSimError) -> str:
    text = str(exc)
    for name in FIELDS:
        if text.lower() == f"bad {name}":
            days = " (on a day the months given have: never 30 or 31 in February)" if name == "day-of-month" else ""
            return (f"{name}: {expr.split()[FIELDS.index(name)]!r} is not valid: use numbers in {_RANGES[name]}"
                    f"{days}, '*', a range a-b, a step */n or a-b/n, or a comma list of those")
    if "number of fields" in text.lower():
        return "a cron expression has 5 fields: minute hour day-of-month month day-of-week"
    return f"{expr!r}: {text}"


def _start(expr: str, local: datetime) -> CronSim:
    try:
        return CronSim(expr, local)
    except CronSimError as exc:
        raise CronError(_message(expr, exc)) from None
    except (ValueError, TypeError, LookupError) as exc:    # e.g. '²' is a digit to str.isdigit, not to int()
        raise CronError(f"{expr!r} is not a cron expression ({exc})") from None


def parse(expr: str) -> list[str]:
    """The expression's five fields, once validate() accepts it."""
    validate(expr)
    return expr.split()


def validate(expr: str) -> None:
    """Raise CronError with a clear message unless `expr` is a five-field expression that ever matches."""
    if not isinstance(expr, str) or len(expr.split()) != 5:
        raise CronError("a cron expression has 5 fields: minute hour day-of-month month day-of-week")
    next_run(expr, datetime(2024, 1, 1))


def next_run(expr: str, after: datetime, tz: str = UTC) -> datetime:
    """The first time strictly after `after` that `expr` matches on the clocks of zone `tz`
    (naive UTC in, naive UTC out; a second or more past a minute counts as that minute gone)."""
    if len(expr.split()) != 5:          # cronsim also takes a sixth (seconds) field; the API's cron has 5
        raise CronError("a cron expression has 5 fields: minute hour day-of-month month day-of-week")
    after_utc = (after if after.tzinfo else after.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    it = _start(expr, after_utc.astimezone(zone(tz)))
    try:
        while True:
            found = next(it).astimezone(timezone.utc)
            # in the repeated hour of a fall-back, a start on the second pass can be answered with
            # the first pass's time: that slot has gone by (and so ran) already
            if found > after_utc:
                return found.replace(tzinfo=None)
    except StopIteration:
        raise CronError(f"{expr!r} never matches") from None
    except (OverflowError, ValueError) as exc:         # a search that runs off the calendar's end
        raise CronError(f"{expr!r} has no run after {after.isoformat()} ({exc})") from None


def local_time(utc: datetime | None, tz: str = UTC) -> datetime | None:
    """A naive UTC time on the clocks of zone `tz` (aware, with its offset); None stays None."""
    if utc is None:
        return None
    return (utc if utc.tzinfo else utc.replace(tzinfo=timezone.utc)).astimezone(zone(tz))


__all__ = ["CronError", "UTC", "local_time", "next_run", "parse", "validate", "zone", "zone_names"]
