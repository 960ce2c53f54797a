"""Schedules: periodic re-audits of a site (cron, UTC)."""
from api.schedules.routes import blp  # noqa: F401
