"""The REST API: resource blueprints, listed explicitly (no auto-discovery)."""
from __future__ import annotations

from api import (
    auditlog,
    audits,
    devices,
    discovery,
    health,
    install_windows,
    metrics,
    port_forwards,
    remediations,
    router_configs,
    schedules,
    sites,
    tokens,
    waivers,
    webhooks,
)

MODULES = (health, tokens, sites, devices, audits, waivers, schedules, webhooks, discovery, install_windows,
           port_forwards, remediations, router_configs, metrics, auditlog)


def register_blueprints(api) -> None:
    for module in MODULES:
        api.register_blueprint(module.blp)
