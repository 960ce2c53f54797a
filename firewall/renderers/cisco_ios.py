"""Cisco IOS removals: the `no` form of the exact running-config NAT line."""
from __future__ import annotations

from firewall.model import PortForward


def render_removal(forwards: list[PortForward]) -> list[str]:
    from firewall.renderers import Unrenderable
    lines = ["configure terminal"]
    for fwd in forwards:
        text = fwd.source_ref.text.strip()
        if not text.startswith("ip nat inside source static"):
            raise Unrenderable(f"IOS forward without its running-config line: {text!r} (read show running-config)")
        lines.append(f"no {text}")
    return lines + ["end", "write memory"]
