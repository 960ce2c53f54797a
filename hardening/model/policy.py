"""Policy data (minimum versions, port sets, password rules) with profile overrides."""
from __future__ import annotations

import copy
import functools
from typing import Any

import yaml

from firewall.model import PortRange
from hardening.model.catalog import DATA


@functools.cache
def _defaults() -> dict[str, Any]:
    with open(DATA / "policy.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


BLANK = "<blank>"


@functools.cache
def weak_passwords() -> tuple[str, ...]:
    """The gentle-login list (data/weak_passwords.txt) in order; '<blank>' stands for the empty password,
    '#' lines are comments. Drivers receive it as an argument; they never read hardening data."""
    path = DATA / "weak_passwords.txt"
    if not path.exists():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple("" if line.strip() == BLANK else line.rstrip("\r\n")
                 for line in lines if line.strip() and not line.startswith("#"))


@functools.cache
def weak_set() -> frozenset[str]:
    """The same list lower-cased, for "is this stored password a default?"."""
    return frozenset(p.lower() for p in weak_passwords())


class Policy:
    """Read-only view of policy data; `overrides` (from a profile) replace top-level keys."""

    def __init__(self, overrides: dict[str, Any] | None = None):
        self.data = copy.deepcopy(_defaults())
        for key, value in (overrides or {}).items():
            if isinstance(value, dict) and isinstance(self.data.get(key), dict):
                self.data[key].update(value)
            else:
                self.data[key] = value

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def ranges(self, key: str) -> list[PortRange]:
        return [PortRange(lo, hi) for lo, hi in self.data[key]]
