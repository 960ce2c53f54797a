"""Waivers: accepted risks with a justification, an approver and an expiry."""
from api.waivers.routes import blp  # noqa: F401
