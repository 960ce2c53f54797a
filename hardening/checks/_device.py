"""Shared plumbing of the per-device checks: fact lookup with error/manual fallbacks, password scoring."""
from __future__ import annotations

import functools
from typing import Any, Callable

from hardening.catalog import DATA
from hardening.facts import DeviceFacts, Fact, Secret
from hardening.results import CheckResult, Evidence

# which channels could have produced a fact; their errors explain a missing fact
CHANNELS = {"software_version": ("snmp", "web"), "model": ("snmp", "web"),
            "default_credential_accepted": ("credential_test", "web")}
DEFAULT_CHANNELS = ("web",)


def target(dev: DeviceFacts) -> str:
    return dev.name or dev.address


def fact_evidence(fact: Fact, detail: str) -> Evidence:
    return Evidence(detail, fact.excerpt, fact.source, fact.provenance)


def result(check_id: str, dev: DeviceFacts, status: str, message: str, evidence: list[Evidence],
           **extra: Any) -> CheckResult:
    provenance = evidence[0].provenance if evidence else "derived"
    if provenance == "declared" and status in ("pass", "fail"):
        message += " (from declared facts only)"
    return CheckResult(check_id, status, message, dev.device_id, target(dev), evidence, provenance, **extra)


def missing(check_id: str, dev: DeviceFacts, key: str, manual_message: str,
            status: str = "manual") -> CheckResult:
    """No fact: an error when a channel that could have read it failed (never a pass), else manual."""
    channels = (*CHANNELS.get(key, DEFAULT_CHANNELS), "gather")       # gather: the device was not read at all
    reasons = [f"{ch}: {dev.errors[ch]}" for ch in channels if ch in dev.errors]
    if reasons:
        return result(check_id, dev, "error", f"could not read {key}: " + "; ".join(reasons),
                      [Evidence(r, provenance="device") for r in reasons])
    return result(check_id, dev, status, manual_message, [])


def per_device(check_id: str, devices: list[DeviceFacts], key: str, decide: Callable[[DeviceFacts, Fact], CheckResult],
               manual_message: str, none_message: str) -> list[CheckResult]:
    """Run `decide` for each device that has the fact; the rest get error/manual; no device: n/a."""
    if not devices:
        return [CheckResult(check_id, "not_applicable", none_message)]
    out = []
    for dev in devices:
        fact = dev.get(key)
        out.append(decide(dev, fact) if fact is not None else missing(check_id, dev, key, manual_message))
    return out


@functools.cache
def weak_passwords() -> frozenset[str]:
    path = DATA / "weak_passwords.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add("" if line == "<blank>" else line.lower())
    return frozenset(words)


def password_problems(secret: Secret | str, policy) -> tuple[list[str], dict[str, Any]]:
    """Why a password is weak (empty list = strong) and what may be shown: never the password."""
    from zxcvbn import zxcvbn
    value = secret.reveal() if isinstance(secret, Secret) else str(secret)
    rules = policy["password"]
    problems = []
    if value.lower() in weak_passwords():
        problems.append("is on the default/trivial list")
    if len(value) < rules["min_length"]:
        problems.append(f"is shorter than {rules['min_length']} characters")
    if any(word.lower() in value.lower() for word in rules["forbidden_substrings"]):
        # which word is not said: that would narrow the password down for whoever reads the report
        problems.append(f"contains a word the policy forbids ({', '.join(rules['forbidden_substrings'])})")
    score = zxcvbn(value[:100])["score"] if value else 0      # zxcvbn is slow on long input; 100 is plenty
    if score < rules["min_zxcvbn_score"]:
        problems.append(f"scores {score}/4 for strength (needs {rules['min_zxcvbn_score']})")
    return problems, {"length": len(value), "zxcvbn_score": score}


def strength_check(check_id: str, dev: DeviceFacts, fact: Fact, label: str, policy) -> CheckResult:
    problems, shown = password_problems(fact.value, policy)
    detail = f"{label}: length {shown['length']}, strength {shown['zxcvbn_score']}/4"
    evidence = [Evidence(detail, "", fact.source, fact.provenance)]
    if problems:
        return result(check_id, dev, "fail", f"{label} {'; '.join(problems)}", evidence)
    return result(check_id, dev, "pass", f"{label} is strong", evidence)
