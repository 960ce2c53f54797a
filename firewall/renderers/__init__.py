"""Renderers: turn "remove these forwards" into the exact commands of one platform.

Each renderer takes the parsed forwards (with their SourceRef) and returns commands; a forward it
cannot remove exactly (no handle, no original line) raises Unrenderable instead of guessing
(Capirca's rule: refuse what the target cannot express).
"""
from __future__ import annotations

import importlib

from firewall.model import PortForward

RENDERERS = {"linux": "firewall.renderers.nftables", "cisco_ios": "firewall.renderers.cisco_ios",
             "mikrotik_routeros": "firewall.renderers.mikrotik", "vyos": "firewall.renderers.vyatta",
             "ubiquiti_edgerouter": "firewall.renderers.vyatta"}
LIVE_APPLY = ("linux",)          # platforms the engine applies itself; the others get rendered plans


class Unrenderable(ValueError):
    pass


def render_removal(platform: str, forwards: list[PortForward]) -> list[str]:
    try:
        module = importlib.import_module(RENDERERS[platform])
    except KeyError:
        raise Unrenderable(f"no renderer for {platform}; supported: {', '.join(sorted(RENDERERS))}") from None
    return module.render_removal(forwards)
