"""Renderers: turn "remove / restrict these forwards" or "turn the SIP helper off" into the exact
commands of one platform.

Each renderer takes the parsed forwards (with their SourceRef) and returns commands; a forward it
cannot change exactly (no handle, no original line) raises Unrenderable instead of guessing
(Capirca's rule: refuse what the target cannot express). Every value that reaches a command, from
the device or from the API, is quoted for its platform by _quote or refused there, naming the field.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from firewall.model import PortForward, RouterConfig
from firewall.renderers._quote import Unrenderable

RENDERERS = {"linux": "firewall.renderers.nftables", "cisco_ios": "firewall.renderers.cisco_ios",
             "mikrotik_routeros": "firewall.renderers.mikrotik", "vyos": "firewall.renderers.vyatta",
             "ubiquiti_edgerouter": "firewall.renderers.vyatta"}
LIVE_APPLY = ("linux",)          # platforms the engine applies itself; the others get rendered plans


def _renderer(platform: str, function: str):
    try:
        module: ModuleType = importlib.import_module(RENDERERS[platform])
    except KeyError:
        raise Unrenderable(f"no renderer for {platform}; supported: {', '.join(sorted(RENDERERS))}") from None
    if not hasattr(module, function):
        raise Unrenderable(f"the {platform} renderer has no {function}")
    return getattr(module, function)


def render_removal(platform: str, forwards: list[PortForward]) -> list[str]:
    return _renderer(platform, "render_removal")(forwards)


def render_restrict(platform: str, restrictions: list[tuple[PortForward, list[str]]]) -> list[str]:
    """Limit each forward to the given source networks instead of removing it."""
    return _renderer(platform, "render_restrict")(restrictions)


def render_helper_removal(platform: str, config: RouterConfig) -> list[str]:
    """Turn the router's SIP ALG / helper off ([] when the configuration shows it off already)."""
    return _renderer(platform, "render_helper_removal")(config)


__all__ = ["RENDERERS", "LIVE_APPLY", "Unrenderable", "render_removal", "render_restrict", "render_helper_removal"]
