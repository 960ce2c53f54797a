"""OpenWrt UCI text: `uci export <pkg>` (= /etc/config/<pkg>) and `uci show <pkg>` -> sections.

Both forms become the same list of UciSection (type, id, options with line numbers, raw lines),
so openwrt.py interprets sections once. Comment lines (including commented-out `#config`
blocks of the stock files) are ignored; any other line that is not `package`, `config`,
`option` or `list` (export) or `pkg.section[.option]=value` (show) becomes a ParseWarning.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from firewall.model import RouterConfig
from firewall.parsers._fields import warn
from firewall.parsers._text import numbered_lines

_SHOW = re.compile(r"^([A-Za-z0-9_-]+)\.(@?[A-Za-z0-9_-]+(?:\[-?\d+\])?)(?:\.([A-Za-z0-9_-]+))?=(.*)$")


@dataclass
class UciSection:
    package: str
    type: str
    id: str                                   # 'lan', or '@redirect[3]' for an anonymous one
    line: int
    options: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    raw: list[str] = field(default_factory=list)
    end_line: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)    # lines inside it that are not uci

    def get(self, key: str, default: str | None = None) -> str | None:
        """The option's value; a list option's values joined by spaces."""
        values = self.options.get(key)
        return " ".join(v.strip() for v, _ in values) if values else default

    def line_of(self, key: str) -> int:
        values = self.options.get(key)
        return values[0][1] if values else self.line


def _words(line: str) -> list[str] | None:
    try:
        return shlex.split(line, comments=False)
    except ValueError:
        return None


def parse_export(text: str, command: str, cfg: RouterConfig, package: str = "") -> list[UciSection]:
    """Sections of `uci export` / /etc/config/<pkg> text."""
    sections: list[UciSection] = []
    counts: dict[str, int] = {}
    for number, line in numbered_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        words = _words(stripped)
        if words and words[0] == "package" and len(words) == 2:
            package = words[1]
        elif words and words[0] == "config" and len(words) in (2, 3):
            index = counts[words[1]] = counts.get(words[1], -1) + 1
            sid = words[2] if len(words) == 3 else f"@{words[1]}[{index}]"
            sections.append(UciSection(package, words[1], sid, number, raw=[line], end_line=number))
        elif words and words[0] in ("option", "list") and len(words) >= 2 and sections:
            value = " ".join(words[2:])
            section = sections[-1]
            values = section.options.setdefault(words[1], [])
            if words[0] == "option" and values:         # legal (last wins), but usually two sections run together
                section.bad.append((number, f"{line.strip()} (option {words[1]} given twice)"))
            values[:] = values + [(value, number)] if words[0] == "list" else [(value, number)]
            section.raw.append(line)
            section.end_line = number
        else:
            warn(cfg, command, number, line, "not a uci package/config/option/list line")
            if sections:
                sections[-1].bad.append((number, line))
    return sections


def parse_show(text: str, command: str, cfg: RouterConfig) -> list[UciSection]:
    """Sections of `uci show <pkg>` flat text (`firewall.@redirect[0].name='x'`)."""
    sections: dict[tuple[str, str], UciSection] = {}
    for number, line in numbered_lines(text):
        if not line.strip():
            continue
        match = _SHOW.match(line.strip())
        words = _words(match.group(4)) if match else None
        if not match or words is None:
            warn(cfg, command, number, line, "not a uci show 'pkg.section[.option]=value' line")
            continue
        package, sid, option = match.group(1), match.group(2), match.group(3)
        if option is None:
            sections[(package, sid)] = UciSection(package, " ".join(words), sid, number, raw=[line], end_line=number)
            continue
        section = sections.get((package, sid))
        if section is None:
            warn(cfg, command, number, line, "option of a section that was not declared")
            continue
        section.options[option] = [(w, number) for w in words] or [("", number)]
        section.raw.append(line)
        section.end_line = number
    return list(sections.values())


def looks_like_show(text: str) -> bool:
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    return bool(_SHOW.match(first))
