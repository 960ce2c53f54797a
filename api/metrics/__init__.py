"""Prometheus exposition of per-site scores and failing checks."""
from api.metrics.routes import blp  # noqa: F401
