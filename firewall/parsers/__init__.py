"""Parser registry: one module per platform, chosen by netmiko device_type name.

Each platform module exposes:
  COMMANDS: list[str]                      read-only commands to run live, in order
  parse(outputs: Mapping[str, str]) -> RouterConfig
      `outputs` maps a command (or "" for a pasted text of unknown origin) to its output;
      unknown lines become ParseWarnings with line numbers, garbled input raises ParseError.
  sniff(text: str) -> float                confidence 0..1 that `text` is this platform's output
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Mapping

from firewall.model import ParseError, RouterConfig

PARSER_MODULES = {
    "cisco_ios": "firewall.parsers.cisco_ios",
    "cisco_asa": "firewall.parsers.cisco_asa",
    "mikrotik_routeros": "firewall.parsers.mikrotik",
    "juniper_junos": "firewall.parsers.juniper",
    "fortinet": "firewall.parsers.fortinet",
    "linux": "firewall.parsers.linux",
    "openwrt": "firewall.parsers.openwrt",
    "ubiquiti_edgerouter": "firewall.parsers.edgeos",
    "vyos": "firewall.parsers.vyos",
    "pfsense": "firewall.parsers.pfsense",
}
PLATFORMS = sorted(PARSER_MODULES)


class UnsupportedPlatform(ValueError):
    def __init__(self, platform: str):
        super().__init__(f"unsupported platform {platform!r}; supported: {', '.join(PLATFORMS)}")


def get_parser(platform: str) -> ModuleType:
    try:
        return importlib.import_module(PARSER_MODULES[platform])
    except KeyError:
        raise UnsupportedPlatform(platform) from None


def detect_platform(text: str) -> tuple[str, float]:
    """Best guess of the platform that produced `text`, with its confidence (0..1)."""
    best, confidence = "", 0.0
    for platform in PLATFORMS:
        score = get_parser(platform).sniff(text)
        if score > confidence:
            best, confidence = platform, score
    if not best or confidence < 0.2:
        raise ParseError("could not recognise the platform of this output; name it with 'platform'")
    return best, round(confidence, 2)


def parse(platform: str, outputs: Mapping[str, str] | str) -> RouterConfig:
    """Parse one text or a map of command -> output for `platform`."""
    if isinstance(outputs, str):
        outputs = {"": outputs}
    return get_parser(platform).parse(outputs)
