"""Helpers for the group-B parser tests: fixture paths and a compact view of a forward."""
from __future__ import annotations

from pathlib import Path

import yaml

from firewall.model import PortForward

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "router-samples"


FW3_SAVE = """# hand-written in the shape OpenWrt fw3 (19.07) produces, with a miniupnpd chain
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:prerouting_wan_rule - [0:0]
:zone_wan_prerouting - [0:0]
:MINIUPNPD - [0:0]
-A PREROUTING -i pppoe-wan -m comment --comment "!fw3" -j zone_wan_prerouting
-A zone_wan_prerouting -m comment --comment "!fw3: Custom wan prerouting rule chain" -j prerouting_wan_rule
-A zone_wan_prerouting -p udp -m udp --dport 5060 -m comment --comment "!fw3: SIP -> fb7490" -j DNAT --to-destination 10.1.0.223:5060
-A zone_wan_prerouting -p tcp -m tcp --dport 27166:27168 -m comment --comment "!fw3: game" -j DNAT --to-destination 10.1.0.5:8083-8085
-A zone_wan_prerouting -j MINIUPNPD
-A POSTROUTING -o pppoe-wan -j MASQUERADE
COMMIT
"""


def sample(platform: str, name: str) -> str:
    return (SAMPLES / platform / name).read_text()


def expected(platform: str, name: str) -> list[dict]:
    return yaml.safe_load((SAMPLES / platform / name).read_text())["parsed_sample"]


def ports(ranges) -> str | None:
    return None if ranges is None else ",".join(str(r) for r in ranges)


def view(f: PortForward) -> tuple:
    """(kind, proto, external_if, external_ip, ext ports, internal_ip, int ports, enabled, comment)."""
    return (f.kind, f.proto, f.external_if, f.external_ip, ports(f.external_ports), f.internal_ip,
            ports(f.internal_ports), f.enabled, f.comment)


def line_text(text: str, number: int) -> str:
    return text.split("\n")[number - 1]
