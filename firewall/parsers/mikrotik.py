"""MikroTik RouterOS (v6/v7) parser: dst-nat forwards, VLAN interfaces, UPnP, SIP helper.

Reads `print` outputs (numbered entries with flags, `;;;` comments and key=value attributes that
may wrap over several lines) and `export` scripts (see _mikrotik_rules). The ntc-templates
templates for `/ip firewall nat print` and `/interface vlan print detail` are not used: they
require a fixed attribute order and reject common attributes (dst-address-type,
in-interface-list in other positions, v7 fields), so one key=value reader serves print and
export; the tests check that reader against the templates' expected results. Console log lines
interleaved with output (`17:20:06 echo: ...`) are skipped. Skipped on purpose: every
`/system resource print` field but the version, and non-sip rows of `service-port print`.
"""
from __future__ import annotations

import re
from typing import Mapping, NamedTuple

from firewall.model import FeatureState, RouterConfig
from firewall.parsers._addrbook import AddressBook, resolve_destinations, resolve_forwards
from firewall.parsers._mikrotik_rules import (
    Export,
    add_vlan,
    address_list_entry,
    joined_lines,
    nat_forward,
    nat_unparsed,
    pinhole,
)
from firewall.parsers._sections import marker_score, parse_sections, split_on_prompts
from firewall.parsers._text import Line, blocks, key_values, ref, warn

COMMANDS = [
    "/system identity print",
    "/system resource print",
    "/ip firewall nat print detail without-paging",
    "/ip firewall nat export",
    "/ip firewall address-list export",
    "/ipv6 firewall nat export",
    "/ipv6 firewall filter export",
    "/interface vlan print detail without-paging",
    "/interface bridge vlan export",
    "/ip address export",
    "/ip upnp print",
    "/ip firewall service-port print detail without-paging",
]

_PROMPT = re.compile(r"^\[[^\]]+\]\s*(?:/[\w/ -]*)?>\s*(\S.*)$")
_ENTRY = re.compile(r"^\s{0,3}(\d+)\s+([A-Z*]*)\s*(.*)$")
_LOG = re.compile(r"^\s*\d{2}:\d{2}:\d{2} echo: ")
_NOISE = re.compile(r"^\s*(Flags:|Columns:|#\s+[A-Z])")
_COLON_KV = re.compile(r"^\s*([\w-]+):\s*(.*)$")
_TABLE_HEAD = re.compile(r"^\s*#\s+LIST\s+ADDRESS\b")
_BY_COMMAND = [
    (re.compile(r"firewall nat (print|pr)\b"), "nat_print"),
    (re.compile(r"ipv6 firewall filter (print|pr)\b"), "filter_print"),
    (re.compile(r"address-list (print|pr)\b"), "address_list_print"),
    (re.compile(r"interface vlan (print|pr)\b"), "vlan_print"),
    (re.compile(r"service-port (print|pr)\b"), "service_port_print"),
    (re.compile(r"(upnp|identity|resource) (print|pr)\b"), "colon_kv"),
    (re.compile(r"\bexport\b"), "export"),
]
_STRONG = [r"by RouterOS", r"^\s*\d+\s+[XIDR]*\s*chain=\w+ action=", r"^\s+chain=\w+ action=",
           r"^/ip firewall nat\s*$", r"^/ip/firewall/nat", r"^\s*add action=dst-nat",
           r"^Flags: X - disabled", r"vlan-id=\d+ interface=", r"^\[\w+@[\w.-]+\] >"]
_WEAK = [r"^/interface ", r"to-addresses=", r"^\s*\d+\s+[XIDR]*\s*;;; ", r"^/ip ", r"^\s*add "]


class Entry(NamedTuple):
    index: str
    flags: str
    comment: str
    kv: dict[str, str]
    block: list[Line]


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    book = AddressBook()

    def handle(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
        return _HANDLERS[kind_of(command, lines)](cfg, command, lines, book)

    def finish(cfg: RouterConfig) -> None:
        resolve_forwards(cfg, book, where="the export or address-list print")
        resolve_destinations(cfg, book, "dst-address-list", "the export or address-list print")

    return parse_sections("mikrotik_routeros", outputs, split_on_prompts(_PROMPT), handle, finish)


def sniff(text: str) -> float:
    """Confidence that `text` is RouterOS output."""
    return marker_score(text, _STRONG, _WEAK)


def kind_of(command: str, lines: list[Line]) -> str:
    command = re.sub(r"[/\s]+", " ", command).strip()
    for pattern, kind in _BY_COMMAND:
        if pattern.search(command):
            return kind
    text = "\n".join(t for _, t in lines[:300])
    if re.search(r"^\s*\d+\s.*(chain=|^\s+chain=)|^\s+chain=\w+", text, re.M):
        nat = re.search(r"chain=(dstnat|srcnat)|action=(dst-nat|src-nat|masquerade|netmap)", text)
        return "nat_print" if nat else "filter_print"
    if re.search(r"^\s*\d+\s+[XD]*\s*(;;;.*\n\s*)?list=\S+", text, re.M):
        return "address_list_print"
    if re.search(r"vlan-id=\d+", text) and re.search(r"^\s*\d+\s+[XR]*\s", text, re.M) \
            and not re.search(r"^\s*(/|add )", text, re.M):
        return "vlan_print"
    if re.search(r"^\s*\d+\s+[XI]*\s*(ftp|tftp|irc|h323|sip|pptp)\b", text, re.M):
        return "service_port_print"
    if all(_COLON_KV.match(t) for _, t in lines if t.strip()):
        return "colon_kv"
    return "export"


def print_entries(cfg: RouterConfig, command: str, lines: list[Line]) -> tuple[int, list[Entry]]:
    """Numbered `print` entries; returns (recognised line count, entries)."""
    lines = [l for l in lines if not _LOG.match(l[1])]
    recognised = 0
    before, found = blocks(lines, lambda t: bool(_ENTRY.match(t)))
    for line in before:
        if _NOISE.match(line[1]):
            recognised += 1
        elif line[1].strip():
            cfg.warnings.append(warn(command, line, "unexpected line before the first entry"))
    entries = []
    for block in found:
        index, flags, rest = _ENTRY.match(block[0][1]).groups()
        comment = rest[3:].strip() if rest.startswith(";;;") else ""
        text = " ".join([rest if not comment else ""] + [t.strip() for _, t in block[1:]])
        try:
            kv = key_values(text)
        except ValueError as exc:
            cfg.warnings.append(warn(command, block[0], f"attributes not understood: {exc}"))
            continue
        recognised += len([l for l in block if l[1].strip()])
        entries.append(Entry(index, flags, comment, kv, block))
    return recognised, entries


def _nat_print(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook, make=nat_forward,
               construct: str = "nat") -> int:
    recognised, entries = print_entries(cfg, command, lines)
    for entry in entries:
        where = ref(command, entry.block, entry.index)
        try:
            forward = make({**entry.kv, "comment": entry.comment or entry.kv.get("comment", "")},
                           entry.flags, where)
        except (ValueError, KeyError) as exc:
            cfg.unparsed.append(nat_unparsed(where, str(exc), construct))
            continue
        if forward:
            cfg.forwards.append(forward)
    return recognised


def _filter_print(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook) -> int:
    return _nat_print(cfg, command, lines, book, pinhole, "filter")


def _address_list_print(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook) -> int:
    """`/ip firewall address-list print`: `list=X address=Y` entries (detail), or the column table."""
    header = next((t for _, t in lines if _TABLE_HEAD.match(t)), None)
    recognised, entries = print_entries(cfg, command, lines)
    for entry in entries:
        try:
            if header and "list" not in entry.kv:
                address_list_entry(book, *_table_row(header, entry))
            else:
                address_list_entry(book, entry.kv, entry.flags)
        except ValueError as exc:
            cfg.unparsed.append(nat_unparsed(ref(command, entry.block, entry.index), str(exc) +
                                             "; print it with 'detail' or use export", "address_list"))
    return recognised


def _table_row(header: str, entry: Entry) -> tuple[dict[str, str], str]:
    """(column -> cell, flags) of one table row, cut at the header's column starts.

    A list name may start with capitals that the entry pattern takes for flags, so the flags are what
    stands between the row number and the LIST column."""
    columns = [(m.start(), m.group().lower()) for m in re.finditer(r"\S+", header)][1:]
    comment_first = bool(re.match(r"^\s*\d+\s+[A-Z*]*\s*;;;", entry.block[0][1]))
    text = entry.block[1][1] if comment_first and len(entry.block) > 1 else entry.block[0][1]
    cells = {}
    for (start, name), (end, _) in zip(columns, columns[1:] + [(None, "")]):
        if 0 < start < len(text) and text[start - 1] != " ":
            raise ValueError(f"row does not line up with the {name.upper()} column of the table header")
        cells[name] = text[start:end].strip()
    flags = entry.flags if comment_first else text[:columns[0][0]].strip().removeprefix(entry.index).strip()
    return cells, flags


def _vlan_print(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook) -> int:
    recognised, entries = print_entries(cfg, command, lines)
    for entry in entries:
        try:
            where = ref(command, entry.block, entry.kv.get("name", entry.index))
            add_vlan(cfg, entry.kv, entry.comment, where)
        except (ValueError, KeyError) as exc:
            cfg.warnings.append(warn(command, entry.block[0], f"VLAN entry not understood: {exc}"))
    return recognised


def _service_port_print(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook) -> int:
    recognised, entries = print_entries(cfg, command, lines)
    for entry in entries:
        name = entry.kv.get("name") or next(iter(entry.kv), "")    # table rows start with the name
        if name == "sip":
            on = "X" not in entry.flags and entry.kv.get("disabled", "no") != "yes"
            cfg.sip_alg = FeatureState(enabled=on, source_ref=ref(command, entry.block, "sip"),
                                       detail="service-port sip " + ("enabled" if on else "disabled"))
    return recognised


def _colon_kv(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook) -> int:
    """`key: value` outputs: /ip upnp print, /system identity print, /system resource print."""
    values, recognised = {}, 0
    for line in lines:
        match = _COLON_KV.match(line[1])
        if match:
            values[match.group(1)] = (match.group(2).strip(), line)
            recognised += 1
        elif line[1].strip():
            cfg.warnings.append(warn(command, line, "expected 'key: value'"))
    if "upnp" in command or "allow-disable-external-interface" in values:
        if "enabled" in values:
            state, line = values["enabled"]
            cfg.upnp = FeatureState(enabled=state == "yes", detail=f"/ip upnp enabled: {state}",
                                    source_ref=ref(command, line, "ip upnp"))
    elif "version" in values:
        cfg.version = cfg.version or values["version"][0].split()[0]
    elif "name" in values:
        cfg.hostname = cfg.hostname or values["name"][0]
    return recognised


def _export(cfg: RouterConfig, command: str, lines: list[Line], book: AddressBook) -> int:
    reader = Export(cfg, command, book)
    for line, raw in joined_lines(lines):
        reader.feed(line, raw)
    return reader.close()


_HANDLERS = {"nat_print": _nat_print, "filter_print": _filter_print, "address_list_print": _address_list_print, "vlan_print": _vlan_print, "export": _export,
             "service_port_print": _service_port_print, "colon_kv": _colon_kv}
