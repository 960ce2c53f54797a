"""Router remediation: plan, apply, confirm, roll back (remediate scope)."""
from api.remediations.routes import blp  # noqa: F401
