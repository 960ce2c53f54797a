"""Webhooks: signed notifications of new failures, resolved failures and audit errors."""
from api.webhooks.routes import blp  # noqa: F401
