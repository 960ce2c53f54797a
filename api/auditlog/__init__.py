"""The audit log of mutating calls: who, what, when, outcome (admin-readable)."""
from api.auditlog.recording import record, record_mutations  # noqa: F401
from api.auditlog.routes import blp  # noqa: F401
