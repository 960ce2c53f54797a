"""API tokens: create, list, revoke (admin)."""
from api.tokens.routes import blp  # noqa: F401
