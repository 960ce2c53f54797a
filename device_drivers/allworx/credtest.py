"""Gentle credential test: a tiny list, a pause between tries, stop at the first lockout sign, and a
daily per-device attempt budget the caller owns. The result never contains a password."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable

BLANK = "<blank>"

TakeAttempt = Callable[[str], bool]          # take_attempt(device_key) -> False when the budget is spent
TryLogin = Callable[[str], str]              # try_login(password) -> "ok" | "bad" | "locked"


@dataclass
class CredentialTestResult:
    accepted: bool | None      # True: a listed password got in; False: the whole list was refused; None: undecided
    attempts: int              # logins sent in this run
    tried: int                 # list entries used so far, counting earlier runs (start_at)
    list_size: int
    stopped_reason: str        # accepted | list exhausted | lockout sign | daily budget spent | per-run limit
    next_index: int | None     # where a later run resumes (pass as start_at); None when decided

    def as_fact(self) -> dict:
        return {"attempts": self.attempts, "tried": self.tried, "list_size": self.list_size,
                "stopped_reason": self.stopped_reason, "next_index": self.next_index}


def run(try_login: TryLogin, device_key: str, take_attempt: TakeAttempt, passwords: list[str],
        max_attempts: int, delay_seconds: float, start_at: int = 0,
        sleep: Callable[[float], None] = time.sleep) -> CredentialTestResult:
    """Try the list in order (from `start_at`) until one is accepted, a lockout sign shows, or a limit
    is hit. A list longer than the daily budget is finished over several days by resuming."""
    if not 0 <= start_at <= len(passwords):
        raise ValueError(f"start_at must be 0..{len(passwords)}, got {start_at}")
    attempts = 0
    reason = "list exhausted"
    accepted: bool | None = False
    for password in passwords[start_at:]:
        if attempts >= max_attempts:
            reason, accepted = "per-run limit", None
            break
        if not take_attempt(device_key):
            reason, accepted = "daily budget spent", None
            break
        if attempts and delay_seconds > 0:
            sleep(delay_seconds)
        attempts += 1                          # counted even if it fails: it may have reached the device
        try:
            verdict = try_login(password)
        except Exception as exc:               # a transport failure ends the test; it is never a refusal
            reason, accepted = f"error: {exc}", None
            break
        if verdict == "locked":
            reason, accepted = "lockout sign", None
            break
        if verdict == "ok":
            reason, accepted = "accepted", True
            break
    tried = start_at + attempts
    resume = tried if accepted is None else None
    return CredentialTestResult(accepted, attempts, tried, len(passwords), reason, resume)


class DailyAttemptBudget:
    """In-memory take_attempt: at most `per_day` attempts per device key per calendar day.
    The appliance may keep its own persistent counter instead; only the callable matters."""

    def __init__(self, per_day: int, today: Callable[[], date] = date.today):
        self.per_day, self.today = per_day, today
        self._used: dict[tuple[str, date], int] = {}
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
