"""Runs audits in the background of whichever process accepted them, a few at a time."""
from __future__ import annotations

import concurrent.futures as cf
from typing import Callable

from hardening.engine import audits
from hardening.engine.context import AuditContext


class AuditRunner:
    """A small pool per process; `context_factory` gives each submitted audit its inputs (an AuditContext:
    secrets, budgets, driver options, credential budget, sensor, outside probe, the finished hook)."""

    def __init__(self, db, context_factory: Callable[[], AuditContext], max_parallel: int = 2,
                 synchronous: bool = False):
        self.db = db
        self.context_factory = context_factory
        self.synchronous = synchronous
        self.name = audits.process_name()
        self.pool = cf.ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="audit")
        self.futures: dict[int, cf.Future] = {}

    def submit(self, audit_id: int) -> None:
        context = self.context_factory()
        if self.synchronous:
            audits.execute(self.db, audit_id, self.name, context)
            return
        self.futures[audit_id] = self.pool.submit(audits.execute, self.db, audit_id, self.name, context)

    def wait(self, audit_id: int, timeout: float | None = None) -> None:
        future = self.futures.get(audit_id)
        if future is not None:
            future.result(timeout)
