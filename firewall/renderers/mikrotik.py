"""MikroTik RouterOS removals: `remove` of the rule found by every attribute of its export line."""
from __future__ import annotations

import shlex

from firewall.model import PortForward

KEYS = ("chain", "action", "protocol", "dst-port", "dst-address", "in-interface", "src-address", "to-addresses",
        "to-ports", "comment")


def _attributes(text: str) -> dict[str, str]:
    words = shlex.split(text.replace("\\\n", " "))
    return dict(w.split("=", 1) for w in words if "=" in w)


def render_removal(forwards: list[PortForward]) -> list[str]:
    from firewall.renderers import Unrenderable
    lines = []
    for fwd in forwards:
        attrs = _attributes(fwd.source_ref.text)
        if attrs.get("action") != "dst-nat":
            raise Unrenderable(f"not a dst-nat export line: {fwd.source_ref.text!r}")
        where = " ".join(f'{k}="{attrs[k]}"' for k in KEYS if k in attrs)
        lines.append(f"/ip firewall nat remove [find where {where}]")
    return lines
