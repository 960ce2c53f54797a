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


# --- time zones and daylight saving time (cronsim behind hardening.jobs.cron) -----------------------

NY = "America/New_York"


def _runs(expr, after, tz, n):
    out = []
    for _ in range(n):
        after = next_run(expr, after, tz)
        out.append(after)
    return out


def test_a_zone_reads_the_cron_on_local_clocks():
    assert next_run("0 3 * * *", T0, "Asia/Kolkata") == datetime(2026, 11, 27, 21, 30)     # 03:00 IST = 21:30Z
    assert next_run("0 3 * * *", T0, NY) == datetime(2026, 11, 27, 8, 0)                  # 03:00 EST = 08:00Z
    assert next_run("0 3 * * *", datetime(2026, 7, 1), NY) == datetime(2026, 7, 1, 7, 0)  # 03:00 EDT = 07:00Z


def test_spring_forward_a_skipped_time_runs_right_after_the_change_once():
    # 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day
    runs = _runs("30 2 * * *", datetime(2026, 3, 7, 12, 0), NY, 3)
    assert runs == [datetime(2026, 3, 8, 7, 0),      # 03:00 EDT, right after the change
                    datetime(2026, 3, 9, 6, 30),     # then 02:30 EDT again
                    datetime(2026, 3, 10, 6, 30)]
    # an hourly job does not run twice around the gap either: 01:00 EST, then 03:00 EDT
    assert _runs("0 * * * *", datetime(2026, 3, 8, 5, 30), NY, 2) == [datetime(2026, 3, 8, 6, 0),
                                                                      datetime(2026, 3, 8, 7, 0)]


def test_fall_back_a_repeated_time_runs_once_and_wildcards_run_through_both_passes():
    # 2026-11-01 in New York: 02:00 EDT falls back to 01:00 EST, so 01:00-01:59 happens twice
    assert _runs("30 2 * * *", datetime(2026, 10, 31, 12, 0), NY, 2) == [datetime(2026, 11, 1, 7, 30),  # 02:30 EST
                                                                         datetime(2026, 11, 2, 7, 30)]
    # 01:30 runs on the first pass (EDT) only, not again an hour later (EST)
    assert _runs("30 1 * * *", datetime(2026, 10, 31, 12, 0), NY, 2) == [datetime(2026, 11, 1, 5, 30),
                                                                         datetime(2026, 11, 2, 6, 30)]
    # asked during the second pass (01:10 EST), the slot that ran on the first pass is not offered again
    assert next_run("30 1 * * *", datetime(2026, 11, 1, 6, 10), NY) == datetime(2026, 11, 2, 6, 30)
    # '*' in the hour keeps the real rhythm: every half hour of real time through the repeated hour
    assert _runs("*/30 * * * *", datetime(2026, 11, 1, 4, 50), NY, 5) == [
        datetime(2026, 11, 1, 5, 0), datetime(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 6, 0),
        datetime(2026, 11, 1, 6, 30), datetime(2026, 11, 1, 7, 0)]


def test_every_answer_is_strictly_later_and_seconds_count_as_gone():
    assert next_run("* * * * *", datetime(2026, 11, 27, 0, 7, 30)) == datetime(2026, 11, 27, 0, 8)
    assert next_run("7 0 * * *", datetime(2026, 11, 27, 0, 7)) == datetime(2026, 11, 28, 0, 7)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "localtime", "", "../../etc/passwd", "america/new_york"])
def test_unknown_zones_raise(zone):
    from hardening.jobs import cron
    with pytest.raises(CronError, match="time zone"):
        cron.zone(zone)
    with pytest.raises(CronError):
        next_run("0 3 * * *", T0, zone)


def test_errors_name_the_field_and_local_time_shows_the_offset():
    from hardening.jobs import cron
    with pytest.raises(CronError, match="^minute: '60'"):
        cron.validate("60 * * * *")
    with pytest.raises(CronError, match="^day-of-month: '30'.*February"):
        cron.validate("0 0 30 2 *")
    with pytest.raises(CronError, match="5 fields"):
        cron.validate("0 3 * * * *")               # cronsim would read a sixth field as seconds
    assert cron.local_time(datetime(2026, 3, 8, 7, 0), NY).isoformat() == "2026-03-08T03:00:00-04:00"
    assert cron.local_time(None, NY) is None
