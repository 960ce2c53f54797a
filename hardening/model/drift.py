"""Drift between two audits (or an audit and the pinned baseline): what newly fails, what changed under
a failure that stays, what was resolved, and what could no longer (or again) be decided.

Results are keyed by (check id, device id). A result is compared with the check's result in the last
audit that *decided* it (pass or fail, as the score counts): after an outage (the device unreachable,
its checks `error`, or `not_applicable` for want of input), failures that come back as they were are
not new (`returned_failures` names the audit they were last decided in).

Under a failure that stays, the evidence is compared too, item by item, by a stable identity
(`evidence_identity`): where it came from (the source without line numbers or positional rule ids)
and what it says (the detail without timestamps, durations and counters). Re-reading the same router
gives the same identities, also when an unrelated added line shifts every line number; a second mail
forward under an already failing NET-NAT-002 is a new identity (`changed_failures`, `new_evidence`).
Identities are counted, not just collected: two identical forwards on two WAN addresses are two items.
Evidence a device could not give during a partial outage is not new when it is back (`complete`).

A waived failure is still a failure for `unchanged_failures`, `changed_failures` and `resolved`, but a
failure that is waived now is not reported as new: fail-on-new is for surprises.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

Key = tuple[str, Any]
DECIDED = ("pass", "fail")                            # as the score counts them (hardening.model.scoring)
UNDECIDED = "error"

# Volatile parts of a detail: ISO timestamps, clock times, durations, running counters.
_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}\b)?")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s*(?:ms|msec|milliseconds?|us|µs|microseconds?|s|secs?|seconds?)\b",
                       re.IGNORECASE)
_COUNTER = re.compile(r"\b(packets|bytes|hits|attempts?)[ =:]+\d+\b|\b\d+ (packets|bytes|hits|attempts?|"
                      r"requests?(?:\(s\))?|scanner requests?(?:\(s\))?|records?(?:\(s\))?)\b", re.IGNORECASE)
# Positional parts of a source: "router:edge show run line 12-14 rule 10" -> "router:edge show run"
_LINE = re.compile(r"\s+line \d+(?:-\d+)?(?=\s|$)")
_RULE = re.compile(r"\s+rule\s.*$")
_NOT_EVIDENCE = "(not evidence)"                      # a probe that could not decide says so of itself
# How a test ran, not what it found: the gentle login test's account of its attempts (their number and
# order change from one audit to the next while the finding beside it stays the same).
_PROCEDURE = ("gentle login test:",)


def _counter_placeholder(match: re.Match) -> str:
    word = (match.group(1) or match.group(2)).lower().replace("(s)", "")
    return f"# {word.removesuffix('s')}"


def normalise_detail(text: str) -> str:
    text = _TIMESTAMP.sub("<time>", text)
    text = _CLOCK.sub("<time>", text)
    text = _DURATION.sub("<duration>", text)
    text = _COUNTER.sub(_counter_placeholder, text)
    return " ".join(text.split())


def normalise_source(text: str) -> str:
    text = _LINE.sub("", " ".join(str(text).split()))
    if text.startswith("router"):      # rule numbers and nft handles move, names change: the detail says what it is
        text = _RULE.sub("", text)
    return text


def evidence_identity(item: dict[str, Any]) -> str:
    """The stable identity of one evidence item: normalised source + normalised detail. The excerpt is
    left out (raw output: packet counters, handles, spacing); the detail already names what was seen."""
    return f"{normalise_source(item.get('source') or '')} :: {normalise_detail(str(item.get('detail') or ''))}"


def _counted(row: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(evidence_identity(e), e) for e in row.get("evidence") or [] if isinstance(e, dict)
            and _NOT_EVIDENCE not in str(e.get("detail") or "") and not str(e.get("detail") or "").startswith(_PROCEDURE)]


def evidence_change(current: dict[str, Any], reference: dict[str, Any],
                    seen_too: dict[str, Any] | None = None) -> tuple[list[dict], list[dict]]:
    """(evidence items of `current` not in `reference`, items of `reference` no longer in `current`),
    by identity and count. Items of `seen_too` (an older, complete read) are not new either."""
    now, then = _counted(current), _counted(reference)
    known = Counter(i for i, _ in then) | Counter(i for i, _ in _counted(seen_too or {}))
    added = Counter(i for i, _ in now) - known
    gone = Counter(i for i, _ in then) - Counter(i for i, _ in now)
    return _take(now, added), _take(then, gone)


def _take(items: list[tuple[str, dict[str, Any]]], wanted: Counter) -> list[dict[str, Any]]:
    wanted, out = Counter(wanted), []
    for identity, item in reversed(items):            # the later items of an identity are the surplus ones
        if wanted[identity] > 0:
            wanted[identity] -= 1
            out.append(item)
    return out[::-1]


def _key(row: dict[str, Any]) -> Key:
    return row["check_id"], row.get("device_id")


def _brief(row: dict[str, Any], *extra: str) -> dict[str, Any]:
    return {k: row.get(k) for k in ("check_id", "device_id", "target", "severity", "title", "message", *extra)}


def references(previous: list[dict[str, Any]], decided: Iterable[dict[str, Any]] | None) -> dict[Key, dict]:
    """Per key, the row a current result is compared with: the previous row when it decided the check
    (pass or fail), else the last decided row of an older audit (`decided`), else none."""
    ref = {_key(r): r for r in previous if r["status"] in DECIDED}
    for row in decided or ():
        if row["status"] in DECIDED:
            ref.setdefault(_key(row), row)
    return ref


def diff(current: list[dict[str, Any]], previous: list[dict[str, Any]],
         decided: Iterable[dict[str, Any]] | None = None,
         complete: Iterable[dict[str, Any]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Drift of `current` rows since `previous` rows (the previous audit or the baseline).

    `decided`: for checks `previous` did not decide (error, not applicable, manual, not run), their rows
    in the last audit that did (rows may carry "audit_id"). `complete`: for failures whose device
    `previous` read only in part (some of its checks were error), their rows in the last audit that
    read the device in full: evidence seen there is not new when the device answers again.
    """
    prev_by_key = {_key(r): r for r in previous}
    ref = references(previous, decided)
    full = {_key(r): r for r in complete or ()}
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "new_failures", "changed_failures", "unchanged_failures", "returned_failures", "resolved", "new_errors",
        "cleared_errors")}
    for row in current:
        key, status = _key(row), row["status"]
        before, was = ref.get(key), prev_by_key.get(key)
        if status == "fail":
            if before is None or before["status"] != "fail":
                if not row.get("waived"):
                    out["new_failures"].append(_brief(row, "evidence"))
                continue
            added, gone = evidence_change(row, before, full.get(key))
            if added or gone:
                out["changed_failures"].append({**_brief(row), "waived": bool(row.get("waived")),
                                                "new_evidence": added, "gone_evidence": gone})
            else:
                out["unchanged_failures"].append(_brief(row))
            if was is None or was["status"] not in DECIDED:
                out["returned_failures"].append({**_brief(row), "previous_status": was["status"] if was else None,
                                                 "last_decided_audit_id": before.get("audit_id")})
        elif status == "pass" and before is not None and before["status"] == "fail":
            out["resolved"].append({**_brief(before, "evidence"), "resolved_by": row.get("message")})
        if status == UNDECIDED and (was is None or was["status"] != UNDECIDED):
            out["new_errors"].append({**_brief(row, "evidence"), "was": was["status"] if was is not None else None})
        if status != UNDECIDED and was is not None and was["status"] == UNDECIDED:
            out["cleared_errors"].append({**_brief(row), "now": status})
    return out


def _failed(health: list[dict[str, Any]] | None) -> dict[tuple[Any, str], dict[str, Any]]:
    out = {}
    for entry in health or []:
        for channel, state in (entry.get("channels") or {}).items() if isinstance(entry, dict) else ():
            if isinstance(state, dict) and state.get("state") == "failed":
                out[(entry.get("device_id"), channel)] = {
                    "device_id": entry.get("device_id"), "name": entry.get("name"), "kind": entry.get("kind"),
                    "channel": channel, "reason": state.get("reason"), "detail": state.get("detail")}
    return out


def health_change(now: list[dict[str, Any]] | None, before: list[dict[str, Any]] | None) -> dict[str, list]:
    """Device channels (an audit's `health`) that failed now and did not before, and those that failed
    before and do not now; nothing when either audit has no health record (made before it was kept)."""
    if now is None or before is None:
        return {"channels_failed": [], "channels_recovered": []}
    failed_now, failed_before = _failed(now), _failed(before)
    return {"channels_failed": [v for k, v in failed_now.items() if k not in failed_before],
            "channels_recovered": [v for k, v in failed_before.items() if k not in failed_now]}
