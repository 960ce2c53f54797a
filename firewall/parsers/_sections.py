"""The common parse() loop of the group-A parsers and what it needs: sections, templates, sniffing.

  parse_sections(platform, outputs, split, handle, finish)   the parse() loop (see its docstring)
  split_on_prompts(prompt)                                   a `split` cutting a paste at prompts
  template_lines(cfg, command, lines, template, ...)         one template record per line
  template_blocks(cfg, command, lines, opens, template, ...) one template record per block
  marker_score(text, strong, weak, foreign)                  a sniff() score from marker regexes
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping

from firewall.model import ParseError, RouterConfig
from firewall.parsers._text import (
    Line,
    TemplateMismatch,
    blocks,
    cli_error,
    ensure_text,
    merge_interfaces,
    merge_vlans,
    numbered_lines,
    textfsm_rows,
    warn,
)


def marker_score(text: str, strong: Iterable[str], weak: Iterable[str] = (),
                 foreign: Iterable[str] = ()) -> float:
    """sniff() helper: 0.5 per strong marker regex found, 0.1 per weak one, -0.6 if any foreign one."""
    def found(pattern: str) -> bool:
        return re.search(pattern, text, re.M) is not None
    score = 0.5 * sum(map(found, strong)) + 0.1 * sum(map(found, weak))
    score -= 0.6 if any(map(found, foreign)) else 0.0
    return max(0.0, min(1.0, score))


def template_lines(cfg: RouterConfig, command: str, lines: list[Line], template: str,
                   known: re.Pattern[str] | None = None,
                   what: str = "entry") -> tuple[int, list[tuple[Line, dict[str, Any]]]]:
    """One record per line, parsed alone by an ntc template; `known` lines (headers) are skipped.

    A non-blank line the template rejects, or turns into other than one row, is a warning.
    Returns (recognised line count, [(line, row)]).
    """
    recognised, parsed = 0, []
    for line in lines:
        if not line[1].strip() or (known and known.match(line[1])):
            recognised += bool(line[1].strip())
            continue
        try:
            rows = textfsm_rows(template, line[1])
        except TemplateMismatch:
            rows = []
        if len(rows) != 1:
            cfg.warnings.append(warn(command, line, f"not {what}"))
            continue
        recognised += 1
        parsed.append((line, rows[0]))
    return recognised, parsed


def template_blocks(cfg: RouterConfig, command: str, lines: list[Line], opens: Callable[[str], bool],
                    template: str, header: str = "", known: re.Pattern[str] | None = None,
                    what: str = "entry") -> tuple[int, list[tuple[list[Line], dict[str, Any]]]]:
    """Blocks opened by `opens`, each parsed alone by an ntc template (after `header`, if any).

    Lines before the first block count as recognised when they match `known`, else they are
    warnings; a block the template rejects, or turns into other than one row, is a warning.
    Returns (recognised line count, [(block, row)]).
    """
    before, found = blocks(lines, opens)
    recognised = 0
    for line in before:
        if known and known.match(line[1]):
            recognised += 1
        elif line[1].strip():
            cfg.warnings.append(warn(command, line, f"unexpected line before the first {what}"))
    parsed = []
    for block in found:
        try:
            rows = textfsm_rows(template, "\n".join(([header] if header else []) + [t for _, t in block]))
        except TemplateMismatch:
            rows = []
        if len(rows) != 1:
            cfg.warnings.append(warn(command, block[0], f"{what} not understood"))
            continue
        recognised += len([line for line in block if line[1].strip()])
        parsed.append((block, rows[0]))
    return recognised, parsed


Handler = Callable[[RouterConfig, str, list[Line]], int]


def parse_sections(platform: str, outputs: Mapping[str, str],
                   split: Callable[[str, list[Line]], list[tuple[str, list[Line]]]],
                   handle: Handler,
                   finish: Callable[[RouterConfig], None] | None = None) -> RouterConfig:
    """The common parse() loop.

    Each output is checked for binary garbage, split into (command, lines) sections by `split`
    (a pasted text may hold several commands), and each section goes to `handle`, which fills the
    RouterConfig and returns how many lines it recognised. A device error message becomes a
    warning; a non-blank section with no recognised line raises ParseError. `finish` runs last,
    before duplicate VLANs and interfaces are folded together.
    """
    cfg = RouterConfig(platform=platform)
    for command, text in outputs.items():
        ensure_text(text, command or "pasted text")
        for cmd, lines in split(command, numbered_lines(text)):
            cfg.commands.append(cmd)
            if not any(t.strip() for _, t in lines):
                continue
            error = cli_error(lines)
            if error:
                cfg.warnings.append(warn(cmd, error, "the device rejected this command"))
                continue
            if handle(cfg, cmd, lines) == 0:
                first = next(line for line in lines if line[1].strip())
                raise ParseError(f"{platform}: output of {cmd or 'pasted text'!r} not recognised at line "
                                 f"{first[0]} ({first[1][:80]!r}); expected {_expected(platform)}")
    if finish:
        finish(cfg)
    cfg.vlans = merge_vlans(cfg.vlans)
    cfg.interfaces = merge_interfaces(cfg.interfaces)
    return cfg


def _expected(platform: str) -> str:
    """What the platform's parser reads, for an error message: its commands' outputs."""
    from firewall.parsers import get_parser  # the registry imports the parsers, which import this
    commands = getattr(get_parser(platform), "COMMANDS", [])
    return "the output of " + ", ".join(repr(c) for c in commands[:6]) + (", ..." if len(commands) > 6 else "")


def split_on_prompts(prompt: re.Pattern[str]) -> Callable[[str, list[Line]], list[tuple[str, list[Line]]]]:
    """A `split` for parse_sections: a line matching `prompt` (group 1 = command) starts a section."""
    def split(command: str, lines: list[Line]) -> list[tuple[str, list[Line]]]:
        sections: list[tuple[str, list[Line]]] = [(command, [])]
        for line in lines:
            match = prompt.match(line[1])
            if match:
                sections.append((match.group(1).strip(), []))
            else:
                sections[-1][1].append(line)
        kept = [s for s in sections if any(t.strip() for _, t in s[1])]
        return kept or sections[:1]
    return split
