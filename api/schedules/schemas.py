"""Schedule schemas: the cron is read on the site's clocks (Site.timezone)."""
from __future__ import annotations

import re

import marshmallow as ma

from api.extensions import Schema
from api.fields import UTCDateTime
from hardening.jobs import cron
from hardening.model.profiles import profile_names

CRON_PATTERN = re.compile(r"^[0-9*,/-]+( +[0-9*,/-]+){4}$")


def _valid_cron(value: str) -> None:
    if not CRON_PATTERN.fullmatch(value):       # the documented pattern: no tabs, no final newline
        raise ma.ValidationError("Five fields separated by spaces: minute hour day month weekday.")
    try:
        cron.validate(value)
    except cron.CronError as exc:
        raise ma.ValidationError(str(exc)) from None


class ScheduleSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    site_id = ma.fields.Integer(dump_only=True)
    cron = ma.fields.String(required=True, validate=[ma.validate.Length(9, 100), _valid_cron],
                            metadata={"description": "minute hour day month weekday on the site's clocks (its "
                                                     "`timezone`), e.g. '0 3 * * *'. Daylight saving time as "
                                                     "Debian cron: a time the spring-forward skips runs right "
                                                     "after the change; a time the fall-back repeats runs once",
                                      "pattern": CRON_PATTERN.pattern})
    profile = ma.fields.String(load_default="baseline", validate=ma.validate.OneOf(profile_names()))
    enabled = ma.fields.Boolean(load_default=True,
                                metadata={"description": "false: paused (never runs; next_run_at is null). "
                                                         "Resuming waits for the next slot: missed runs are not made up"})
    timezone = ma.fields.String(dump_only=True, metadata={"description": "The site's IANA time zone the cron "
                                                                         "is read in"})
    next_run_at = UTCDateTime(dump_only=True, allow_none=True,
                              metadata={"description": "The next run (UTC); null while paused"})
    next_run_local = ma.fields.DateTime(dump_only=True, allow_none=True,
                                        metadata={"description": "The next run on the site's clocks, with its "
                                                                 "UTC offset; null while paused"})
    last_run_at = UTCDateTime(dump_only=True, allow_none=True)
    last_audit_id = ma.fields.Integer(dump_only=True, allow_none=True)
