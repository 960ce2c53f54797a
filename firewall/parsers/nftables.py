"""nftables `nft list ruleset` text form (incl. OpenWrt fw4 `fw4 print`) -> port-forwards.

Only NAT matters here: chains of `type nat hook prerouting`, and every chain they jump/goto
into, are walked; a jump passes its own matches (e.g. fw4's `iifname "pppoe-wan" jump
dstnat_wan`) down to the rules of the target chain. Rules carrying `dnat` become forwards;
`redirect`, `masquerade`, `snat` and verdicts are understood and not forwards (a redirect
targets the router itself). Skipped as a whole: filter/route chains, sets, maps, flowtables
and other stateful objects, except `ct helper` objects, whose type "sip" means SIP ALG on.
A rule in a walked chain with words this reader does not know becomes a ParseWarning.
"""
from __future__ import annotations

import re

from firewall.model import ParseError, PortRange, RouterConfig, SourceRef
from firewall.parsers._fields import NatMatch, try_ports, warn
from firewall.parsers._netfilter import NftChain, NftRule, collect, sip_helper_state
from firewall.parsers._text import numbered_lines

_BLOCK_WORDS = ("table", "chain", "set", "map", "flowtable", "counter", "quota", "ct", "limit",
                "secmark", "synproxy", "meter", "tunnel")
_SKIP_WORDS = ("flush", "include", "delete", "add", "#")
_HANDLE = re.compile(r"\s#\s*handle\s+(\d+)\s*$")
_VERDICTS = {"accept", "drop", "return", "continue", "notrack", "queue", "reject", "masquerade",
             "snat", "redirect"}


_PLAIN_WORD = re.compile(r'"([^"]*)"?|([^\s{"]+)')


def tokenize(stmt: str) -> list[str]:
    """Split a rule into words; a quoted string or a `{ ... }` set is one word (quotes dropped)."""
    if "{" not in stmt:                 # most rules: one regex pass, far faster than the loop below
        return [m.group(1) if m.group(2) is None else m.group(2) for m in _PLAIN_WORD.finditer(stmt)]
    tokens, i = [], 0
    while i < len(stmt):
        if stmt[i].isspace():
            i += 1
        elif stmt[i] == '"':
            end = stmt.find('"', i + 1)
            end = len(stmt) if end < 0 else end
            tokens.append(stmt[i + 1:end])
            i = end + 1
        elif stmt[i] == "{":
            depth, j = 0, i
            while j < len(stmt):
                depth += {"{": 1, "}": -1}.get(stmt[j], 0)
                if depth == 0:
                    break
                j += 1
            tokens.append(stmt[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(stmt) and not stmt[j].isspace() and stmt[j] not in '{"':
                j += 1
            tokens.append(stmt[i:j])
            i = j
    return tokens


def set_items(value: str) -> list[str]:
    """'{ 80, 443 }' -> ['80', '443']; a plain word -> [word]."""
    if value.startswith("{"):
        return [v.strip().strip('"') for v in value.strip("{} ").split(",") if v.strip()]
    return [value]


def ports_of(value: str) -> list[PortRange] | None:
    return try_ports(",".join(set_items(value)))


def _value(tokens: list[str], i: int) -> tuple[bool, str, int]:
    """(negated, value, next index) for `KEY [op] VALUE` starting at the value position."""
    negated = False
    if i < len(tokens) and tokens[i] in ("==", "!=", "eq", "ne"):
        negated = tokens[i] in ("!=", "ne")
        i += 1
    return negated, tokens[i] if i < len(tokens) else "", i + 1


def _iif(m: NatMatch, negated: bool, value: str) -> None:
    m.iif = ("!" if negated else "") + ",".join(set_items(value))


def _addr(m: NatMatch, field_name: str, negated: bool, value: str) -> None:
    items = [("!" if negated else "") + item for item in set_items(value)]
    if field_name == "saddr":
        m.saddr = items
    else:
        m.daddr = ",".join(items)


def _match_word(m: NatMatch, tokens: list[str], i: int) -> int:
    """Consume one match expression at tokens[i]; returns the next index (i if not a match)."""
    word, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
    if word in ("iifname", "iif") or (word == "meta" and nxt in ("iifname", "iif")):
        negated, value, j = _value(tokens, i + (2 if word == "meta" else 1))
        _iif(m, negated, value)
        return j
    if word in ("ip", "ip6") and nxt in ("saddr", "daddr"):
        negated, value, j = _value(tokens, i + 2)
        _addr(m, nxt, negated, value)
        return j
    if (word == "meta" and nxt == "l4proto") or (word in ("ip", "ip6") and nxt in ("protocol", "nexthdr")):
        negated, value, j = _value(tokens, i + 2)
        m.protos |= set() if negated else set(set_items(value))
        return j
    if word in ("tcp", "udp", "th", "sctp") and nxt == "dport":
        negated, value, j = _value(tokens, i + 2)
        ports = None if negated else ports_of(value)
        if ports is None:
            m.unknown.append(f"{word} dport {'!= ' if negated else ''}{value}")
        m.dports = ports
        if word in ("tcp", "udp"):
            m.protos.add(word)
        return j
    if word == "meta" and nxt in ("nfproto", "protocol"):
        return i + 3
    if word == "fib" and tokens[i + 1:i + 4] == ["daddr", "type", "local"]:
        return i + 4
    return i


def _skip_word(tokens: list[str], i: int) -> int:
    """Consume statements that neither match nor translate (counter, log, ct ..., comment)."""
    word = tokens[i]
    if word == "counter":
        return i + (5 if i + 1 < len(tokens) and tokens[i + 1] == "packets" else 1)
    if word == "log":
        i += 1
        while i + 1 < len(tokens) and tokens[i] in ("prefix", "level", "flags", "group", "snaplen"):
            i += 2
        return i
    if word == "ct":
        return i + (4 if i + 2 < len(tokens) and tokens[i + 2] == "set" else 3)
    if word in ("meta", "mark") and "set" in tokens[i:i + 3]:
        return tokens.index("set", i) + 2
    return i


def read_rule(tokens: list[str]) -> tuple[NatMatch, str, str]:
    """Parse one rule's words into its match, action and action argument."""
    m, action, target, i = NatMatch(), "", "", 0
    while i < len(tokens):
        j = _match_word(m, tokens, i)
        j = _skip_word(tokens, i) if j == i else j
        if j != i:
            i = j
            continue
        word = tokens[i]
        if word == "comment" and i + 1 < len(tokens):
            m.comment, i = tokens[i + 1], i + 2
        elif word == "dnat":
            i += 1
            while i < len(tokens) and tokens[i] in ("ip", "ip6", "to"):
                i += 1
            action, target = "dnat", tokens[i] if i < len(tokens) else ""
            i += 1
            while i < len(tokens) and tokens[i] in ("persistent", "random", "fully-random"):
                i += 1
        elif word == "xt" and tokens[i + 1:i + 3] == ["target", "DNAT"]:
            action, i = "xt_dnat", i + 3
        elif word in ("jump", "goto") and i + 1 < len(tokens):
            action, target, i = word, tokens[i + 1], i + 2
        elif word in _VERDICTS:
            action = action or ("redirect" if word == "redirect" else "other")
            i = len(tokens)                    # the rest are the verdict's own arguments
        else:
            m.unknown.append(word)
            i += 1
    return m, action or "other", target


def _logical_lines(text: str, command: str) -> list[tuple[int, str]]:
    """Join lines whose braces do not balance (multi-line sets) into one logical line."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in numbered_lines(text):
        line = raw if pending else raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        pending, start = (pending + " " + line.strip(), start) if pending else (line, number)
        quoted = re.sub(r'"[^"]*"', "", _HANDLE.sub("", pending))
        opens, closes = quoted.count("{"), quoted.count("}")
        if opens <= closes or quoted.rstrip().endswith("{") and opens == closes + 1:
            out.append((start, pending))
            pending = ""
    if pending:
        raise ParseError(f"{command or 'nft list ruleset'}: unbalanced braces from line {start} (truncated?)")
    return out


def parse_text(text: str, command: str = "nft list ruleset") -> RouterConfig:
    """Parse `nft list ruleset` / `nft -a list ruleset` / `fw4 print` text."""
    cfg = RouterConfig(platform="linux", commands=[command])
    state = _TextState(command)
    for number, line in _logical_lines(text, command):
        state.feed(number, line, cfg)
    if state.stack:
        raise ParseError(f"{command}: {len(state.stack)} block(s) not closed at the end (truncated?)")
    if not state.tables:
        raise ParseError(f"{command}: no 'table <family> <name> {{' block found; not nft ruleset output")
    collect(state.chains, cfg, command)
    cfg.sip_alg = sip_helper_state(state.helpers, state.xt_ct)
    return cfg


def _is_block(words: list[str]) -> bool:
    """`table ip x {`, `chain x {`, `ct helper x {`, `set x {`, ... (or a one-line block)."""
    size = 3 if words[0] == "table" or (words[0] == "ct" and words[1:2] != ["state"]) else 2
    return (words[0] in _BLOCK_WORDS and len(words) == size + 1 and words[-1].startswith("{"))


class _TextState:
    """Block stack and collected chains while reading the text form."""

    def __init__(self, command: str):
        self.command = command
        self.stack: list[tuple[str, ...]] = []
        self.defines: dict[str, str] = {}
        self.chains: dict[tuple[str, str, str], NftChain] = {}
        self.helpers: list[tuple[str, SourceRef]] = []
        self.tables = 0
        self.xt_ct = False

    def feed(self, number: int, line: str, cfg: RouterConfig) -> None:
        handle = _HANDLE.search(line)
        body = _HANDLE.sub("", line).strip()
        for name in sorted(self.defines, key=len, reverse=True):
            body = body.replace(f"${name}", self.defines[name])
        words = tokenize(body)
        top = self.stack[-1] if self.stack else ("",)
        if body == "}":
            if not self.stack:
                raise ParseError(f"{self.command}: line {number}: '}}' without an open block")
            self.stack.pop()
        elif top[0] == "chain":
            self._chain_line(number, line, words, handle, cfg)
        elif _is_block(words):
            self._open(number, words, cfg)
        elif words[0] == "define" and len(words) >= 4:
            self.defines[words[1]] = " ".join(words[3:])
        elif words[0] in _SKIP_WORDS or (words[0] == "table" and len(words) == 3):
            return
        elif top[0] == "helper" and words[:2] == ["type", "sip"]:
            self.helpers.append((top[1], SourceRef(self.command, number, None, f"ct helper {top[1]}", line.strip())))
        elif top[0] not in ("object", "helper"):
            warn(cfg, self.command, number, line, "unrecognised line outside a known block")

    def _open(self, number: int, words: list[str], cfg: RouterConfig) -> None:
        one_liner = words[-1].startswith("{") and words[-1].endswith("}") and len(words[-1]) > 1
        if words[0] == "table" and len(words) >= 3:
            self.tables += 1
            block: tuple[str, ...] = ("table", words[1], words[2])
        elif words[0] == "chain" and len(words) >= 2 and self.stack and self.stack[-1][0] == "table":
            _, family, table = self.stack[-1]
            self.chains[(family, table, words[1])] = NftChain(family, table, words[1])
            block = ("chain", family, table, words[1])
        elif words[:2] == ["ct", "helper"] and len(words) >= 3:
            block = ("helper", words[2])
        else:
            block = ("object", words[0])
        self.stack.append(block)
        if one_liner:
            for part in words[-1].strip("{}").split(";"):
                if part.strip():
                    self.feed(number, part.strip(), cfg)
            self.stack.pop()

    def _chain_line(self, number: int, line: str, words: list[str], handle: re.Match | None,
                    cfg: RouterConfig) -> None:
        _, family, table, name = self.stack[-1]
        chain = self.chains[(family, table, name)]
        if words[0] == "type" and "hook" in words[:-1]:
            chain.type, chain.hook = words[1], words[words.index("hook") + 1].rstrip(";")
            return
        if words[0] in ("policy", "comment", "devices", "device"):
            return
        self.xt_ct = self.xt_ct or "xt target CT" in line
        match, action, target = read_rule(words)
        rule_id = f"{family} {table} {name}" + (f" handle {handle.group(1)}" if handle else "")
        ref = SourceRef(self.command, number, None, rule_id, line.strip())
        chain.rules.append(NftRule(match, action, target, ref))
