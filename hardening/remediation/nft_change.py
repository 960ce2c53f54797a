"""A Linux router change as content: render it against the router's state of the moment, forwards or back.

`forward` locates every planned rule by content (exactly once, else Conflict) and renders the edit with
the handles it has NOW. `backward` puts back exactly what this change took away, where it was: before the
next rule of the original chain that is still there, else after the previous one; rules added or removed
by hand since stay as they are. Both return the ruleset they expect afterwards, so the read-back can prove
that exactly this happened and nothing else. Commands are nft JSON (`nft -j -f`): one transaction.
"""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from firewall.nft_rules import Entry, Ruleset, canon, chain_diff, chain_of, scope_fingerprints

_ORDER = {"delete_object": 2, "delete": 1, "replace": 0}


class Conflict(Exception):
    """The router is not in a state this change can be applied to (or undone on) exactly."""

    def __init__(self, message: str, diff: dict[str, Any]):
        super().__init__(message)
        self.diff = diff


@dataclass
class Rendered:
    commands: list[dict[str, Any]]
    expected: Ruleset
    notes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    guesses: list[str] = field(default_factory=list)       # placed without a neighbour to go by (lenient)

    def document(self) -> dict[str, Any]:
        return {"nftables": self.commands}


def describe(body: dict[str, Any]) -> str:
    label = f" {body['comment']!r}" if body.get("comment") else ""
    return f"rule{label} of chain {chain_of(body)}"


def _address(body: dict[str, Any], handle: int) -> dict[str, Any]:
    return {"family": body["family"], "table": body["table"], "chain": body["chain"], "handle": handle}


def _one(state: Ruleset, item: dict[str, Any], what: str, problems: list[str]) -> Entry | None:
    found = state.find(item)
    if len(found) != 1:
        problems.append(f"{what} {'is gone or changed' if not found else f'is there {len(found)} times'}")
        return None
    return found[0]


def forward(edits: list[dict[str, Any]], current: Ruleset) -> Rendered:
    """The apply, against `current`; Conflict when a planned rule or object is not there exactly once."""
    state = Ruleset(copy.deepcopy(current.entries))
    commands, problems = [], []
    for edit in sorted(edits, key=lambda e: _ORDER[e["op"]]):
        if edit["op"] == "delete_object":
            kind, body = next(iter(edit["object"].items()))
            entry = _one(state, edit["object"], f"{kind} {body.get('name')!r}", problems)
            if entry:
                commands.append({"delete": {kind: {k: body[k] for k in ("family", "table", "name")}}})
                state.entries.remove(entry)
            continue
        entry = _one(state, {"rule": edit["rule"]}, describe(edit["rule"]), problems)
        if entry is None:
            continue
        if edit["op"] == "delete":
            commands.append({"delete": {"rule": _address(entry.body, entry.handle)}})
            state.entries.remove(entry)
        else:
            _swap(entry, edit["with"], commands, state)
    if problems:
        raise Conflict("the router changed since the plan: " + "; ".join(problems), {"problems": problems})
    return Rendered(commands, state)


def backward(edits: list[dict[str, Any]], original: dict[str, list[dict[str, Any]]], current: Ruleset,
             *, lenient: bool = False) -> Rendered:
    """Undo exactly `edits` on `current`, each rule at its original place among the rules still there.

    `original` is each touched chain's rules as planned. A place that cannot be found (the chain gone,
    no neighbour left, a restricted rule changed by hand) is a conflict: `lenient` (the automatic revert)
    skips what cannot be put anywhere and appends what has lost its neighbours, noting both."""
    out = Rendered([], Ruleset(copy.deepcopy(current.entries)))
    for edit in edits:
        if edit["op"] == "delete_object":
            _object_back(edit["object"], out)
    for edit in edits:
        if edit["op"] == "replace":
            _replace_back(edit, out, lenient)
    for chain, rules in original.items():
        wanted = [i for i, rule in enumerate(rules) if any(
            e["op"] == "delete" and canon(e["rule"]) == canon(rule) for e in edits)]
        if wanted:
            _reinsert(chain, rules, wanted, out, lenient)
    return out


def _object_back(item: dict[str, Any], out: Rendered) -> None:
    kind, body = next(iter(item.items()))
    if out.expected.find(item):
        out.notes.append(f"{kind} {body.get('name')!r} is already back")
        return
    out.commands.append({"add": {kind: body}})
    out.expected.entries.append(Entry(kind, copy.deepcopy(body)))


def _replace_back(edit: dict[str, Any], out: Rendered, lenient: bool) -> None:
    found = out.expected.find({"rule": edit["with"]})
    if len(found) == 1:
        _swap(found[0], edit["rule"], out.commands, out.expected)
    elif len(out.expected.find({"rule": edit["rule"]})) == 1:
        out.notes.append(f"{describe(edit['rule'])} is already back as it was")
    else:
        out.conflicts.append(f"{describe(edit['rule'])}: the rewritten rule is gone or changed by hand "
                             f"({len(found)} found); it is left as it is")


def _swap(entry: Entry, body: dict[str, Any], commands: list[dict[str, Any]], state: Ruleset) -> None:
    """Rewrite a rule in place as the new one inserted before it and it deleted, in the same transaction
    (nft 1.0.6 aborts on `replace rule` with an interval set such as `ip saddr { 198.51.100.0/24, ... }`)."""
    commands.append({"insert": {"rule": {**body, "handle": entry.handle}}})
    commands.append({"delete": {"rule": _address(entry.body, entry.handle)}})
    state.entries[state.entries.index(entry)] = Entry("rule", copy.deepcopy(body))


def _reinsert(chain: str, rules: list[dict[str, Any]], wanted: list[int], out: Rendered, lenient: bool) -> None:
    if not out.expected.has_chain(chain):
        out.conflicts.append(f"chain {chain} is gone: {len(wanted)} rule(s) cannot be put back")
        return
    counts = Counter(canon(e.body) for e in out.expected.rules(chain))
    placed: dict[int, Entry] = {}
    for i in wanted:
        if counts[canon(rules[i])]:
            out.notes.append(f"{describe(rules[i])} is already on the router")
            continue
        state = out.expected.rules(chain)
        anchor = _present(rules, [j for j in range(i + 1, len(rules)) if j not in wanted], state, counts)
        if anchor is not None:
            _insert_before(rules[i], anchor, out)
            continue
        previous = _previous(rules, i, wanted, placed, state, counts)
        if previous is None and state and not lenient:
            out.conflicts.append(f"{describe(rules[i])}: none of its neighbours is left in the chain "
                                 "(rules there were all added since); cannot tell its place")
            continue
        if previous is None and state:
            out.guesses.append(f"{describe(rules[i])}: no neighbour left; appended to the chain")
        after = state[state.index(previous) + 1:] if previous is not None else []
        placed[i] = _insert_before(rules[i], after[0], out) if after else _append(rules[i], out)


def _previous(rules, i: int, wanted: list[int], placed: dict[int, Entry], state: list[Entry],
              counts: Counter) -> Entry | None:
    """The nearest original rule before rules[i] that is on the router: put back by us, or kept."""
    for j in range(i - 1, -1, -1):
        if j in placed:
            return placed[j]
        if j not in wanted and counts[canon(rules[j])] == 1:
            return _present(rules, [j], state, counts)
    return None


def _present(rules, candidates: list[int], state: list[Entry], counts: Counter) -> Entry | None:
    """The first candidate original rule still in the chain exactly once (an unambiguous neighbour)."""
    for j in candidates:
        if counts[canon(rules[j])] == 1:
            return next(e for e in state if canon(e.body) == canon(rules[j]))
    return None


def _insert_before(rule: dict[str, Any], anchor: Entry, out: Rendered) -> Entry:
    out.commands.append({"insert": {"rule": {**rule, "handle": anchor.handle}}})
    entry = Entry("rule", copy.deepcopy(rule))
    out.expected.entries.insert(out.expected.entries.index(anchor), entry)
    return entry


def _append(rule: dict[str, Any], out: Rendered) -> Entry:
    out.commands.append({"add": {"rule": rule}})
    entry = Entry("rule", copy.deepcopy(rule))
    chain = out.expected.rules(chain_of(rule))
    where = out.expected.entries.index(chain[-1]) + 1 if chain else len(out.expected.entries)
    out.expected.entries.insert(where, entry)
    return entry


def undone(edits: list[dict[str, Any]], now: Ruleset) -> list[str]:
    """Why this change is no longer in force on `now` (empty: every planned rule is gone or restricted)."""
    found = []
    for edit in edits:
        if edit["op"] == "delete" and now.find({"rule": edit["rule"]}):
            found.append(f"{describe(edit['rule'])} is back")
        elif edit["op"] == "replace" and (now.find({"rule": edit["rule"]}) or not now.find({"rule": edit["with"]})):
            found.append(f"{describe(edit['rule'])} is no longer restricted")
        elif edit["op"] == "delete_object" and now.find(edit["object"]):
            found.append(f"{next(iter(edit['object']))} {next(iter(edit['object'].values())).get('name')!r} is back")
    return found


def differences(expected: Ruleset, actual: Ruleset) -> list[str]:
    """What differs between the state a change expects and the router's: rules per chain (in order),
    everything else as a multiset. Empty means the read-back proves the change."""
    problems = []
    chains = {chain_of(e.body) for e in expected.entries + actual.entries if e.kind == "rule"}
    for chain in sorted(chains):
        want, got = [e.body for e in expected.rules(chain)], [e.body for e in actual.rules(chain)]
        if canon(want) != canon(got):
            diff = chain_diff(want, got)
            problems.append(f"chain {chain}: expected {diff['before']}, found {diff['after']}")
    others = [Counter(canon(e.item) for e in rs.entries if e.kind != "rule") for rs in (expected, actual)]
    if others[0] != others[1]:
        problems.append(f"objects differ: missing {sorted((others[0] - others[1]).elements())[:5]}, "
                        f"unexpected {sorted((others[1] - others[0]).elements())[:5]}")
    return problems


def stale_scope(nft: dict[str, Any], current: Ruleset) -> dict[str, Any] | None:
    """The diff when the part of the router a plan depends on changed since it was planned, else None."""
    now = scope_fingerprints(current, nft["edits"])
    changed = [k for k, fp in nft["scope"].items() if now.get(k) != fp]
    if not changed:
        return None
    chains = {k: chain_diff(nft["chains"].get(k, []), [e.body for e in current.rules(k)])
              for k in changed if k in nft["chains"]}
    return {"changed": changed, "chains": chains}
