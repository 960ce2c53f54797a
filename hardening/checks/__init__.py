"""Check modules; importing this package registers every check."""
from hardening.checks import network  # noqa: F401
