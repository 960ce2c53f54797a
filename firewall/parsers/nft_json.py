"""nftables `nft -j list ruleset` (JSON, the authoritative live source) -> port-forwards.

Same semantics as the text reader in nftables.py (NAT prerouting chains and the chains they
jump to; `dnat` = forward; `ct helper` objects of type "sip" = SIP ALG on). Each forward's
SourceRef.rule_id is "<family> <table> <chain> handle <N>" because remediation deletes by
handle; SourceRef.text is the rule's JSON. Lines a remote shell adds around the JSON (e.g.
iptables-nft's "# Warning: table ip nat is managed by iptables-nft") become ParseWarnings.
Skipped as a whole: tables, sets, maps, elements, flowtables and non-NAT chains.
"""
from __future__ import annotations

import json
from typing import Any

from firewall.model import ParseError, PortRange, RouterConfig, SourceRef
from firewall.parsers._fields import NatMatch, try_ports, warn
from firewall.parsers._netfilter import NftChain, NftRule, collect, sip_helper_state
from firewall.parsers._text import numbered_lines

_QUIET = {"counter", "log", "limit", "ct helper", "mangle", "notrack", "accept", "drop",
          "return", "continue", "reject", "masquerade", "snat", "redirect", "queue", "set"}


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


def _items(right: Any) -> list[Any]:
    if isinstance(right, dict) and isinstance(right.get("set"), list):
        return right["set"]
    return [right]


def _text(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("prefix"), dict):
        return f"{value['prefix'].get('addr')}/{value['prefix'].get('len')}"
    if isinstance(value, dict) and isinstance(value.get("range"), list):
        return "-".join(str(v) for v in value["range"])
    return str(value)


def _ports(right: Any) -> list[PortRange] | None:
    return try_ports(",".join(_text(item) for item in _items(right)))


def _match(m: NatMatch, expr: dict[str, Any]) -> bool:
    """Apply one {"match": ...}; False when this reader does not know it."""
    left, right, negated = expr.get("left"), expr.get("right"), expr.get("op") == "!="
    bang = "!" if negated else ""
    meta = left.get("meta", {}).get("key") if isinstance(left, dict) and isinstance(left.get("meta"), dict) else None
    payload = left.get("payload") if isinstance(left, dict) and isinstance(left.get("payload"), dict) else {}
    proto, fld = payload.get("protocol"), payload.get("field")
    if meta in ("iifname", "iif"):
        m.iif = bang + ",".join(_text(v) for v in _items(right))
    elif meta == "l4proto" or (proto in ("ip", "ip6") and fld in ("protocol", "nexthdr")):
        m.protos |= set() if negated else {_text(v) for v in _items(right)}
    elif proto in ("ip", "ip6") and fld in ("saddr", "daddr"):
        values = [bang + _text(v) for v in _items(right)]
        if fld == "saddr":
            m.saddr = values
        else:
            m.daddr = ",".join(values)
    elif fld == "dport" and proto in ("tcp", "udp", "th", "sctp") and not negated:
        m.dports = _ports(right)
        m.protos |= {proto} if proto in ("tcp", "udp") else set()
        return m.dports is not None
    elif meta in ("nfproto", "protocol") or (isinstance(left, dict) and ("fib" in left or "ct" in left)):
        pass                                   # family, fib daddr type local, ct state/status
    else:
        return False
    return True


def _rule(obj: dict[str, Any], command: str, path: str) -> tuple[tuple[str, str, str], NftRule]:
    m, action, target = NatMatch(comment=str(obj.get("comment", ""))), "other", ""
    for expr in obj.get("expr") or []:
        key = next(iter(expr), "") if isinstance(expr, dict) else ""
        body = expr.get(key) if key else None
        if key == "match" and isinstance(body, dict) and _match(m, body):
            continue
        if key == "dnat" and isinstance(body, dict):
            port = body.get("port")
            action = "dnat"
            target = _text(body.get("addr")) + (f":{_text(port)}" if port is not None else "")
            if ":" in _text(body.get("addr")):
                target = f"[{_text(body.get('addr'))}]" + (f":{_text(port)}" if port is not None else "")
        elif key in ("jump", "goto") and isinstance(body, dict):
            action, target = key, str(body.get("target", ""))
        elif key == "xt" and isinstance(body, dict) and body.get("name") == "DNAT":
            action = "xt_dnat"
        elif key == "redirect":
            action = "redirect"
        elif key not in _QUIET:
            m.unknown.append(json.dumps(expr, separators=(",", ":"))[:120])
    family, table, chain = str(obj.get("family")), str(obj.get("table")), str(obj.get("chain"))
    rule_id = f"{family} {table} {chain} handle {obj.get('handle')}"
    ref = SourceRef(command, None, None, rule_id, json.dumps(obj, separators=(",", ":")))
    if m.unknown:
        m.unknown.insert(0, f"({path})")
    return (family, table, chain), NftRule(m, action, target, ref)


def parse_json(text: str, command: str = "nft -j list ruleset") -> RouterConfig:
    """Parse `nft -j list ruleset` output into forwards and the SIP ALG state."""
    cfg = RouterConfig(platform="linux", commands=[command])
    chains: dict[tuple[str, str, str], NftChain] = {}
    helpers: list[tuple[str, SourceRef]] = []
    xt_ct = False
    items = _decode(text, command, cfg)
    for index, item in enumerate(items):
        kind, obj = next(iter(item.items()))
        if not isinstance(obj, dict):
            continue
        if kind == "chain":
            key = (str(obj.get("family")), str(obj.get("table")), str(obj.get("name")))
            chains[key] = NftChain(*key, type=str(obj.get("type", "")), hook=str(obj.get("hook", "")))
        elif kind == "rule":
            key, rule = _rule(obj, command, f"$.nftables[{index}]")
            xt_ct = xt_ct or '"xt":{"type":"target","name":"CT"}' in rule.ref.text
            if key not in chains:
                raise ParseError(f"{command}: $.nftables[{index}] is a rule of undeclared chain {key}")
            chains[key].rules.append(rule)
        elif kind == "ct helper" and obj.get("type") == "sip":
            rule_id = f"{obj.get('family')} {obj.get('table')} ct helper {obj.get('name')} handle {obj.get('handle')}"
            helpers.append((str(obj.get("name")), SourceRef(command, None, None, rule_id, json.dumps(obj))))
    collect(chains, cfg, command)
    cfg.sip_alg = sip_helper_state(helpers, xt_ct)
    return cfg
