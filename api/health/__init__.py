"""Liveness and database reachability (no auth)."""
from api.health.routes import blp  # noqa: F401
