"""nftables text: `nft list ruleset`, `fw4 print` and hand-written /etc/nftables.conf -> port-forwards.

The whole grammar those use is read: `table [family] name {` blocks (no family = ip), `add
table|chain|rule|set|map|element` commands, `define`/`redefine` variables ($name substituted),
`include` (its file is not here: an Unparsed item, so the checks it touches cannot pass),
named sets and maps (their elements resolve `@name`), multi-line anonymous sets, maps and
verdict maps, concatenations, `;`-separated statements and `#` comments. Chains of `type nat
hook prerouting` and what they jump to give forwards, forward-hook chains IPv6 pinholes (see
_netfilter and _nft_expr for the meaning); `ct helper` objects of type "sip" mean SIP ALG on.
"""
from __future__ import annotations

import re

from firewall.model import ParseError, RouterConfig, SourceRef, Unparsed
from firewall.parsers._fields import warn
from firewall.parsers._netfilter import HelperObjects, HelperUse, NftChain, collect, fw4_zones, sip_helper_state
from firewall.parsers._nft_expr import NamedSet, Sets, rule_of
from firewall.parsers._nft_words import elements, key_at, read_words, split_top
from firewall.parsers._text import numbered_lines

FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
_OBJECTS = r"(?:chain|set|map|flowtable|counter|quota|limit|secmark|synproxy|tunnel|meter|ct\s+(?:helper|timeout|expectation))"
_BLOCK_HEAD = rf"^(?:(?:add|create)\s+)?(?:table(?:\s+(?:{'|'.join(FAMILIES)}))?\s+\S+|{_OBJECTS}\s+\S+)\s*\{{"
_OPENER = re.compile(_BLOCK_HEAD + "$")
# A block's head with more on its line (`chain x { type nat hook prerouting priority 0;`): a newline
# there ends a statement, so the rest is read as statements of the block, never glued to the next line.
_HEAD = re.compile(_BLOCK_HEAD)
_HANDLE = re.compile(r"#\s*handle\s+(\d+)\s*$")
_VARIABLE = re.compile(r"\$([A-Za-z_][\w-]*)")
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


def _strip_comment(line: str) -> tuple[str, str | None]:
    """The line without its `# ...` tail (outside quotes), and the handle number that tail gave."""
    if "#" not in line:
        return line, None
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            handle = _HANDLE.search(line[i:])
            return line[:i], handle.group(1) if handle else None
    return line, None


def _balance(text: str) -> int:
    body = re.sub(r'"[^"]*"', "", text)
    return body.count("{") - body.count("}")


def statements(text: str, command: str) -> list[tuple[int, int, str, str, str | None]]:
    """(first line, last line, statement, raw text, handle): brace-joined, `;`-split, comments removed."""
    out: list[tuple[int, int, str, str, str | None]] = []
    pending, raw, start, handle = "", [], 0, None
    for number, line in numbered_lines(text):
        body, found = _strip_comment(line)
        body = body.strip()
        if not body and not pending:
            continue
        pending, start = (f"{pending} {body}", start) if pending else (body, number)
        raw, handle = raw + [line.strip()], handle or found
        head = _HEAD.match(pending)
        while head and head.end() < len(pending) and _balance(pending) > 0:
            out.append((start, number, pending[:head.end()], "\n".join(raw), handle))
            pending = pending[head.end():].strip()
            head = _HEAD.match(pending)
        if _balance(pending) > 0 and not _OPENER.match(pending):
            continue
        parts = [pending] if _OPENER.match(pending) else split_top(pending, ";")
        out += [(start, number, part, "\n".join(raw), handle) for part in parts]
        pending, raw, handle = "", [], None
    if pending:
        raise ParseError(f"{command}: line {start}: braces opened here are never closed (truncated?); "
                         "expected a closing '}'")
    return out


class _Reader:
    """Block stack, tables, chains, named sets and variables while reading the text form."""

    def __init__(self, command: str, cfg: RouterConfig):
        self.command, self.cfg = command, cfg
        self.stack: list[tuple[str, ...]] = []
        self.defines: dict[str, str] = {}
        self.chains: dict[tuple[str, str, str], NftChain] = {}
        self.pending: list[tuple[NftChain, list[str], SourceRef]] = []
        self.sets: dict[tuple[str, str], Sets] = {}
        self.helper_objects: HelperObjects = {}
        self.helper_uses: list[HelperUse] = []
        self.includes: list[str] = []
        self.tables = 0
        self.xt_ct = False

    def feed(self, first: int, last: int, stmt: str, raw: str, handle: str | None) -> None:
        body = self._substitute(stmt.strip())
        words = tokenize(body)
        if not words:
            return
        top = self.stack[-1] if self.stack else ("",)
        if body == "}":
            if not self.stack:
                raise ParseError(f"{self.command}: line {first}: '}}' without an open block; expected a rule or "
                                 "'table <family> <name> {'")
            self.stack.pop()
        elif top[0] == "chain":
            self._chain_line(first, last, body, words, raw, handle)
        elif top[0] == "set":
            self._set_line(words)
        elif _OPENER.match(body) or (words[-1].startswith("{") and (words[0] in ("table", "chain", "set", "map")
                                                                     or words[:2] == ["ct", "helper"])):
            self._open(first, last, words, raw)
        elif words[0] in ("define", "redefine") and len(words) >= 4 and words[2] == "=":
            self.defines[words[1]] = body.split("=", 1)[1].strip()
        elif words[0] == "include":
            self.includes.append(" ".join(words[1:2]))
            self.cfg.unparsed.append(Unparsed(self.command, first, raw, "nat", f"include {' '.join(words[1:2])!r} is "
                                              "not in this output: its rules (NAT, forwards) were not read"))
        elif words[0] in ("add", "create", "insert", "replace") and len(words) > 2:
            self._command(first, last, words, raw, handle)
        elif words[0] in ("flush", "delete", "destroy", "undefine", "list", "reset") or words[0] == "table":
            return
        elif top[0] == "helper" and words[0] == "type" and len(words) > 1:
            _, family, table, name = top
            ref = SourceRef(self.command, first, last if last != first else None, f"ct helper {name}", raw)
            self.helper_objects.setdefault((family, table, name), (words[1], ref))
        elif top[0] not in ("object", "helper"):
            warn(self.cfg, self.command, first, raw, "unrecognised line outside a known block; expected "
                 "'table <family> <name> {', a chain, set or map block, 'define' or an 'add' command")

    def _substitute(self, body: str) -> str:
        if "$" not in body:
            return body
        for _ in range(8):                                   # defines may use defines
            body = _VARIABLE.sub(lambda m: self.defines.get(m.group(1), m.group(0)), body)
            if not any(m.group(1) in self.defines for m in _VARIABLE.finditer(body)):
                break
        return body

    def _table(self, family: str, name: str) -> tuple[str, str, str]:
        self.tables += 1
        self.sets.setdefault((family, name), {})
        return ("table", family, name)

    def _open(self, first: int, last: int, words: list[str], raw: str) -> None:
        words = words[1:] if words[0] in ("add", "create") else words
        one_liner = words[-1].startswith("{") and words[-1].endswith("}") and len(words[-1]) > 1
        table = next((b for b in reversed(self.stack) if b[0] == "table"), None)
        if words[0] == "table":
            block = self._table(words[1] if len(words) > 3 else "ip", words[-2])
        elif words[0] == "chain" and table:
            block = self._chain(table[1], table[2], words[1])
        elif words[0] in ("set", "map") and table:
            block = ("set", table[1], table[2], words[1])
            self.sets[(table[1], table[2])][words[1]] = NamedSet(None, "no elements listed")
        elif words[:2] == ["ct", "helper"] and len(words) >= 3:
            block = ("helper", *(table[1:] if table else ("", "")), words[2])
        else:
            block = ("object", words[0])
        self.stack.append(block)
        if one_liner:
            for part in split_top(words[-1][1:-1], ";"):
                self.feed(first, last, part, raw, None)
            self.stack.pop()

    def _chain(self, family: str, table: str, name: str) -> tuple[str, ...]:
        self.chains.setdefault((family, table, name), NftChain(family, table, name))
        return ("chain", family, table, name)

    def _set_line(self, words: list[str]) -> None:
        _, family, table, name = self.stack[-1]
        named = self.sets[(family, table)][name]
        if words[0] == "elements" and len(words) >= 3:
            named.elements = (named.elements or []) + elements(words[2])
        elif words[0] == "flags" and "dynamic" in " ".join(words):
            named.why = "a dynamic set: its members change at run time"

    def _chain_line(self, first: int, last: int, body: str, words: list[str], raw: str, handle: str | None) -> None:
        _, family, table, name = self.stack[-1]
        chain = self.chains[(family, table, name)]
        if words[0] == "type" and "hook" in words[:-1]:
            chain.type, chain.hook = words[1], words[words.index("hook") + 1]
        elif words[0] not in ("policy", "comment", "devices", "device", "priority"):
            self._rule(chain, first, last, body, words, raw, handle)

    def _rule(self, chain: NftChain, first: int, last: int, body: str, words: list[str], raw: str,
              handle: str | None) -> None:
        self.xt_ct = self.xt_ct or "xt target CT" in body
        rule_id = f"{chain.family} {chain.table} {chain.name}" + (f" handle {handle}" if handle else "")
        ref = SourceRef(self.command, first, last if last != first else None, rule_id, raw)
        self.pending.append((chain, words, ref))

    def _command(self, first: int, last: int, words: list[str], raw: str, handle: str | None) -> None:
        """`add table|chain|rule|set|map|element [family] table ...` (the scripting form of a ruleset)."""
        what, rest = words[1], words[2:]
        family, rest = (rest[0], rest[1:]) if rest and rest[0] in FAMILIES else ("ip", rest)
        if what == "table" and rest:
            self._table(family, rest[0])
        elif what == "chain" and len(rest) >= 2:
            self.stack.append(self._chain(family, rest[0], rest[1]))
            for part in split_top(rest[2][1:-1], ";") if len(rest) > 2 and rest[2].startswith("{") else []:
                self.feed(first, last, part, raw, handle)
            self.stack.pop()
        elif what == "rule" and len(rest) >= 3:
            chain = self.chains.get((family, rest[0], rest[1]))
            if chain is None:
                raise ParseError(f"{self.command}: line {first}: rule for chain {family} {rest[0]} {rest[1]}, "
                                 "which is not declared before it; expected 'add chain' first")
            tail = rest[2:]
            while len(tail) > 2 and tail[0] in ("index", "position", "handle"):
                tail = tail[2:]
            self._rule(chain, first, last, " ".join(tail), tail, raw, handle)
        elif what == "ct" and words[2:3] == ["helper"] and len(words) > 4:
            self._add_helper(first, last, words[3:], raw, handle)
        elif what in ("set", "map", "element") and len(rest) >= 2:
            named = self.sets.setdefault((family, rest[0]), {}).setdefault(rest[1], NamedSet(None, "no elements"))
            body = rest[2] if len(rest) > 2 else ""
            inner = re.search(r"elements\s*=\s*(\{.*\})", body) if what != "element" else None
            listed = elements(inner.group(1) if inner else body) if (inner or what == "element") and body else []
            named.elements = (named.elements or []) + listed if listed or named.elements else named.elements
        else:
            warn(self.cfg, self.command, first, raw, f"'{words[0]} {what}' command not understood")

    def _add_helper(self, first: int, last: int, rest: list[str], raw: str, handle: str | None) -> None:
        """`add ct helper [family] table name { type "sip" protocol udp; }`."""
        family, rest = (rest[0], rest[1:]) if rest[0] in FAMILIES else ("ip", rest)
        if len(rest) < 3 or not rest[2].startswith("{"):
            warn(self.cfg, self.command, first, raw, "'add ct helper' without a '{ type ... }' body")
            return
        self.stack.append(("helper", family, rest[0], rest[1]))
        for part in split_top(rest[2][1:-1], ";"):
            self.feed(first, last, part, raw, handle)
        self.stack.pop()

    def _helper_use(self, chain: NftChain, words: list[str], ref: SourceRef) -> None:
        """A rule's `ct helper set NAME` (or `... set KEY map {k : NAME}` / `map @m`) as the names it assigns."""
        at = next((i for i in range(len(words) - 3) if words[i:i + 3] == ["ct", "helper", "set"]), None)
        if at is None:
            return
        value, key = words[at + 3], key_at(words, at + 3)
        names: list[str] | None = [value]
        if key is not None:
            table = words[key[1] + 1] if words[key[1]:key[1] + 1] == ["map"] and key[1] + 1 < len(words) else ""
            named = self.sets.get((chain.family, chain.table), {}).get(table[1:]) if table.startswith("@") else None
            listed = elements(table) if table.startswith("{") else named.elements if named else None
            names = [data[0] for _, data in listed if data] if listed else None
        elif value.startswith(("{", "@", "$")):
            names = None
        self.helper_uses.append(HelperUse(chain.family, chain.table, names, ref))

    def finish(self) -> None:
        for chain, words, ref in self.pending:
            self._helper_use(chain, words, ref)
            matches, stmts, comment, unknown = read_words(words)
            unknown += [f"${m.group(1)} (undefined variable)" for m in _VARIABLE.finditer(" ".join(words))]
            chain.rules.append(rule_of(matches, stmts, self.sets.get((chain.family, chain.table), {}), ref,
                                       comment, unknown))


def parse_text(text: str, command: str = "nft list ruleset") -> RouterConfig:
    """Parse `nft list ruleset` / `nft -a list ruleset` / `fw4 print` / nftables.conf text."""
    cfg = RouterConfig(platform="linux", commands=[command])
    reader = _Reader(command, cfg)
    for item in statements(text, command):
        reader.feed(*item)
    if reader.stack:
        raise ParseError(f"{command}: {len(reader.stack)} block(s) not closed at the end (truncated?); "
                         "expected a closing '}'")
    if not reader.tables:
        raise ParseError(f"{command}: no 'table <family> <name> {{' block found; not nft ruleset output")
    reader.finish()
    collect(reader.chains, cfg, command)
    fw4_zones(reader.chains, cfg)
    cfg.sip_alg = sip_helper_state(reader.helper_objects, reader.helper_uses, cfg, command, reader.xt_ct,
                                   reader.includes)
    return cfg
