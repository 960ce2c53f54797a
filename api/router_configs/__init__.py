"""Offline analysis of a router configuration or a set of command outputs."""
from api.router_configs.routes import blp  # noqa: F401
