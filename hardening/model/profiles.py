"""Profiles (data): which checks run, with '*' and prefix globs and '!ID' exclusions, and policy overrides.
What a profile's audit contacts follows from its checks: Profile.needs() (see the catalog's `needs`)."""
from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field
from typing import Any

import yaml

from hardening.model.catalog import DATA, catalog, needs_of
from hardening.model.policy import Policy

PROFILE_DIR = DATA / "profiles"


class UnknownProfile(KeyError):
    def __str__(self) -> str:
        return f"unknown profile {self.args[0]!r}; known: {', '.join(profile_names())}"


@dataclass
class Profile:
    name: str
    description: str = ""
    checks: list[str] = field(default_factory=lambda: ["*"])
    policy: dict[str, Any] = field(default_factory=dict)

    def check_ids(self) -> list[str]:
        """Catalog ids selected by the patterns, in catalog order ('!X' removes)."""
        selected: list[str] = []
        for pattern in self.checks:
            negate = pattern.startswith("!")
            matches = fnmatch.filter(catalog(), pattern.lstrip("!"))
            selected = [c for c in selected if c not in matches] if negate else selected + matches
        return [c for c in catalog() if c in selected]

    def needs(self) -> frozenset[str]:
        """What an audit with this profile contacts: the catalog needs of its checks, together."""
        return needs_of(self.check_ids())

    def make_policy(self) -> Policy:
        return Policy(self.policy)


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


@functools.cache
def load_profile(name: str) -> Profile:
    path = PROFILE_DIR / f"{name}.yaml"
    if name not in profile_names():
        raise UnknownProfile(name)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Profile(name, data.get("description", ""), data.get("checks", ["*"]), data.get("policy", {}))
