"""The REST API: resource blueprints, listed explicitly (no auto-discovery)."""
from __future__ import annotations

from api import auditlog, devices, health, router_configs, sites, tokens

MODULES = (health, tokens, sites, devices, router_configs, auditlog)


def register_blueprints(api) -> None:
    for module in MODULES:
        api.register_blueprint(module.blp)
