"""nftables `nft -j list ruleset` (JSON, the authoritative live source) -> port-forwards.

Same meaning as the text reader (nftables.py; both go through _nft_expr): NAT prerouting chains
and the chains they jump to, forward-hook chains for IPv6 pinholes, `ct helper` objects of type
"sip" = SIP ALG on. Maps appear as {"map": {"key", "data"}} inside a dnat's address, verdict
maps as {"vmap": ...}, concatenations as {"concat": [...]}, named sets and maps as "set"/"map"
objects (plus "element" objects) whose "elem" lists resolve "@name" references. Each forward's
SourceRef.rule_id is "<family> <table> <chain> handle <N>" because remediation deletes by handle;
SourceRef.text is the rule's JSON. Lines a remote shell adds around the JSON (e.g. iptables-nft's
"# Warning: table ip nat is managed by iptables-nft") become ParseWarnings.
"""
from __future__ import annotations

import json
from typing import Any

from firewall.model import ParseError, RouterConfig, SourceRef
from firewall.parsers._fields import warn
from firewall.parsers._netfilter import HelperObjects, HelperUse, NftChain, collect, fw4_zones, sip_helper_state
from firewall.parsers._nft_expr import Match, NamedSet, Sets, Stmt, rule_of
from firewall.parsers._text import numbered_lines

_QUIET = {"counter", "log", "limit", "ct helper", "mangle", "notrack", "quota", "flow", "set", "ct count",
          "masquerade", "snat", "tproxy", "synproxy", "reject", "queue", "secmark", "dup", "fwd", "xt"}
_VERDICTS = {"accept": "accept", "drop": "stop", "return": "stop", "continue": "other", "reject": "stop",
             "queue": "stop", "redirect": "redirect", "masquerade": "masquerade"}


def _decode(text: str, command: str, cfg: RouterConfig) -> list[dict[str, Any]]:
    start = text.find("{")
    if start < 0:
        raise ParseError(f"{command}: no JSON object in the output")
    try:
        doc, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{command}: invalid JSON: {exc}") from None
    except RecursionError:          # the decoder recurses per level: a hostile text is not a 500
        raise ParseError(f"{command}: JSON nested too deeply; not `nft -j list ruleset` output") from None
    for number, line in numbered_lines(text[:start] + "\n" + text[end:]):
        if line.strip():
            warn(cfg, command, None, line, "text outside the JSON document (shell or nft message)")
    items = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ParseError(f"{command}: JSON has no 'nftables' list; not `nft -j list ruleset` output")
    return [item for item in items if isinstance(item, dict) and item]


def _text(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("prefix"), dict):
        return f"{value['prefix'].get('addr')}/{value['prefix'].get('len')}"
    if isinstance(value, dict) and isinstance(value.get("range"), list):
        return "-".join(str(v) for v in value["range"])
    if isinstance(value, dict) and len(value) == 1:         # a verdict in a vmap: {"jump": {"target": "x"}}
        verb, arg = next(iter(value.items()))
        return f"{verb} {arg.get('target', '')}".strip() if isinstance(arg, dict) else str(verb)
    return str(value)


def _tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, dict) and isinstance(value.get("elem"), dict):
        value = value["elem"].get("val")                     # {"elem": {"val": ..., "timeout": ...}}
    if isinstance(value, dict) and isinstance(value.get("concat"), list):
        return tuple(_text(v) for v in value["concat"])
    return (_text(value),)


def _rows(right: Any) -> list[tuple[str, ...]] | str:
    if isinstance(right, str) and right.startswith("@"):
        return right
    if isinstance(right, dict) and isinstance(right.get("set"), list):
        return [_tuple(v) for v in right["set"]]
    if isinstance(right, list):                              # ct state ["established", "related"]
        return [(_text(v),) for v in right]
    return [_tuple(right)]


def _pairs(data: Any) -> list[tuple[tuple[str, ...], tuple[str, ...]]] | str:
    if isinstance(data, str):
        return data
    items = data.get("set") if isinstance(data, dict) else data
    return [(_tuple(k), _tuple(v)) for k, v in (p for p in items or [] if isinstance(p, list) and len(p) == 2)]


def _key(left: Any) -> tuple[str, ...] | None:
    """A selector expression as the text reader names it ('tcp dport', 'meta iifname', ...)."""
    if not isinstance(left, dict) or len(left) != 1:
        return None
    kind, body = next(iter(left.items()))
    if kind == "concat" and isinstance(body, list):
        parts = [_key(part) for part in body]
        return None if any(p is None for p in parts) else tuple(k for p in parts for k in p)  # type: ignore[union-attr]
    if not isinstance(body, dict):
        return None
    if kind == "meta":
        return (f"meta {body.get('key')}",)
    if kind == "payload" and "protocol" in body:
        return (f"{body.get('protocol')} {body.get('field')}",)
    if kind == "ct":
        return (" ".join(str(p) for p in ("ct", body.get("dir"), body.get("family"), body.get("key")) if p),)
    if kind == "fib":
        return (f"fib {' '.join(body.get('flags') or [])} {body.get('result')}",)
    if kind in ("numgen", "jhash", "symhash"):
        return (kind,)
    return None


def _expr(expr: dict[str, Any], matches: list[Match], stmts: list[Stmt], unknown: list[str]) -> None:
    key = next(iter(expr), "")
    body = expr.get(key)
    if key == "match" and isinstance(body, dict) and _key(body.get("left")) is not None:
        matches.append(Match(_key(body.get("left")) or (), body.get("op") == "!=", _rows(body.get("right"))))
    elif key == "dnat" and isinstance(body, dict):
        addr = body.get("addr")
        if isinstance(addr, dict) and isinstance(addr.get("map"), dict) and _key(addr["map"].get("key")):
            stmts.append(Stmt("dnat_map", key=_key(addr["map"].get("key")) or (),
                              elements=_pairs(addr["map"].get("data"))))
        else:
            text, port = _text(addr), body.get("port")
            text = f"[{text}]" if ":" in text and port is not None else text
            stmts.append(Stmt("dnat", text + (f":{_text(port)}" if port is not None else "")))
    elif key == "vmap" and isinstance(body, dict) and _key(body.get("key")):
        stmts.append(Stmt("vmap", key=_key(body.get("key")) or (), elements=_pairs(body.get("data"))))
    elif key in ("jump", "goto") and isinstance(body, dict):
        stmts.append(Stmt(key, str(body.get("target", ""))))
    elif key == "xt" and isinstance(body, dict) and body.get("name") == "DNAT":
        stmts.append(Stmt("xt_dnat"))
    elif key in _VERDICTS:
        stmts.append(Stmt(_VERDICTS[key]))
    elif key not in _QUIET:
        unknown.append(json.dumps(expr, separators=(",", ":"))[:160])


def _rule(obj: dict[str, Any], command: str, sets: Sets) -> tuple[tuple[str, str, str], Any]:
    matches: list[Match] = []
    stmts: list[Stmt] = []
    unknown: list[str] = []
    for expr in obj.get("expr") or []:
        if isinstance(expr, dict) and expr:
            _expr(expr, matches, stmts, unknown)
    family, table, chain = str(obj.get("family")), str(obj.get("table")), str(obj.get("chain"))
    rule_id = f"{family} {table} {chain} handle {obj.get('handle')}"
    ref = SourceRef(command, None, None, rule_id, json.dumps(obj, separators=(",", ":")))
    return (family, table, chain), rule_of(matches, stmts, sets, ref, str(obj.get("comment", "")), unknown)


def _named(obj: dict[str, Any], kind: str) -> NamedSet:
    elems = obj.get("elem")
    flags = obj.get("flags") or []
    why = "a dynamic set: its members change at run time" if "dynamic" in flags else "no elements listed"
    if not isinstance(elems, list):
        return NamedSet(None, why)
    if kind == "map":
        return NamedSet(_pairs(elems) if isinstance(_pairs(elems), list) else None, why)  # type: ignore[arg-type]
    return NamedSet([(_tuple(e), ()) for e in elems], why)


def _helper_uses(obj: dict[str, Any], key: tuple[str, str, str], ref: SourceRef, sets: Sets) -> list[HelperUse]:
    """A rule's {"ct helper": NAME} statements (or a map of names) as the helper names they assign."""
    uses = []
    for expr in obj.get("expr") or []:
        value = expr.get("ct helper", None) if isinstance(expr, dict) else None
        if value is None:
            continue
        names: list[str] | None = [value] if isinstance(value, str) and not value.startswith("@") else None
        data = value.get("map", {}).get("data") if isinstance(value, dict) and isinstance(value.get("map"), dict) else None
        pairs = _pairs(data) if data is not None else None
        if isinstance(pairs, str):
            named = sets.get(pairs.lstrip("@"))
            pairs = named.elements if named else None
        if pairs:
            names = [d[0] for _, d in pairs if d]
        uses.append(HelperUse(key[0], key[1], names, ref))
    return uses


def parse_json(text: str, command: str = "nft -j list ruleset") -> RouterConfig:
    """Parse `nft -j list ruleset` output into forwards, pinholes and the SIP ALG state."""
    cfg = RouterConfig(platform="linux", commands=[command])
    chains: dict[tuple[str, str, str], NftChain] = {}
    sets: dict[tuple[str, str], Sets] = {}
    helpers: HelperObjects = {}
    rules: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(_decode(text, command, cfg)):
        kind, obj = next(iter(item.items()))
        if not isinstance(obj, dict):
            continue
        table = (str(obj.get("family")), str(obj.get("table")))
        if kind == "chain":
            key = (*table, str(obj.get("name")))
            chains[key] = NftChain(*key, type=str(obj.get("type", "")), hook=str(obj.get("hook", "")))
        elif kind == "rule":
            rules.append((index, obj))
        elif kind in ("set", "map"):
            sets.setdefault(table, {})[str(obj.get("name"))] = _named(obj, kind)
        elif kind == "element" and isinstance(obj.get("elem"), list):
            named = sets.setdefault(table, {}).setdefault(str(obj.get("name")), NamedSet([]))
            named.elements = (named.elements or []) + [(_tuple(e), ()) for e in obj["elem"]]
        elif kind == "ct helper":
            rule_id = f"{obj.get('family')} {obj.get('table')} ct helper {obj.get('name')} handle {obj.get('handle')}"
            helpers[(*table, str(obj.get("name")))] = (str(obj.get("type")), SourceRef(command, None, None, rule_id,
                                                                                     json.dumps(obj)))
    xt_ct, uses = False, []
    for index, obj in rules:
        key, rule = _rule(obj, command, sets.get((str(obj.get("family")), str(obj.get("table"))), {}))
        uses += _helper_uses(obj, key, rule.ref, sets.get(key[:2], {}))
        xt_ct = xt_ct or '"xt":{"type":"target","name":"CT"}' in rule.ref.text
        if key not in chains:
            raise ParseError(f"{command}: $.nftables[{index}] is a rule of undeclared chain {key}")
        chains[key].rules.append(rule)
    collect(chains, cfg, command)
    fw4_zones(chains, cfg)
    cfg.sip_alg = sip_helper_state(helpers, uses, cfg, command, xt_ct)
    return cfg
