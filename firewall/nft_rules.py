"""What a Linux nftables rule IS, not where it sits: content, fingerprints and places over `nft -j list ruleset`.

A rule's content is its family, table, chain, expressions and comment: what a reload keeps. Its handle
is where it sits right now, and a reload (`nft -f`) renumbers it, so a change names rules by content and
looks their handles up just before it acts. A place is given by neighbours: the rules of the original
chain that are still there, found by content.

Edits (what a change does, as stored in its plan):
    {"op": "delete", "rule": content}                      remove the rule
    {"op": "replace", "rule": content, "with": content}    rewrite it in place (a source restriction)
    {"op": "delete_object", "object": {"ct helper": body}} remove a table object (the SIP helper)
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")     # family/table/chain/object names this code lets near a shell
OBJECT_KINDS = ("ct helper",)


class RulesetError(ValueError):
    """The text is not `nft -j list ruleset` output this module understands."""


@dataclass
class Entry:
    kind: str                     # "table", "chain", "rule", "ct helper", "set", ...
    body: dict[str, Any]          # without its handle
    handle: int | None = None

    @property
    def item(self) -> dict[str, Any]:
        return {self.kind: self.body}


@dataclass
class Ruleset:
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def parse(cls, nft_json: str) -> "Ruleset":
        start = nft_json.find("{")
        try:
            doc = json.JSONDecoder().raw_decode(nft_json, max(start, 0))[0]
        except (json.JSONDecodeError, RecursionError) as exc:
            raise RulesetError(f"not nft JSON: {exc}") from None
        items = doc.get("nftables") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise RulesetError("no 'nftables' list: not `nft -j list ruleset` output")
        entries = []
        for item in items:
            if not isinstance(item, dict) or len(item) != 1 or "metainfo" in item:
                continue
            kind, obj = next(iter(item.items()))
            if isinstance(obj, dict):
                body = {k: _stateless(v) if k == "expr" else v for k, v in obj.items() if k != "handle"}
                entries.append(Entry(kind, body, obj.get("handle")))
        return cls(entries)

    def normalized(self) -> list[dict[str, Any]]:
        return [e.item for e in self.entries]

    def fingerprint(self) -> str:
        return digest(self.normalized())

    def rules(self, chain: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == "rule" and chain_of(e.body) == chain]

    def has_chain(self, chain: str) -> bool:
        return any(e.kind == "chain" and chain_of(e.body, "name") == chain for e in self.entries)

    def find(self, item: dict[str, Any]) -> list[Entry]:
        """The entries whose content is `item` ({kind: body})."""
        kind, body = next(iter(item.items()))
        wanted = canon(body)
        return [e for e in self.entries if e.kind == kind and canon(e.body) == wanted]


def _stateless(expr: Any) -> Any:
    """Anonymous counters' and quotas' running values are state, not content (a re-added rule starts at 0)."""
    if not isinstance(expr, list):
        return expr
    return [{key: None} if isinstance(e, dict) and len(e) == 1 and (key := next(iter(e))) == "counter"
            and isinstance(e[key], dict) else e for e in expr]


def canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def digest(value: Any) -> str:
    return hashlib.sha256(canon(value).encode()).hexdigest()


def chain_of(body: dict[str, Any], key: str = "chain") -> str:
    return f"{body.get('family')} {body.get('table')} {body.get(key)}"


def rule_content(rule_json: str | dict[str, Any]) -> dict[str, Any]:
    """A rule's content from its JSON (the `rule` object of nft -j, as a parser's SourceRef.text keeps it)."""
    obj = json.loads(rule_json) if isinstance(rule_json, str) else rule_json
    return {k: v for k, v in obj.items() if k != "handle"}


def safe_names(*names: Any) -> None:
    """Refuse a name that could be read as anything but a name by a shell or by nft."""
    bad = [n for n in names if not isinstance(n, str) or not NAME.match(n)]
    if bad:
        raise RulesetError(f"name(s) {bad!r} are not plain nft identifiers; refusing to put them in a command")


def edit_chains(edits: list[dict[str, Any]]) -> list[str]:
    """The chains an edit list touches, in first-touched order."""
    seen: list[str] = []
    for edit in edits:
        if "rule" in edit and chain_of(edit["rule"]) not in seen:
            seen.append(chain_of(edit["rule"]))
    return seen


def scope_fingerprints(ruleset: Ruleset, edits: list[dict[str, Any]]) -> dict[str, str]:
    """Per touched chain (and object), the fingerprint of its contents: what a plan depends on."""
    scope = {chain: digest([e.body for e in ruleset.rules(chain)]) for chain in edit_chains(edits)}
    for edit in edits:
        if "object" in edit:
            kind, body = next(iter(edit["object"].items()))
            scope[f"{kind} {body.get('family')} {body.get('table')} {body.get('name')}"] = digest(
                [e.body for e in ruleset.find(edit["object"])])
    return scope


def chain_diff(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Rules of one chain, before and after, as short texts (comment, else the expression JSON)."""
    def short(rule):
        return (f"comment {rule['comment']!r}: " if rule.get("comment") else "") + canon(rule.get("expr"))[:300]
    return {"before": [short(r) for r in before], "after": [short(r) for r in after]}
