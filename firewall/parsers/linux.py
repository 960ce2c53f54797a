"""Linux router (netmiko `linux`): nftables, iptables, iproute2 and miniupnpd outputs -> RouterConfig.

Each output is routed to its reader by the command that produced it, or (for a pasted text
under the key "") by its shape: `nft -j` JSON, `nft list ruleset` text, `iptables-save`/`-S`,
the `iptables -L` list view, `ip -j` JSON, `ip addr`/`ip -d link` text, `pgrep -a miniupnpd`.
An output that is only a shell error ("command not found", "Permission denied") becomes a
ParseWarning; text that fits none of the readers raises ParseError.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping

from firewall.model import FeatureState, ParseError, RouterConfig, SourceRef
from firewall.parsers import iplink, iptables, nft_json, nftables
from firewall.parsers._fields import read_outputs, warn

COMMANDS = [
    "nft -j list ruleset",
    "iptables-save",
    "ip -j -d addr show",
    "pgrep -a miniupnpd",
]

_READERS: dict[str, Callable[[str, str], RouterConfig]] = {
    "nft_json": nft_json.parse_json,
    "nft_text": nftables.parse_text,
    "iptables_save": iptables.parse_save,
    "iptables_list": iptables.parse_list,
    "ip_json": iplink.parse_json,
    "ip_text": iplink.parse_text,
}


def kind_of(command: str, text: str) -> str:
    """Which reader handles this output: by command first, then by the text's shape."""
    cmd = " ".join(command.split())
    if cmd.startswith("nft"):
        return "nft_json" if " -j" in f" {cmd}" or "--json" in cmd else "nft_text"
    if cmd.startswith(("iptables-save", "iptables-legacy-save", "iptables-nft-save", "ip6tables-save",
                       "ip6tables-legacy-save", "ip6tables-nft-save")) or re.match(r"ip6?tables\S* .*-S\b", cmd):
        return "iptables_save"
    if cmd.startswith(("iptables", "ip6tables")):
        return "iptables_list"
    if cmd.startswith("ip "):
        return "ip_json" if re.search(r"\s-j(son)?\b", cmd) else "ip_text"
    if cmd.startswith(("pgrep", "pidof", "ps")):
        return "miniupnpd"
    return _shape(text)


def _shape(text: str) -> str:
    head = text.lstrip()[:4000]
    if re.match(r'\{\s*"nftables"', head):
        return "nft_json"
    if re.match(r'\[\s*\{\s*"ifindex"', head):
        return "ip_json"
    if re.search(r"^\s*table\s+(ip|ip6|inet|arp|bridge|netdev)\s+\S+", head, re.MULTILINE):
        return "nft_text"
    if re.search(r"^(\*nat|\*raw|\*filter|-P PREROUTING|-A PREROUTING|:PREROUTING)", head, re.MULTILINE):
        return "iptables_save"
    if re.search(r"^Chain \S+ \((policy|\d+ references)", head, re.MULTILINE):
        return "iptables_list"
    if re.search(r"^\d+:\s+\S+:\s+<", head, re.MULTILINE):
        return "ip_text"
    if re.search(r"^\d+\s+\S*miniupnpd", head, re.MULTILINE):
        return "miniupnpd"
    return ""


def _miniupnpd(text: str, command: str) -> RouterConfig:
    cfg = RouterConfig(platform="linux", commands=[command])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    running = [line for line in lines if "miniupnpd" in line and "grep" not in line]
    ref = SourceRef(command, 1 if running else None, None, "miniupnpd", "\n".join(running))
    cfg.upnp = FeatureState(bool(running), "miniupnpd is running" if running else "miniupnpd is not running", ref)
    return cfg


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    """Parse a map of command -> output (or {"": text}) from a Linux router."""
    cfg = read_outputs("linux", outputs, _parse_one)
    if "iptables_save" in {kind_of(c, t or "") for c, t in outputs.items()}:
        # iptables-nft tables seen through nft (xt expressions) are read from iptables-save instead
        cfg.warnings = [w for w in cfg.warnings
                        if "only readable with iptables-save" not in w.message and '"xt":{' not in w.text]
    return cfg


def _parse_one(command: str, text: str) -> RouterConfig:
    kind = kind_of(command, text)
    if kind == "miniupnpd":
        return _miniupnpd(text, command or "pgrep -a miniupnpd")
    if not kind:
        raise ParseError(f"{command or 'input'}: not recognised as nft, iptables, ip or pgrep output")
    if not text.strip():
        part = RouterConfig(platform="linux", commands=[command])
        warn(part, command, None, "", "empty output: no ruleset (or not run as root)")
        return part
    return _READERS[kind](text, command or kind.replace("_", " "))


def sniff(text: str) -> float:
    """Confidence that `text` is output of a Linux router command this module reads."""
    kind = _shape(text)
    if kind == "nft_text" and "!fw4:" in text:
        return 0.7                       # OpenWrt's fw4 ruleset: the openwrt parser claims it higher
    return {"nft_json": 0.95, "nft_text": 0.85, "iptables_save": 0.9, "iptables_list": 0.85,
            "ip_json": 0.8, "ip_text": 0.75, "miniupnpd": 0.5}.get(kind, 0.0)
