"""Check modules; importing this package registers every check."""
from hardening.checks import allworx_phones, allworx_px, allworx_server, allworx_wan, network, site  # noqa: F401
