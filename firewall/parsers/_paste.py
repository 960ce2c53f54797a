"""What people paste, made back into what the device printed, before any platform parser reads it.

A terminal copy holds more than the command output: the session around it (a user-mode prompt and
`enable`, `Router#sh run`, `Building configuration...`, a trailing prompt), pager remnants (`--More--`
and the backspaces and spaces that erased it), CRLF or lone-CR line ends, ANSI/CSI escapes and
bracketed-paste markers, checksum trailers. clean_outputs() removes them and notes each kind as a
ParseWarning. Removed lines are blanked, never deleted, so every line number a parser reports still
points at the line of the original text. A prompt line naming a command starts that command's own
output (keyed by the command; its text is padded with blank lines to keep the numbering); a prompt
without a command, or with a session command (`en`, `terminal length 0`, ...), is only blanked.
Binary input is left alone: the platform parser's ensure_text refuses it with its own message.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping

from firewall.model import ParseWarning

# Prompts as the platforms print them, each ending where the typed command starts.
_PROMPTS = "|".join((
    r"\[[^\]\n]*\]\[[^\]\n]*@[^\]\n]*\][^\s:\n]*:",                  # pfSense [2.6.0-RELEASE][admin@fw]/root:
    r"\[[^\]\n]+@[^\]\n]+\]\s?(?:/[\w/ -]*)?>",                      # RouterOS [admin@MikroTik] /ip nat>
    r"\[[\w.-]+@[\w.-]+[^\]\n]*\][$#]",                               # [root@host ~]#
    r"[\w.-]+@[\w.-]+(?::[^\s$#>\n]*)?\s?[$#>%]",                      # user@host:~$ admin@srx> vyos@vyos#
    r"[A-Za-z][\w.\-/]*(?: \([\w.-]+\))? [#$]",                       # FortiGate FGT60E (global) #
    r"[A-Za-z][\w.\-/]*(?:\([\w.\-/]+\))?[#>]",                       # Cisco Router> Router(config)# asa/ctx#
    r"\$(?= |$)",                                                     # a bare shell prompt
))
_PROMPT = re.compile(rf"^(?P<prompt>{_PROMPTS})(?:[ \t]+|(?=\S)|$)(?P<command>[^\n]*)$", re.M)
# A prompt in configuration mode: what is typed there is configuration, read in place.
_CONFIG_MODE = re.compile(r"\(config[^)]*\)#$|\((?!global\)|root\)|console\))[\w.-]+\) #$")
_CONFIG_TYPED = re.compile(r"^(?:set|unset|delete|edit|next|config|append|select|purge|activate|deactivate|"
                           r"insert|rename|add|remove|disable|comment|move)\b")
_MENU = re.compile(r"\]\s?(/[\w/ -]*?)\s*>$")
# What a session types to get to the output: blanked, the output keeps its command.
_SESSION = re.compile(
    r"^(?:en(?:a(?:b(?:le?)?)?)?(?: \d+)?|term(?:inal)?\s+(?:len(?:gth)?|width|pager|mon(?:itor)?|no)\b.*|"
    r"no pager|set cli screen-(?:length|width)\b.*|screen-length\b.*|cli|exit|quit|logout|end|"
    r"conf(?:ig(?:ure)?)?(?: t(?:erminal)?)?|config system console|set output standard|sudo (?:-[is]|su\b).*|"
    r"su(?: -)?(?: \w+)?|clear|show\s+clock)\s*$", re.I)
_SUDO = re.compile(r"^sudo\s+(?:-\S+\s+)*")
# Lines of the session, not of the output, wherever they appear (noted when blanked).
_NOISE = re.compile(
    r"^(?:\[OK\]|Password:[\s*]*|!Checksum\b.*|Last login: .*|Type help or '\?' for a list of available commands\.|"
    r"Enter configuration commands, one per line\..*)[ \t]*$", re.M)
# The device's own headers and trailers around an output: no configuration in them, blanked unnoted.
_HEADERS = re.compile(
    r"^(?:Building configuration\.\.\.|Current configuration\s*:\s*\d+\s*bytes|Cryptochecksum:\s*[0-9a-fA-F]+|"
    r"\{(?:master|backup|primary|secondary|linecard|hold)(?::[\w]+)?\}|\[edit(?: [^\]\n]*)?\])[ \t]*$", re.M)
# ANSI/CSI (bracketed paste \x1b[200~ \x1b[201~ included), OSC titles, two-byte escapes, bells
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)|\x1b[()#][0-9A-Za-z]|"
                      r"\x1b[=>78@-Z\\^_]|\x07")
_PAGER = re.compile(
    r"(?P<marker> ?-- ?[Mm]ore ?-- ?|<--- More --->|---\(more(?: \d+%)?\)---|-- \[Q quit\|D dump\|down\]|"
    r" ?---- More ----|-- MORE --, next page: Space, next line: Enter, quit: Control-C)(?P<erase> *)")


def strip_escapes(text: str) -> str:
    """The text without terminal escapes (ANSI/CSI, OSC, bracketed paste, bells): the one rule for them."""
    return _ESCAPES.sub("", text)


_BACKSPACED = re.compile(r"[^\n]*\x08[^\n]*")
_OVERWRITTEN = re.compile(r"[^\n]*\r[^\n]*")


def clean_outputs(outputs: Mapping[str, str]) -> tuple[dict[str, str], list[ParseWarning]]:
    """(command -> cleaned output, what was removed): see the module docstring."""
    cleaned: dict[str, list[str] | str] = {}
    notes: list[ParseWarning] = []
    for command, text in outputs.items():
        if not isinstance(text, str) or "\x00" in text:
            cleaned[command] = text           # not text: the parser's ensure_text says so
            continue
        note = _Notes(command)
        for key, start, lines in _sections(command, _normalise(text, note), note):
            _place(cleaned, key, start, lines)
        notes += note.warnings()
    return {key: value if isinstance(value, str) else "\n".join(value) for key, value in cleaned.items()}, notes


def _place(cleaned: dict[str, list[str] | str], key: str, start: int, lines: list[str] | str) -> None:
    """Put a section's lines at their original numbers in its command's output (one command may recur)."""
    if isinstance(lines, str) and key not in cleaned:
        cleaned[key] = lines                  # untouched text: no copy
        return
    into = cleaned.setdefault(key, [])
    if isinstance(into, str):
        into = cleaned[key] = into.split("\n")
    if isinstance(lines, str):
        lines = lines.split("\n")
    into += [""] * (start + len(lines) - len(into))
    for offset, line in enumerate(lines):
        if line:
            into[start + offset] = line


class _Notes:
    """One warning per kind of removal: the first line it happened on and how often."""

    def __init__(self, command: str):
        self.command = command
        self.seen: dict[str, list] = {}

    def add(self, what: str, line: int | Callable[[], int], text: str) -> None:
        """`line` may be a callable, evaluated only for the first of a kind (counting lines costs)."""
        entry = self.seen.get(what)
        if entry is None:
            self.seen[what] = [line() if callable(line) else line, text, 1]
        else:
            entry[2] += 1

    def warnings(self) -> list[ParseWarning]:
        return [ParseWarning(command=self.command, line=line, text=text[:200],
                             message=f"removed before parsing: {what}" + (f" ({count} times)" if count > 1 else ""))
                for what, (line, text, count) in self.seen.items()]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _normalise(text: str, note: _Notes) -> str:
    """Line ends, escapes, overwrites and pager remnants, each line keeping its number."""
    if "\r" in text:
        if "\n" not in text:
            note.add("lone CR line ends (made LF)", 1, "")
            text = text.replace("\r", "\n")
        elif "\r\n" in text:
            note.add("CRLF line ends (made LF)", 1, "")
            text = text.replace("\r\n", "\n")
    if "\x1b" in text or "\x07" in text:
        first = _ESCAPES.search(text)
        if first:
            note.add("terminal escape sequences (ANSI/CSI, bracketed paste)", _line_of(text, first.start()),
                     repr(first.group(0)))
            text = _ESCAPES.sub("", text)
    for marker, pattern, fix, what in (("\x08", _BACKSPACED, _backspaced, "backspace erasures"),
                                       ("\r", _OVERWRITTEN, _overwritten, "carriage-return overwrites")):
        if marker in text:
            source = text
            text = pattern.sub(lambda m: _noted(m, fix, note, what, source), text)
    if "ore" in text or "MORE" in text:
        source = text
        text = _PAGER.sub(lambda m: _unpaged(m, note, source), text)
    return text


def _noted(match: re.Match[str], fix: Callable[[str], str], note: _Notes, what: str, text: str) -> str:
    note.add(what, lambda: _line_of(text, match.start()), match.group(0).replace("\r", "\\r").replace("\x08", "\\b"))
    return fix(match.group(0))


def _backspaced(line: str) -> str:
    """What a terminal shows after each backspace erased the character before it."""
    out: list[str] = []
    for char in line:
        if char == "\x08":
            if out:
                out.pop()
        else:
            out.append(char)
    return "".join(out)


def _overwritten(line: str) -> str:
    """A lone CR returns to column 0: later text overwrites earlier (how pagers erase their prompt)."""
    screen = ""
    for part in line.split("\r"):
        screen = part + screen[len(part):]
    return screen.rstrip() if screen.strip() else ""


def _unpaged(match: re.Match[str], note: _Notes, text: str) -> str:
    """Drop the pager marker and the spaces that erased it; the indentation after them stays."""
    marker, erase = match.group("marker"), match.group("erase")
    note.add("pager prompts (--More--)", lambda: _line_of(text, match.start()), marker.strip())
    return erase[len(marker):] if len(erase) >= len(marker) else erase


Section = tuple[str, int, "list[str] | str"]


def _sections(command: str, text: str, note: _Notes) -> list[Section]:
    """[(command, first line index, lines)]: the text split at prompts naming a command, session lines blanked.

    A command typed in configuration mode (or a configuration verb: `set ...`, RouterOS `add ...`) is
    configuration: its line is kept without the prompt in the current section."""
    marks = _marks(text)
    if not marks:
        return [(command, 0, text)]
    lines = text.split("\n")
    starts: list[tuple[str, int]] = [(command, 0)]
    for index, match in marks:
        if not isinstance(match, re.Match):
            if match:
                note.add("session lines (Password:, [OK], Last login, checksums)", index + 1, lines[index])
            lines[index] = ""
            continue
        note.add("session prompts", index + 1, lines[index])
        typed, content = _typed(match)
        lines[index] = content
        if typed:
            starts.append((typed, index + 1))
    found: list[Section] = []
    for number, (key, start) in enumerate(starts):
        end = starts[number + 1][1] - 1 if number + 1 < len(starts) else len(lines)
        body = lines[start:end]
        while body and not body[-1].strip():           # the blanked prompt that ended it, blank lines
            body.pop()
        if body:
            found.append((key, start, body))
    return found or [(command, 0, "\n".join(lines))]


def _typed(match: re.Match[str]) -> tuple[str, str]:
    """(command starting a new output or '', the line's content) for one prompt line."""
    prompt, typed = match.group("prompt"), _SUDO.sub("", match.group("command").strip())
    words = typed.split()
    if prompt.startswith("[") and "@" in prompt and prompt.endswith(">"):       # RouterOS: /path verb k=v
        verb = next((w for w in words[:8] if not w.startswith("/") and "=" not in w), "")
        menu = _MENU.search(prompt)
        if menu and typed and not typed.startswith("/"):
            typed = f"{menu.group(1).rstrip()} {typed}"      # the menu the prompt is in
    else:
        verb = words[0] if words else ""
    configuring = _CONFIG_MODE.search(prompt)
    if configuring and typed.startswith("do "):
        return typed[3:].strip(), ""
    if configuring:
        return "", typed
    if not typed or _SESSION.match(typed):
        return "", ""
    return ("", typed) if _CONFIG_TYPED.fullmatch(verb) else (typed, "")


def _marks(text: str) -> list[tuple[int, re.Match[str] | bool]]:
    """(line index, prompt match, or True for a session line, False for a header) in line order."""
    found: list[tuple[int, re.Match[str] | bool]] = \
        [(m.start(), m) for m in _PROMPT.finditer(text)] if _maybe_prompt(text) else []
    found += [(m.start(), True) for m in _NOISE.finditer(text)]
    found += [(m.start(), False) for m in _HEADERS.finditer(text)]
    found.sort(key=lambda item: item[0])
    marks, line, offset = [], 0, 0
    for start, match in found:
        line += text.count("\n", offset, start)
        offset = start
        marks.append((line, match))
    return marks


def _maybe_prompt(text: str) -> bool:
    """A cheap test before the prompt scan: some line starts like a prompt could."""
    return bool(re.search(r"^[\w.\-/\[$][^\n]{0,80}?[#>$%:]", text, re.M))
