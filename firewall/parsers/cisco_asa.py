"""Cisco ASA (8.3+) parser: object/twice NAT forwards, `show nat`, `show xlate`, VLANs, inspect sip.

Outputs are recognised by command name or, for pasted text, by content; a paste holding several
commands is split at `host# show ...` prompt lines. The running config is read by _asa_config
(see its docstring for what is skipped); NAT rules from any source become forwards at the end,
once every object and service definition of the parse is known (see _asa_nat). `show nat`
rules go through the ntc-templates template one rule at a time, keeping line numbers.
Skipped on purpose: all `show version` lines but the version and hostname.
"""
from __future__ import annotations

import re
from typing import Mapping

from firewall.model import PortForward, PortRange, RouterConfig, Unparsed
from firewall.parsers._addrbook import resolve_forwards
from firewall.parsers._asa_acl import address_book, restrict
from firewall.parsers._asa_config import AsaConfig
from firewall.parsers._asa_nat import Names, NatRule, to_forward
from firewall.parsers._sections import marker_score, parse_sections, split_on_prompts
from firewall.parsers._text import Line, TemplateMismatch, blocks, ref, textfsm_rows, warn

COMMANDS = ["show version", "show running-config", "show nat", "show xlate"]

_PROMPT = re.compile(r"^[A-Za-z0-9][\w.\-/]*(?:\([\w-]+\))?[#>]\s*(sh(?:ow)?\s.*)$")
_BY_COMMAND = [
    (re.compile(r"^sh(ow)?\s+nat\b"), "nat"),
    (re.compile(r"^sh(ow)?\s+x(late)?\b"), "xlate"),
    (re.compile(r"^sh(ow)?\s+ver"), "version"),
    (re.compile(r"^(sh(ow)?\s+(run|start|conf)|more\s)"), "config"),
]
_BY_CONTENT = [
    (re.compile(r"NAT Policies \(Section \d\)|^\d+ \(\S+\) to \(\S+\) source", re.M), "nat"),
    (re.compile(r"^\d+ in use, \d+ most used|^(NAT|TCP PAT|UDP PAT) from \S+:", re.M), "xlate"),
    (re.compile(r"Adaptive Security Appliance Software Version", re.M), "version"),
]
_STRONG = [r"^ASA Version", r"Adaptive Security Appliance", r"NAT Policies \(Section",
           r"^\s+translate_hits = ", r"^ nat \(\S+,\S+\) (static|dynamic)",
           r"^nat \(\S+,\S+\) .*source (static|dynamic)", r"^NAT from \S+:", r"^\s*nameif ",
           r"^object network \S+\s*\n\s+(host|subnet|range|fqdn) "]
_WEAK = [r"^object network ", r"^interface ", r"^hostname ", r"policy-map global_policy",
         r"^\s+inspect sip", r"^\s+(host|subnet|range) \S+"]
_CONFIG_START = re.compile(r"^(: Saved|ASA Version \S+)", re.M)
_HEADER = re.compile(r"^(Manual|Auto) NAT Policies \(Section (\d)\)")
_XLATE_PAT = re.compile(r"^(TCP|UDP) PAT from (\S+?):([0-9a-fA-F.:]+)/(\d+) to (\S+?):([0-9a-fA-F.:]+)/(\d+)")
_DETAIL = re.compile(r"^\s+(Source|Destination|Service) - ")     # `show nat detail` extra lines
_XLATE_NOISE = re.compile(r"^(\d+ in use, |Flags:|\s*\S+ - \S+|\s*e - extended)")
_XLATE_MORE = re.compile(r"^\s*(flags\b|[0-9a-fA-F:.]+(/\d+)?(,|\s+to\s|\s*$))")   # an entry's wrapped lines
_XLATE_FLAGS = set("DirsITeN")


def parse(outputs: Mapping[str, str]) -> RouterConfig:
    names, rules = Names(), []

    def handle(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
        kind = kind_of(command, lines)
        if kind == "config":
            reader = AsaConfig(cfg, command, names, rules)
            for line in lines:
                reader.feed(line)
            return reader.close()
        if kind == "nat":
            return _show_nat(cfg, command, lines, rules)
        return _xlate(cfg, command, lines) if kind == "xlate" else _version(cfg, lines)

    def finish(cfg: RouterConfig) -> None:
        for rule in rules:
            try:
                forward = to_forward(rule, names)
            except ValueError as exc:
                cfg.unparsed.append(Unparsed(rule.ref.command, rule.ref.line, rule.ref.text, "nat",
                                             f"NAT rule not modelled: {exc}"))
                continue
            if forward:
                cfg.forwards.append(forward)
        book = address_book(names.objects, names.acls)
        command = next((r.ref.command for r in rules), "")
        restrict(cfg.forwards, names.acls, book, cfg.unparsed, command)
        resolve_forwards(cfg, book, where="the object / object-group definitions")
        cfg.warnings += names.warnings()

    return parse_sections("cisco_asa", outputs, split_on_prompts(_PROMPT), handle, finish)


def sniff(text: str) -> float:
    """Confidence that `text` is Cisco ASA output."""
    return marker_score(text, _STRONG, _WEAK)


def kind_of(command: str, lines: list[Line]) -> str:
    for pattern, kind in _BY_COMMAND:
        if pattern.match(command.strip()):
            return kind
    text = "\n".join(t for _, t in lines[:200])
    if _CONFIG_START.search(text):
        return "config"            # a running-config, even behind a commented-out `show version` (Oxidized)
    return next((kind for pattern, kind in _BY_CONTENT if pattern.search(text)), "config")


def _show_nat(cfg: RouterConfig, command: str, lines: list[Line], rules: list[NatRule]) -> int:
    """`show nat`: one block per rule (rule line + hits line), parsed with the ntc template."""
    recognised, header, section = 0, "", ""
    before, found = blocks(lines, lambda t: bool(re.match(r"^\d+ \(", t) or _HEADER.match(t)))
    cfg.warnings += [warn(command, l, "unexpected line before the first NAT rule")
                     for l in before if l[1].strip()]
    for block in found:
        head = _HEADER.match(block[0][1])
        if head:
            header, section = block[0][1], head.group(2)
            recognised += 1
            cfg.warnings += [warn(command, l, "unexpected line after a section header")
                             for l in block[1:] if l[1].strip()]
            continue
        text = "\n".join([header] + [t for _, t in block if not _DETAIL.match(t)])
        try:
            row = textfsm_rows("cisco_asa_show_nat", text)[0]
        except (TemplateMismatch, IndexError):
            cfg.warnings.append(warn(command, block[0], "NAT rule not understood"))
            continue
        recognised += len(block)
        rule_id = f"section {section} line {row['line_number']}"
        rules.append(_rule_from_row(row, ref(command, block[0], rule_id)))
    return recognised


def _rule_from_row(row: dict, where) -> NatRule:
    """A `show nat` template row as a NatRule; the template's destination pair is (mapped, real)."""
    flags = {row[k].replace("_", "-") for k in ("net_to_net", "dns", "unidirectional", "no_proxy_arp",
                                                 "route_lookup", "inactive", "extended") if row[k]}
    dest = (row["destination_real"], row["destination_mapped"]) if row["destination_real"] else None
    return NatRule(real_if=row["source_interface"], mapped_if=row["destination_interface"],
                   static=row["source_type"] == "static", real=row["source_real"],
                   mapped=row["source_mapped"], dest=dest, svc_proto=row["service_protocol"],
                   svc_real=row["service_real"], svc_mapped=row["service_mapped"], flags=flags,
                   description=row["description"], hits=row["untranslate_hits"], ref=where)


def _xlate(cfg: RouterConfig, command: str, lines: list[Line]) -> int:
    """`show xlate`: static entries (flag s, not identity I) are runtime forwards."""
    before, found = blocks(lines, lambda t: bool(re.match(r"^(NAT|\w+ PAT) from ", t)))
    recognised = 0
    for line in before:
        if _XLATE_NOISE.match(line[1]):
            recognised += 1
        elif line[1].strip():
            cfg.warnings.append(warn(command, line, "unexpected line in show xlate"))
            if found:
                cfg.unparsed.append(_xlate_unparsed(command, line, "line not understood"))
    for block in found:
        stray = [l for l in block[1:] if l[1].strip() and not _XLATE_MORE.match(l[1])]
        cfg.unparsed += [_xlate_unparsed(command, l, "line not understood: expected an entry's wrapped "
                                         "addresses or its 'flags' line") for l in stray]
        block = [l for l in block if l not in stray]
        text = " ".join(t.strip() for _, t in block)
        flags = re.search(r"\bflags\s+(?!idle\b)(\S+)", text)
        if not re.search(r"\bflags\b", text) or (flags and not set(flags.group(1)) <= _XLATE_FLAGS):
            cfg.unparsed.append(_xlate_unparsed(command, block[0], "entry flags missing or unknown: whether it "
                                                "is a static translation is unknown"))
        forward = _xlate_forward(text, flags.group(1) if flags else "", command, block)
        if forward is False:
            cfg.unparsed.append(_xlate_unparsed(command, block[0], "xlate entry not understood"))
            continue
        recognised += len(block)
        if forward:
            cfg.forwards.append(forward)
    return recognised


def _xlate_unparsed(command: str, line: Line, why: str) -> Unparsed:
    return Unparsed(command, line[0], line[1].strip(), "nat", f"show xlate: {why}")


def _xlate_forward(text: str, flags: str, command: str, block: list[Line]) -> PortForward | None | bool:
    """The forward of one xlate entry, None when it is not static, False when unreadable."""
    pat = _XLATE_PAT.match(text)
    if pat:
        if "s" not in flags or "I" in flags:
            return None
        proto, real_if, real, real_port, mapped_if, mapped, mapped_port = pat.groups()
        return PortForward(kind="runtime_translation", proto=proto.lower(), internal_ip=real,
                           external_ip=mapped, external_if=mapped_if,
                           external_ports=[PortRange(int(mapped_port), int(mapped_port))],
                           internal_ports=[PortRange(int(real_port), int(real_port))],
                           source_ref=ref(command, block, f"{mapped}/{mapped_port}"))
    try:
        row = textfsm_rows("cisco_asa_show_xlate", "\n".join(t for _, t in block))[0]
    except (TemplateMismatch, IndexError):
        return False
    if not row["source"] or not row["destination"]:
        return False
    if "s" not in flags or "I" in flags:
        return None
    return PortForward(kind="runtime_translation", proto="any", internal_ip=row["source"][0],
                       external_ip=row["destination"][0], external_if=row["destination_intf"],
                       source_ref=ref(command, block, row["destination"][0]))


def _version(cfg: RouterConfig, lines: list[Line]) -> int:
    text = "\n".join(t for _, t in lines)
    version = re.search(r"Software Version (\S+)", text)
    host = re.search(r"^(\S+) up \d", text, re.M)
    cfg.version = cfg.version or (version.group(1) if version else "")
    cfg.hostname = cfg.hostname or (host.group(1) if host else "")
    return int(bool(version or host))
