"""The appliance's background duties, run by exactly one process even with several gunicorn workers.

Every worker starts a thread that tries to take an exclusive flock on <DATA_DIR>/background.lock; the
holder runs the duties every few seconds. If it dies, the kernel drops the lock and another worker's
thread takes over at its next try: no lease bookkeeping, no split brain on one box.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


class Leader(threading.Thread):
    def __init__(self, data_dir: str, duties: list[Callable[[], object]], interval: float = 5.0):
        super().__init__(daemon=True, name="awxh-background")
        self.path = Path(data_dir) / "background.lock"
        self.duties, self.interval = duties, interval
        self.stop = threading.Event()
        self.is_leader = False
        self._fh = None

    def try_lead(self) -> bool:
        if self._fh is None:
            self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if not self.is_leader:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.write(f"{os.getpid()}\n")
            self._fh.flush()
            log.info("background duties run in process %s", os.getpid())
        self.is_leader = True
        return True

    def run_once(self) -> None:
        for duty in self.duties:
            try:
                duty()
            except Exception:        # one failing duty must not stop the others or the thread
                log.exception("background duty %s failed", getattr(duty, "__name__", duty))

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            if self.is_leader or self.try_lead():
                self.run_once()
