"""Login sessions and lockout for the simulated web UIs (lockout behaviour of real devices is [U])."""
from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from typing import Callable

from simulator.httpd import Request, Response, redirect

# [I] the real wording is unknown; it carries the policy's lockout signs ("too many", "locked",
# "try again later") so the driver's gentle credential test can recognise it.
LOCKOUT_TEXT = "Too many failed login attempts: login is locked, try again later."


class LoginGuard:
    """Lock logins after `max_failures` bad ones within `window_seconds`, for `lockout_seconds`."""

    def __init__(self, max_failures: int, window_seconds: float, lockout_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window, self.lockout = max_failures, window_seconds, lockout_seconds
        self.clock = clock
        self.failures: deque[float] = deque()
        self.locked_until = 0.0
        self.attempts = 0                 # every login attempt seen, for tests and the benchmark
        self._lock = threading.Lock()

    def check(self, accepted: bool) -> str:
        """Record one attempt; returns 'locked', 'ok' or 'bad'."""
        with self._lock:
            self.attempts += 1
            now = self.clock()
            if now < self.locked_until:
                return "locked"
            if accepted:
                self.failures.clear()
                return "ok"
            self.failures.append(now)
            while self.failures and self.failures[0] < now - self.window:
                self.failures.popleft()
            if len(self.failures) >= self.max_failures:
                self.locked_until = now + self.lockout
                self.failures.clear()
            return "bad"

    def is_locked(self) -> bool:
        with self._lock:
            return self.clock() < self.locked_until

    def reset(self) -> None:
        with self._lock:
            self.failures.clear()
            self.locked_until = 0.0


class Sessions:
    """Opaque session tokens carried in one cookie."""

    def __init__(self, cookie: str):
        self.cookie = cookie
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def new_cookie(self) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens.add(token)
        return f"{self.cookie}={token}; Path=/"

    def valid(self, request: Request) -> bool:
        with self._lock:
            return request.cookies.get(self.cookie) in self._tokens

    def drop(self, request: Request) -> None:
        with self._lock:
            self._tokens.discard(request.cookies.get(self.cookie, ""))


def handle_login(guard: LoginGuard, sessions: Sessions, accepted: bool, form_page: Callable[[str], str],
                 failure_text: str, landing: str) -> Response:
    """The shared login POST: lockout first, then the password verdict."""
    verdict = guard.check(accepted)
    if verdict == "locked":
        return Response(200, form_page(LOCKOUT_TEXT))
    if verdict == "bad":
        return Response(200, form_page(failure_text))
    return redirect(landing, sessions.new_cookie())
