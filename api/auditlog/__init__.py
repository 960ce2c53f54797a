"""The audit log of mutating calls: who, what, when, outcome (admin-readable)."""
from api.auditlog.routes import blp, record_mutations  # noqa: F401
