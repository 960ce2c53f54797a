"""Five-field cron expressions (minute hour day-of-month month day-of-week), in UTC.

Supports numbers, '*', ranges 'a-b', steps '*/n' and 'a-b/n', and comma lists; day-of-week 0-6
(0 = Sunday, 7 accepted as Sunday). Like Vixie cron, when both day fields are restricted a day
matches if either does.
"""
from __future__ import annotations

from datetime import datetime, timedelta

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
MAX_SEARCH = timedelta(days=366 * 5)


class CronError(ValueError):
    pass


def _field(text: str, name: str, lo: int, hi: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = lo, hi
            elif "-" in body:
                start, end = (int(x) for x in body.split("-", 1))
            else:
                start = end = int(body)
        except ValueError:
            raise CronError(f"{name}: {part!r} is not a number, range, '*' or step") from None
        if step < 1 or not (lo <= start <= end <= hi):
            raise CronError(f"{name}: {part!r} is outside {lo}-{hi} or has a bad step")
        values.update(range(start, end + 1, step))
    return values


def parse(expr: str) -> list[set[int]]:
    parts = expr.split()
    if len(parts) != 5:
        raise CronError("a cron expression has 5 fields: minute hour day-of-month month day-of-week")
    sets = [_field(p, name, lo, hi) for p, (name, lo, hi) in zip(parts, FIELDS)]
    if 7 in sets[4]:
        sets[4] = (sets[4] - {7}) | {0}
    return sets


def next_run(expr: str, after: datetime) -> datetime:
    """The first minute strictly after `after` that matches (naive UTC in, naive UTC out)."""
    minutes, hours, days, months, weekdays = parse(expr)
    day_any, weekday_any = len(days) == 31, len(weekdays) == 7
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = after + MAX_SEARCH
    while t <= limit:
        if t.month not in months:
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            continue
        day_ok = t.day in days
        weekday_ok = (t.isoweekday() % 7) in weekdays
        if not (day_ok and weekday_ok if (day_any or weekday_any) else day_ok or weekday_ok):
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
            continue
        if t.hour not in hours:
            t = t.replace(minute=0) + timedelta(hours=1)
            continue
        if t.minute not in minutes:
            t += timedelta(minutes=1)
            continue
        return t
    raise CronError(f"{expr!r} never matches")
