"""Audits: start, follow, read results in several formats, re-run; site status for RMM tools."""
from api.audits.routes import blp  # noqa: F401
