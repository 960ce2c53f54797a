"""Schedules: periodic re-audits of a site (cron on the site's clocks), editable, pausable."""
from api.schedules.routes import blp  # noqa: F401
