"""Cron parsing and next-run computation (UTC)."""
from datetime import datetime

import pytest

from hardening.jobs.cron import CronError, next_run

T0 = datetime(2026, 11, 27, 0, 7)


@pytest.mark.parametrize("expr, expected", [
    ("*/15 * * * *", datetime(2026, 11, 27, 0, 15)),
    ("0 3 * * *", datetime(2026, 11, 27, 3, 0)),
    ("0 3 * * 1", datetime(2026, 11, 30, 3, 0)),            # next Monday
    ("0 0 29 2 *", datetime(2028, 2, 29, 0, 0)),            # leap day
    ("30 2 1 * 0", datetime(2026, 11, 29, 2, 30)),          # day OR weekday (Vixie): Sunday the 29th
    ("7 0 27 11 *", datetime(2027, 11, 27, 0, 7)),          # strictly after
    ("0 12 * * 7", datetime(2026, 11, 29, 12, 0)),          # 7 = Sunday
    ("5,10-12/2 * * * *", datetime(2026, 11, 27, 0, 10)),
])
def test_next_run(expr, expected):
    assert next_run(expr, T0) == expected


@pytest.mark.parametrize("expr", ["* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a b c d e",
                                  "0 0 31 2 *", "5-1 * * * *"])
def test_bad_expressions_raise(expr):
    with pytest.raises(CronError):
        next_run(expr, T0)
