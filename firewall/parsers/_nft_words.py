"""The words of one nftables rule in text form -> Match and Stmt records (see _nft_expr).

Selectors are read as nft writes them: `ip saddr`, `tcp dport`, `meta l4proto` or bare meta
keys (`iifname`), `ct state`, `fib daddr type`, `numgen inc mod 2`, joined by ` . ` into
concatenations. Values are a word, a `{ ... }` set (items split on top-level commas, map
elements on ` : `, concatenated items on ` . `) or `@name`. Statements: dnat/snat (with or
without `ip`/`ip6`, `to`, `addr . port`, `... map {...}`), redirect, masquerade, verdicts,
jump/goto, verdict maps, and the ones that neither match nor translate (counter, log, limit,
`... set ...`, comment, flow add, quota). Any other word is reported as not understood.
"""
from __future__ import annotations

import re

from firewall.parsers._nft_expr import Match, Stmt

_PAYLOAD = {
    "ip": {"saddr", "daddr", "protocol", "version", "dscp", "length", "ttl", "id", "frag-off", "checksum",
           "hdrlength", "ecn"},
    "ip6": {"saddr", "daddr", "nexthdr", "version", "dscp", "hoplimit", "flowlabel", "length", "ecn"},
    "tcp": {"dport", "sport", "flags", "sequence", "window", "checksum", "option"},
    "udp": {"dport", "sport", "length", "checksum"}, "th": {"dport", "sport"},
    "sctp": {"dport", "sport"}, "udplite": {"dport", "sport"}, "dccp": {"dport", "sport", "type"},
    "icmp": {"type", "code"}, "icmpv6": {"type", "code"}, "ether": {"saddr", "daddr", "type"},
    "vlan": {"id", "type", "pcp"}, "arp": {"operation"},
}
_META = {"iifname", "oifname", "iif", "oif", "mark", "l4proto", "nfproto", "protocol", "pkttype", "skuid",
         "skgid", "cpu", "iifgroup", "oifgroup", "cgroup", "iiftype", "oiftype", "length", "priority",
         "iifkind", "oifkind", "ibrname", "obrname", "secpath", "time", "day", "hour", "random", "nftrace"}
_BARE_META = {"iifname", "oifname", "iif", "oif", "mark", "pkttype", "skuid", "skgid", "cpu", "iifgroup",
              "oifgroup", "cgroup"}
_CT = {"state", "status", "mark", "direction", "helper", "zone", "label", "expiration", "l3proto", "protocol",
       "count", "id", "bytes", "packets"}
_OPS = {"==": False, "eq": False, "!=": True, "ne": True, "in": False}
_VERDICTS = {"accept", "drop", "return", "continue", "queue", "reject", "notrack"}
_FLAGS = {"persistent", "random", "fully-random"}
_QUIET_ARGS = {"prefix", "level", "flags", "group", "snaplen", "queue-threshold", "name", "rate", "over",
               "burst", "with", "num", "to", "bypass", "fanout", "until", "used", "packets", "bytes"}


def split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside quotes and braces."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{(":
            depth += 1
        elif not quoted and ch in "})":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    return [p.strip() for p in parts + [text[start:]] if p.strip()]


_ELEMENT_EXTRAS = re.compile(r"\s+(timeout|expires|counter|comment|packets|bytes)\b.*$")


def elements(value: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """'{ 80 : 10.0.0.5 . 80, 443 }' -> [(('80',), ('10.0.0.5', '80')), (('443',), ())]."""
    body = value.strip()
    body = body[1:-1] if body.startswith("{") and body.endswith("}") else body
    out = []
    for item in split_top(body, ","):
        item = _ELEMENT_EXTRAS.sub("", item)
        key, _, data = item.partition(" : ") if " : " in item else (item, "", "")
        out.append((_concat(key), _concat(data) if data else ()))
    return out


def _concat(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('"') for part in re.split(r"\s+\.\s+", text.strip()))


def selector(tokens: list[str], i: int) -> tuple[str, int] | None:
    """The selector starting at tokens[i] ('tcp dport', 'meta iifname', ...) and the index after it."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if word in _PAYLOAD and nxt in _PAYLOAD[word]:
        return f"{word} {nxt}", i + 2
    if word == "meta" and nxt in _META:
        return f"meta {nxt}", i + 2
    if word in _BARE_META:
        return f"meta {word}", i + 1
    if word == "ct" and nxt in ("original", "reply") and i + 3 < len(tokens):
        return f"ct {nxt} {tokens[i + 2]} {tokens[i + 3]}", i + 4
    if word == "ct" and nxt in _CT and tokens[i + 2:i + 3] != ["set"]:
        return f"ct {nxt}", i + 2
    if word == "fib":
        j = i + 1
        while j < len(tokens) and tokens[j] not in ("type", "oif", "oifname"):
            j += 1
        return "fib " + " ".join(t for t in tokens[i + 1:j] if t != ".") + f" {tokens[j] if j < len(tokens) else ''}", j + 1
    if word in ("numgen", "jhash", "symhash"):
        j = i + 1
        while j < len(tokens) and tokens[j] not in ("map", "vmap") and not tokens[j].startswith("{"):
            j += 1
        return word, j
    return None


def key_at(tokens: list[str], i: int) -> tuple[tuple[str, ...], int] | None:
    """A selector or a concatenation of selectors (`ip daddr . tcp dport`)."""
    first = selector(tokens, i)
    if first is None:
        return None
    parts, j = [first[0]], first[1]
    while j + 1 < len(tokens) and tokens[j] == ".":
        more = selector(tokens, j + 1)
        if more is None:
            break
        parts.append(more[0])
        j = more[1]
    return tuple(parts), j


def _values(value: str) -> list[tuple[str, ...]] | str:
    if value.startswith("@"):
        return value
    if value.startswith("{"):
        return [key for key, _ in elements(value)]
    return [(value,)]


def read_words(tokens: list[str]) -> tuple[list[Match], list[Stmt], str, list[str]]:
    """A rule's matches, its statements that matter, its comment and the words not understood."""
    matches: list[Match] = []
    stmts: list[Stmt] = []
    comment, unknown, i = "", [], 0
    while i < len(tokens):
        word = tokens[i]
        key = key_at(tokens, i)
        if key is not None:
            i = _match(tokens, key, matches, stmts, unknown)
        elif word == "comment" and i + 1 < len(tokens):
            comment, i = tokens[i + 1], i + 2
        elif word in ("dnat", "snat"):
            i = _nat(tokens, i, stmts, unknown)
        elif word in ("redirect", "masquerade"):
            stmts.append(Stmt(word))
            i = _skip_args(tokens, i + 1)
        elif word in ("jump", "goto") and i + 1 < len(tokens):
            stmts.append(Stmt(word, tokens[i + 1]))
            i += 2
        elif word in _VERDICTS:
            stmts.append(Stmt("accept" if word == "accept" else "other" if word == "continue" else "stop"))
            i = _skip_args(tokens, i + 1)
        elif word == "xt" and tokens[i + 1:i + 3] == ["target", "DNAT"]:
            stmts.append(Stmt("xt_dnat"))
            i += 3
        else:
            j = _quiet(tokens, i)
            if j == i:
                unknown.append(word)
                j = i + 1
            i = j
    return matches, stmts, comment, unknown


def _match(tokens: list[str], key: tuple[tuple[str, ...], int], matches: list[Match], stmts: list[Stmt],
           unknown: list[str]) -> int:
    parts, j = key
    if j < len(tokens) and tokens[j] == "set":          # `meta mark set 1`, `ct helper set "sip"`: a statement
        return _skip_value(tokens, j + 1)
    if j < len(tokens) and tokens[j] == "vmap" and j + 1 < len(tokens):
        value = tokens[j + 1]
        stmts.append(Stmt("vmap", key=parts, elements=value if value.startswith("@") else elements(value)))
        return j + 2
    negated = False
    if j < len(tokens) and tokens[j] in _OPS:
        negated, j = _OPS[tokens[j]], j + 1
    elif j < len(tokens) and tokens[j] in ("<", ">", "<=", ">=", "lt", "gt", "le", "ge", "&", "|", "^"):
        unknown.append(" ".join(parts) + f" {tokens[j]}")
        return _skip_value(tokens, j + 1)
    if j >= len(tokens):
        unknown.append(" . ".join(parts) + " without a value")
        return j
    value, j = tokens[j], j + 1
    while j + 1 < len(tokens) and tokens[j] == "." and len(parts) > 1:      # `ip daddr . tcp dport 10.0.0.1 . 22`
        value, j = f"{value} . {tokens[j + 1]}", j + 2
    matches.append(Match(parts, negated, [_concat(value)] if " . " in value and value[0] not in "{@" else _values(value)))
    return j


def _nat(tokens: list[str], i: int, stmts: list[Stmt], unknown: list[str]) -> int:
    """dnat|snat [ip|ip6] [addr . port] [to] (TARGET | KEY map {...} | KEY map @name) [flags]."""
    kind, i = tokens[i], i + 1
    if tokens[i:i + 1] in (["ip"], ["ip6"]) and tokens[i + 1:i + 2] in (["to"], ["addr"], ["prefix"]):
        i += 1
    i += 3 if tokens[i:i + 3] == ["addr", ".", "port"] else 1 if tokens[i:i + 1] in (["addr"], ["prefix"]) else 0
    i += 1 if tokens[i:i + 1] == ["to"] else 0
    key = key_at(tokens, i) if i < len(tokens) else None
    if key is not None and key[1] + 1 < len(tokens) and tokens[key[1]] == "map":
        value = tokens[key[1] + 1]
        table = value if value.startswith("@") else elements(value)
        stmts.append(Stmt(f"{kind}_map" if kind == "dnat" else "other", key=key[0], elements=table))
        i = key[1] + 2
    elif i < len(tokens):
        stmts.append(Stmt(kind if kind == "dnat" else "other", tokens[i]))
        i += 1
    else:
        unknown.append(f"{kind} without a target")
    while i < len(tokens) and tokens[i].strip(",") in _FLAGS:
        i += 1
    return i


def _skip_args(tokens: list[str], i: int) -> int:
    """Arguments of a statement (`to :8080`, `with icmpx type port-unreachable`, `num 1 bypass`)."""
    while i < len(tokens) and tokens[i] not in ("comment", "counter", "log") and key_at(tokens, i) is None \
            and tokens[i] not in _VERDICTS and tokens[i] not in ("jump", "goto", "dnat", "snat", "redirect"):
        i += 1
    return i


def _skip_value(tokens: list[str], i: int) -> int:
    i += 1
    while i + 1 < len(tokens) and tokens[i] in (".", "map", "|", "&", "^", "and", "or", "<<", ">>"):
        i += 2
    return i


def _quiet(tokens: list[str], i: int) -> int:
    """Statements that neither match nor translate; the index after them (i when not one)."""
    word = tokens[i]
    if word in ("counter", "log", "limit", "quota", "notrack"):
        i += 1
        while i < len(tokens) and (tokens[i] in _QUIET_ARGS or tokens[i - 1] in _QUIET_ARGS
                                   or tokens[i] in ("second", "minute", "hour", "day", "week", "mbytes", "kbytes")
                                   or re.fullmatch(r"\d+(/\w+)?", tokens[i])):
            i += 1
        return i
    if word == "flow" and i + 2 < len(tokens) and tokens[i + 1] in ("add", "offload"):
        return i + 3
    if word in ("add", "update", "delete") and i + 2 < len(tokens) and tokens[i + 1].startswith("@"):
        return i + 3
    if word.startswith("@") or word == "set" and i + 2 < len(tokens) and tokens[i + 1] in ("add", "update"):
        return i + 3 if word == "set" else i + 3
    if word == "ct" and tokens[i + 1:i + 2] and tokens[i + 2:i + 3] == ["set"]:
        return _skip_value(tokens, i + 3)
    return i
