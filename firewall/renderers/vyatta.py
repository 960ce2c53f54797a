"""EdgeOS / VyOS removals: delete the rule's whole config node, then commit and save."""
from __future__ import annotations

import re

from firewall.model import PortForward

_NODE = re.compile(r"^set ((?:nat destination|service nat|port-forward) rule \d+)")


def render_removal(forwards: list[PortForward]) -> list[str]:
    from firewall.renderers import Unrenderable
    nodes = []
    for fwd in forwards:
        found = _NODE.match(fwd.source_ref.text.strip().splitlines()[0] if fwd.source_ref.text else "")
        if not found:
            raise Unrenderable(f"no config node for forward {fwd.source_ref.rule_id!r}")
        if found.group(1) not in nodes:
            nodes.append(found.group(1))
    return ["configure", *[f"delete {node}" for node in nodes], "commit", "save", "exit"]
