"""The cyclic garbage collector paused while a large configuration is parsed or analysed.

Parsing and analysis build hundreds of thousands of small objects that all stay alive until the answer is
returned. CPython's collector re-examines the surviving ones again and again as they pile up, so with it
on the cost grows faster than the configuration (bench/parse.py --scale 16: 20-21x the time for 16x the
input, about 16x with it paused). Nothing built here forms reference cycles that must be reclaimed during
the call; reference counting frees the rest as usual, and the collector runs again when the last paused
call ends (nested and concurrent calls share one pause)."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
