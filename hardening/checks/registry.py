"""Checks register here by id; running them never lets one broken check sink an audit."""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Callable, Iterable

from hardening.model.catalog import catalog, check_meta
from hardening.model.results import CheckResult
from hardening.model.site import SiteFacts

log = logging.getLogger(__name__)

Evaluate = Callable[[SiteFacts, "Policy"], list[CheckResult]]   # noqa: F821 (hardening.model.policy.Policy)


@dataclass(frozen=True)
class Check:
    id: str
    evaluate: Evaluate

    @property
    def meta(self) -> dict:
        return check_meta(self.id)


REGISTRY: dict[str, Check] = {}


def register_check(check_id: str) -> Callable[[Evaluate], Evaluate]:
    """Register `evaluate(site_facts, policy) -> list[CheckResult]` under a catalog id."""
    check_meta(check_id)        # the id must exist in the catalog

    def decorator(func: Evaluate) -> Evaluate:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = Check(check_id, func)
        return func
    return decorator


CHECK_MODULES = ("allworx_phones", "allworx_px", "allworx_recovery", "allworx_server", "allworx_wan", "exposure",
                 "network", "site", "voice_vlan")


def load_all() -> dict[str, Check]:
    """Import every check module so their decorators run; return the registry."""
    for name in CHECK_MODULES:
        importlib.import_module(f"hardening.checks.{name}")
    return REGISTRY


def run_checks(facts: SiteFacts, policy, check_ids: Iterable[str] | None = None) -> list[CheckResult]:
    """Evaluate the selected checks (all registered by default) in catalog order."""
    load_all()
    wanted = list(check_ids) if check_ids is not None else [c for c in catalog() if c in REGISTRY]
    results: list[CheckResult] = []
    for check_id in wanted:
        check = REGISTRY.get(check_id)
        if check is None:
            continue
        try:
            results.extend(check.evaluate(facts, policy))
        except Exception as exc:   # a bug in one check must give an error result, not a pass or a crash
            log.exception("check %s failed", check_id)
            results.append(CheckResult(check_id, "error", f"check raised {type(exc).__name__}: {exc}"))
    return results
