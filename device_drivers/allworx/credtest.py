"""Gentle credential test: a tiny list, a pause between tries, stop at the first lockout sign, and a
daily per-device attempt budget the caller owns. The result never contains a password.

A password seen accepted before is tried first (`first`: its position in the list, kept by the caller's
budget between audits, never the password), so a known default costs one attempt to confirm or clear."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

BLANK = "<blank>"

TakeAttempt = Callable[[str], bool]          # take_attempt(device_key) -> False when the budget is spent
TryLogin = Callable[[str], str]              # try_login(password) -> "ok" | "bad" | "locked"
BUDGET_SPENT = "daily budget spent"


@dataclass
class CredentialTestResult:
    accepted: bool | None      # True: a listed password got in; False: every one tried was refused; None: undecided
    attempts: int              # logins sent in this run
    tried: int                 # list entries used so far, counting earlier runs (start_at)
    list_size: int
    stopped_reason: str        # accepted | list exhausted | lockout sign | daily budget spent | per-run limit |
    #                            known password refused (only_first) | error: ...
    next_index: int | None     # where a later run resumes (pass as start_at); None when decided
    accepted_index: int | None = None   # list position of the accepted password: for the caller's memory only
    known_refused: bool | None = None   # `first` was tried: True refused, False accepted; None: not tried

    def as_fact(self) -> dict:
        """What the checks read (never a password, nor which entry of the list got in)."""
        fact = {"attempts": self.attempts, "tried": self.tried, "list_size": self.list_size,
                "stopped_reason": self.stopped_reason, "next_index": self.next_index}
        if self.known_refused is not None:
            fact["known_refused"] = self.known_refused
        return fact


def run(try_login: TryLogin, device_key: str, take_attempt: TakeAttempt, passwords: list[str],
        max_attempts: int, delay_seconds: float, start_at: int = 0,
        sleep: Callable[[float], None] = time.sleep, first: int | None = None,
        only_first: bool = False) -> CredentialTestResult:
    """Try the list in order (from `start_at`) until one is accepted, a lockout sign shows, or a limit
    is hit. A list longer than the daily budget is finished over several days by resuming.
    `first`: a list position to try before the others (a password accepted before); `only_first`: try
    that one only (the caller knows the rest cannot get in)."""
    if not 0 <= start_at <= len(passwords):
        raise ValueError(f"start_at must be 0..{len(passwords)}, got {start_at}")
    if first is not None and not 0 <= first < len(passwords):
        raise ValueError(f"first must be 0..{len(passwords) - 1}, got {first}")
    if only_first and first is None:
        raise ValueError("only_first needs first")
    order = list(range(start_at, len(passwords)))
    if first is not None:
        order = [first] if only_first else [first] + [i for i in order if i != first]
    attempts = 0
    reason = "known password refused" if only_first else "list exhausted"
    accepted: bool | None = False
    accepted_index: int | None = None
    known_refused: bool | None = None
    for index in order:
        if attempts >= max_attempts:
            reason, accepted = "per-run limit", None
            break
        if not take_attempt(device_key):
            reason, accepted = BUDGET_SPENT, None
            break
        if attempts and delay_seconds > 0:
            sleep(delay_seconds)
        attempts += 1                          # counted even if it fails: it may have reached the device
        try:
            verdict = try_login(passwords[index])
        except Exception as exc:               # a transport failure ends the test; it is never a refusal
            reason, accepted = f"error: {exc}", None
            break
        if index == first and attempts == 1 and verdict in ("ok", "bad"):
            known_refused = verdict == "bad"
        if verdict == "locked":
            reason, accepted = "lockout sign", None
            break
        if verdict == "ok":
            reason, accepted, accepted_index = "accepted", True, index
            break
    tried = start_at + sum(1 for i in order[:attempts] if i >= start_at)
    if accepted is not None:
        resume = None
    elif first is None:
        resume = tried
    else:
        resume = min(order[attempts:], default=len(passwords))
    return CredentialTestResult(accepted, attempts, tried, len(passwords), reason, resume, accepted_index,
                                known_refused)


def recall(budget: Any, device_key: str) -> int | None:
    """The list position the budget remembers as accepted on this device (None: nothing known, or a
    plain callable budget that keeps no memory)."""
    recall_fn = getattr(budget, "recall", None)
    return recall_fn(device_key) if recall_fn is not None else None


def remember(budget: Any, device_key: str, known: int | None, result: CredentialTestResult | None) -> None:
    """Keep what this run learned for the next one: the accepted position, or forget the known one once
    it was refused (or the whole list was). An undecided run changes nothing."""
    keep = getattr(budget, "remember", None)
    if keep is None or result is None:
        return
    if result.accepted_index is not None:
        learned = result.accepted_index
    elif result.known_refused or result.accepted is False:
        learned = None
    else:
        return
    if learned != known:
        keep(device_key, learned)


class DailyAttemptBudget:
    """In-memory take_attempt: at most `per_day` attempts per device key per calendar day, and the list
    position last seen accepted per device key (recall/remember). The appliance keeps both in its
    database instead (hardening.jobs.credbudget); only the callable is required of a budget."""

    def __init__(self, per_day: int, today: Callable[[], date] = date.today):
        self.per_day, self.today = per_day, today
        self._used: dict[tuple[str, date], int] = {}
        self._accepted: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, device_key: str) -> bool:
        return self.take_attempt(device_key)

    def take_attempt(self, device_key: str) -> bool:
        with self._lock:
            key = (device_key, self.today())
            if self._used.get(key, 0) >= self.per_day:
                return False
            self._used[key] = self._used.get(key, 0) + 1
            return True

    def used(self, device_key: str) -> int:
        with self._lock:
            return self._used.get((device_key, self.today()), 0)

    def recall(self, device_key: str) -> int | None:
        with self._lock:
            return self._accepted.get(device_key)

    def remember(self, device_key: str, accepted_index: int | None) -> None:
        with self._lock:
            if accepted_index is None:
                self._accepted.pop(device_key, None)
            else:
                self._accepted[device_key] = accepted_index
