"""Run code in a lab network namespace from inside this process: `with netns("hl1-app"): ...`.

Python 3.11 has no os.setns, so this calls libc's setns(2). It switches only the calling
thread; sockets opened inside keep their namespace after the block (paramiko's reader thread
keeps working), and subprocesses started inside inherit it.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
from typing import Iterator

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


@contextlib.contextmanager
def netns(name: str) -> Iterator[None]:
    """Switch this thread into network namespace `name` (from `ip netns add`) for the block."""
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    except FileNotFoundError:
        os.close(original)
        raise FileNotFoundError(f"no network namespace {name!r} (is the lab up?)") from None
    try:
        _setns(target)
        yield
    finally:
        _setns(original)
        os.close(original)
        os.close(target)
