"""Line helpers shared by the router parsers: numbering, garbage checks, service names, TextFSM runs.

Stable helper API (used by several platform modules; extend, do not change signatures):
  numbered_lines(text, start=1) -> list[Line]        Line = (1-based number, text without EOL)
  ensure_text(text, what)                             raises ParseError on binary / non-text input
  cli_error(lines) -> Line | None                     a device error message ("% Invalid input ...")
  service_port(name) -> int | None                    'www' -> 80, 'sip' -> 5060, '8080' -> 8080
  key_values(text) -> dict[str, str]                  'a=b c="d e"' -> {'a': 'b', 'c': 'd e'}
  blocks(lines, opens) -> (before, [block, ...])      split lines into blocks opened by `opens`
  textfsm_rows(template, text) -> list[dict]          run an ntc-templates template by file name
  ref(command, lines, rule_id) -> SourceRef           SourceRef over one line or a block
  warn(command, line, message) -> ParseWarning
  to_cidr(address, mask) / network_of(cidr)           '10.0.0.1','255.255.255.0' -> '10.0.0.1/24'
  is_voice_name(name) -> bool                         voice / voip / phone in a VLAN name
  merge_vlans(vlans) / merge_interfaces(interfaces)   fold duplicates reported by several commands

The parse() loop, prompt splitting, sniff scoring and per-block template runs used by the
group-A parsers live in _sections.
"""
from __future__ import annotations

import io
import ipaddress
import re
import shlex
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from firewall.model import Interface, ParseError, ParseWarning, SourceRef, Vlan

Line = tuple[int, str]

_CLI_ERROR = re.compile(
    r"^\s*(% ?(Invalid input|Incomplete command|Ambiguous command|Unknown command|Bad |Error)|"
    r"(syntax error|bad command name|expected end of command|unknown command\.?)\b|"
    r"error: (syntax error|unknown command)|Command fail\. Return code|command parse error)",
    re.IGNORECASE)

SERVICE_PORTS = {
    "aol": 5190, "bgp": 179, "bootpc": 68, "bootps": 67, "chargen": 19, "cifs": 3020,
    "citrix-ica": 1494, "cmd": 514, "ctiqbe": 2748, "daytime": 13, "discard": 9, "dns": 53,
    "domain": 53, "echo": 7, "exec": 512, "finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70,
    "h323": 1720, "hostname": 101, "http": 80, "https": 443, "ident": 113, "imap": 143,
    "imap4": 143, "imaps": 993, "irc": 194, "isakmp": 500, "kerberos": 88, "klogin": 543,
    "kshell": 544, "ldap": 389, "ldaps": 636, "login": 513, "lotusnotes": 1352, "lpd": 515,
    "mysql": 3306, "netbios-dgm": 138, "netbios-ns": 137, "netbios-ssn": 139, "nfs": 2049,
    "nntp": 119, "ntp": 123, "pcanywhere-data": 5631, "pop2": 109, "pop3": 110, "pop3s": 995,
    "pptp": 1723, "radius": 1645, "radius-acct": 1646, "rdp": 3389, "rip": 520, "rsh": 514,
    "rtsp": 554, "sip": 5060, "sips": 5061, "smtp": 25, "smtps": 465, "snmp": 161,
    "snmptrap": 162, "sqlnet": 1521, "ssh": 22, "submission": 587, "sunrpc": 111, "syslog": 514,
    "tacacs": 49, "talk": 517, "telnet": 23, "tftp": 69, "uucp": 540, "whois": 43, "www": 80,
    "xdmcp": 177,
}

VOICE_NAME = re.compile(r"voice|voip|phone|telephon|\bsip\b|\bpbx\b", re.IGNORECASE)


def numbered_lines(text: str, start: int = 1) -> list[Line]:
    """Split text into (1-based line number, line) pairs; CR and trailing newline removed."""
    return [(start + i, line.rstrip("\r")) for i, line in enumerate(text.split("\n"))]


def ensure_text(text: str, what: str) -> None:
    """Raise ParseError when `text` is binary or mostly unprintable (not CLI output at all)."""
    if not isinstance(text, str):
        raise ParseError(f"{what}: expected text, got {type(text).__name__}")
    if "\x00" in text:
        raise ParseError(f"{what}: contains NUL bytes; this is binary data, not CLI output")
    sample = text[:20000]
    bad = sum(1 for ch in sample if not (ch.isprintable() or ch in "\t\r\n\x1b"))
    if sample and bad / len(sample) > 0.05:
        raise ParseError(f"{what}: {bad} of {len(sample)} characters are unprintable; "
                         "this does not look like CLI output")


def cli_error(lines: list[Line]) -> Line | None:
    """The error line when the output is the device rejecting the command, else None.

    Only the first non-blank lines count (IOS puts a caret marker line before its message).
    """
    head = [line for line in lines if line[1].strip() and line[1].strip() != "^"][:2]
    return next((line for line in head if _CLI_ERROR.match(line[1])), None)


def service_port(name: str) -> int | None:
    """Port number for a service name or a numeric string; None when unknown."""
    name = name.strip().lower()
    if name.isdigit():
        port = int(name)
        return port if port <= 65535 else None
    return SERVICE_PORTS.get(name)


def key_values(text: str) -> dict[str, str]:
    """Parse `key=value key2="quoted value"` pairs; bare words map to ''. Raises ValueError."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""          # RouterOS keeps backslashes literally inside values
    result: dict[str, str] = {}
    for token in lexer:
        key, _, value = token.partition("=")
        result[key] = value
    return result


def blocks(lines: list[Line], opens: Callable[[str], bool]) -> tuple[list[Line], list[list[Line]]]:
    """Split `lines` into blocks, each starting at a line where opens(text) is true."""
    before: list[Line] = []
    found: list[list[Line]] = []
    for line in lines:
        if opens(line[1]):
            found.append([line])
        elif found:
            found[-1].append(line)
        else:
            before.append(line)
    return before, found


class TemplateMismatch(ValueError):
    """The TextFSM template rejected the text (its Error rule fired)."""


_FSMS = threading.local()          # one compiled FSM per template and thread (FSMs keep state)


@lru_cache(maxsize=None)
def _template_text(name: str) -> str:
    import ntc_templates
    return (Path(ntc_templates.__file__).parent / "templates" / f"{name}.textfsm").read_text()


def textfsm_rows(template: str, text: str) -> list[dict[str, Any]]:
    """Rows (lower-case keys) from the ntc-templates template `template` (file name, no suffix)."""
    import textfsm
    cache = _FSMS.__dict__
    if template not in cache:        # compiling a template costs more than running it
        cache[template] = textfsm.TextFSM(io.StringIO(_template_text(template)))
    fsm = cache[template]
    fsm.Reset()
    try:
        rows = fsm.ParseText(text)
    except textfsm.TextFSMError as exc:
        raise TemplateMismatch(f"{template}: {exc}") from None
    keys = [name.lower() for name in fsm.header]
    return [dict(zip(keys, row)) for row in rows]


def ref(command: str, lines: Line | list[Line], rule_id: str = "") -> SourceRef:
    """SourceRef for one line or a block of lines (text keeps the block's non-blank lines)."""
    block = [lines] if isinstance(lines, tuple) else lines
    filled = [i for i, (_, t) in enumerate(block) if t.strip()]
    if filled:                          # blank lines around a block are not part of the rule
        block = block[filled[0]:filled[-1] + 1]
    text = "\n".join(t for _, t in block if t.strip())
    return SourceRef(command=command, line=block[0][0],
                     end_line=block[-1][0] if len(block) > 1 else None,
                     rule_id=rule_id, text=text)


def warn(command: str, line: Line | None, message: str) -> ParseWarning:
    return ParseWarning(command=command, line=line[0] if line else None,
                        text=line[1] if line else "", message=message)


def to_cidr(address: str, mask: str) -> str:
    """'192.168.2.1', '255.255.255.0' (or '24') -> '192.168.2.1/24'; raises ValueError."""
    return ipaddress.ip_interface(f"{address}/{mask}").with_prefixlen


def network_of(cidr: str) -> str:
    """'192.168.2.1/24' -> '192.168.2.0/24'; raises ValueError."""
    return str(ipaddress.ip_interface(cidr).network)


def is_voice_name(name: str) -> bool:
    return bool(VOICE_NAME.search(name or ""))


def _fold(items: Iterable[Any], key: Callable[[Any], Any], combine: Callable[[Any, Any], None]) -> list:
    """Keep the first item per key and fold every later one with that key into it."""
    merged: dict[Any, Any] = {}
    for item in items:
        into = merged.setdefault(key(item), item)
        if into is not item:
            combine(into, item)
    return list(merged.values())


def _fold_vlan(into: Vlan, vlan: Vlan) -> None:
    into.name = into.name or vlan.name
    into.subnet = into.subnet or vlan.subnet
    into.interface = into.interface or vlan.interface
    into.voice = into.voice or vlan.voice
    into.member_ports += [p for p in vlan.member_ports if p not in into.member_ports]
    if not into.source_ref.command and not into.source_ref.text:
        into.source_ref = vlan.source_ref


def _fold_interface(into: Interface, iface: Interface) -> None:
    into.addresses += [a for a in iface.addresses if a not in into.addresses]
    into.role = into.role or iface.role
    into.description = into.description or iface.description
    into.vlan_id = into.vlan_id if into.vlan_id is not None else iface.vlan_id
    into.parent = into.parent or iface.parent


def merge_vlans(vlans: Iterable[Vlan]) -> list[Vlan]:
    """One Vlan per id: later reports fill fields the first one left empty; voice is sticky."""
    return sorted(_fold(vlans, lambda v: v.vlan_id, _fold_vlan), key=lambda v: v.vlan_id)


def merge_interfaces(interfaces: Iterable[Interface]) -> list[Interface]:
    """One Interface per name, addresses united, first non-empty role/description kept."""
    return _fold(interfaces, lambda i: i.name, _fold_interface)
