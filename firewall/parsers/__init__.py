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
import re
from types import ModuleType
from typing import Mapping

from firewall.collector import collector_paused
from firewall.model import ParseError, RouterConfig
from firewall.parsers._paste import clean_outputs, strip_escapes

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


class PlatformMismatch(ParseError):
    """The output is another platform's: names the one it looks like."""

    def __init__(self, platform: str, looks_like: str, confidence: float, why: str):
        super().__init__(f"this is not {platform} output: it looks like {looks_like} (confidence {confidence}, "
                         f"{why}); name the platform it came from")
        self.looks_like, self.confidence = looks_like, confidence


def _pasted(text: str) -> list[str]:
    """The texts a paste holds once its session, pager and escape remnants are gone (for sniffing)."""
    return [t for t in clean_outputs({"": text})[0].values() if isinstance(t, str) and t.strip()] or [text]


def detect_platform(text: str) -> tuple[str, float]:
    """Best guess of the platform that produced `text` (a paste is cleaned first), with its confidence."""
    texts = _pasted(text)
    scores = {p: max(get_parser(p).sniff(t) for t in texts) for p in PLATFORMS}
    best = max(PLATFORMS, key=lambda p: scores[p])
    if scores[best] < 0.2:
        guess = f"best guess {best} at {scores[best]:.2f}" if scores[best] else "no platform's markers found"
        raise ParseError(f"could not recognise the platform of this output ({guess}); name it with 'platform' "
                         f"(one of {', '.join(PLATFORMS)})")
    return best, round(scores[best], 2)


# Platforms whose parsers read the same outputs (an OpenWrt box answers like Linux, EdgeOS like VyOS):
# output that looks like a sibling is no sign of a wrong device_type.
SIBLINGS = ({"linux", "openwrt"}, {"vyos", "ubiquiti_edgerouter"})
# A POSIX shell refusing a vendor command ("-bash: show: command not found", "-ash: show: not found")
_SHELL_REFUSAL = re.compile(r"^-?(?:ba|da|a|z|k)?sh: (?:line \d+: )?\S+: (?:command )?not found\s*$", re.M)
SHELL_CONFIDENCE = 0.5


def _siblings(platform: str) -> set[str]:
    return next((group for group in SIBLINGS if platform in group), {platform})


def platform_mismatch(configured: str, outputs: Mapping[str, str] | str) -> tuple[str, float, str] | None:
    """(platform, confidence, why) when live output does not look like `configured` (nor a sibling) at
    all but does look like another platform; None when it fits or nothing is recognised.

    Each command's output is sniffed alone (joined outputs blur every sniffer), the best score per platform
    kept. Another platform must score 0.5 or more and beat the configured one (and its siblings) by 0.5
    or more, which leaves the configured one under 0.5 (a sniffer's weak markers alone, 0.1 each, never
    make it fit). A POSIX shell refusing the configured platform's commands, where the configured one
    scores under 0.2 (the floor detect_platform uses), counts as linux (confidence 0.5): the
    device_type names a CLI, a shell answered."""
    texts = [strip_escapes(t) for t in ([outputs] if isinstance(outputs, str) else outputs.values())]
    texts = [t for t in texts if t.strip()]
    if not texts or configured not in PARSER_MODULES:
        return None
    scores = {p: max(get_parser(p).sniff(t) for t in texts) for p in PLATFORMS}
    own = max(scores[p] for p in _siblings(configured))
    others = [(score, p) for p, score in scores.items() if p not in _siblings(configured) and score >= 0.5]
    if others and max(others)[0] - own >= 0.5:
        score, best = max(others)
        return best, round(score, 2), "by its content"
    shell = next((m.group(0).strip() for t in texts if (m := _SHELL_REFUSAL.search(t))), None)
    if shell and own < 0.2 and "linux" not in _siblings(configured):
        return "linux", SHELL_CONFIDENCE, f"a POSIX shell answered {shell!r}"
    return None


def parse(platform: str, outputs: Mapping[str, str] | str) -> RouterConfig:
    """Parse one text or a map of command -> output for `platform`.

    What a terminal paste adds (session prompts, pagers, escapes, CRLF, checksums) is removed first and
    noted as warnings (firewall.parsers._paste), the line numbers kept."""
    parser = get_parser(platform)
    cleaned, notes = clean_outputs({"": outputs} if isinstance(outputs, str) else outputs)
    texts = {k: v for k, v in cleaned.items() if isinstance(v, str)}
    try:
        with collector_paused():
            config = parser.parse(cleaned)
    except ParseError as exc:
        raise ParseError(f"{exc}{_looks_like(platform, texts)}") from exc
    if not (config.forwards or config.interfaces or config.vlans or config.unparsed):
        mismatch = platform_mismatch(platform, texts)       # sniffing costs: only where it could matter
        if mismatch is not None:          # another platform's output read as an empty configuration
            raise PlatformMismatch(platform, *mismatch)
    config.warnings[:0] = notes
    return config


def _looks_like(platform: str, texts: Mapping[str, str]) -> str:
    """' - it looks like X output (confidence c)' when another platform's sniffer claims the text."""
    scores = {p: max((get_parser(p).sniff(t) for t in texts.values()), default=0.0)
              for p in PLATFORMS if p not in _siblings(platform)}
    best = max(scores, key=scores.get, default="")
    return f"; it looks like {best} output (confidence {scores[best]:.2f})" if best and scores[best] >= 0.5 else ""
