"""nftables (and iptables-nft) removals: delete by handle, or by the exact iptables rule spec."""
from __future__ import annotations

import re

from firewall.model import PortForward
from firewall.nft_rules import RulesetError, safe_names

_HANDLE = re.compile(r"^(ip|ip6|inet) (\S+) (\S+) handle (\d+)$")
_IPT = re.compile(r"^nat (\S+) \d+$")


def render_removal(forwards: list[PortForward]) -> list[str]:
    """nft script lines (loaded with one `nft -f`, so all deletes happen in one transaction)."""
    from firewall.renderers import Unrenderable
    lines = []
    for fwd in forwards:
        ref = fwd.source_ref
        found = _HANDLE.match(ref.rule_id or "")
        if found:
            family, table, chain, handle = found.groups()
            try:
                safe_names(table, chain)            # the one rule for names near nft (firewall.nft_rules.NAME)
            except RulesetError as exc:
                raise Unrenderable(f"forward {ref.rule_id!r}: {exc}") from None
            lines.append(f"delete rule {family} {table} {chain} handle {handle}")
        elif _IPT.match(ref.rule_id or "") and ref.text.startswith("-A "):
            # legacy iptables rules live outside nft's transaction: refuse rather than split one change in two
            raise Unrenderable(f"iptables rule {ref.text!r}: remove it with `iptables -t nat -D {ref.text[3:]}` "
                               "(not applied by the appliance: it cannot be made atomic with the nft changes)")
        else:
            raise Unrenderable(f"forward {ref.rule_id or ref.text!r} has no nft handle or iptables spec")
    return lines
