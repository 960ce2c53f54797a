"""Webhooks: signed notifications of new failures, new errors, resolved failures and cleared errors, and
audit errors (hardening.jobs.webhook_events; README.md, "Webhooks")."""
from api.webhooks.routes import blp  # noqa: F401
