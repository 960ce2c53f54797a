"""Password strength and gentle-login verdicts shared by the server, phone and Px checks.

Evidence about a secret states its length, its zxcvbn score and which rule failed; never the
secret, nor any part of it (so a forbidden substring is not named, only that one is present).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from zxcvbn import zxcvbn

from device_drivers.allworx.credtest import BUDGET_SPENT
from device_drivers.facts import DeviceFacts, Fact, Secret
from hardening.checks.common.device import bad_value, channel_errors, device_result, fact_evidence, target, undecided
from hardening.model.policy import weak_set
from hardening.model.results import PROVENANCES, CheckResult, Evidence
from hardening.model.site import PriorVerdict, SiteFacts

_SCORED_CHARS = 72        # zxcvbn refuses longer input (and slows down on it); a longer secret is long enough
# zxcvbn keeps each call's user inputs in a module-global dictionary: two audits scoring at once would
# score against each other's hints
_zxcvbn_lock = threading.Lock()


@dataclass
class Strength:
    length: int
    score: int
    failed: list[str] = field(default_factory=list)

    def describe(self, label: str) -> str:
        verdict = "weak: " + "; ".join(self.failed) if self.failed else "meets the policy"
        return f"{label}: length {self.length}, zxcvbn score {self.score}/4, {verdict}"


def _rules(policy) -> tuple[int, int, list[str]]:
    rules = policy.get("password") or {}
    return (int(rules.get("min_length", 12)), int(rules.get("min_zxcvbn_score", 3)),
            [str(s).lower() for s in rules.get("forbidden_substrings", [])])


def assess(password: str, policy, hints: list[str]) -> Strength:
    """Score one password against policy `password` and the weak list; `hints` are words zxcvbn should
    treat as guessable (device and site names)."""
    min_length, min_score, forbidden = _rules(policy)
    score = _score(password[:_SCORED_CHARS], [h for h in hints if h]) if password else 0
    found = Strength(len(password), score)
    if not password:
        found.failed.append("empty")
    elif len(password) < min_length:
        found.failed.append(f"shorter than {min_length} characters")
    if password and score < min_score:
        found.failed.append(f"zxcvbn score below {min_score}")
    if any(s and s in password.lower() for s in forbidden):
        found.failed.append("contains a forbidden substring (policy password.forbidden_substrings)")
    if password.lower() in weak_set():
        found.failed.append("is on the default/trivial password list")
    return found


def _score(password: str, hints: list[str]) -> int:
    with _zxcvbn_lock:
        return int(zxcvbn(password, user_inputs=hints)["score"])


def reveal(value: Any) -> str | None:
    """The text of a Secret (or of a plain string handed in by mistake); None for anything else."""
    if isinstance(value, Secret):
        value = value.reveal()
    return value if isinstance(value, str) else None


def secret_evidence(fact: Fact, strength: Strength, label: str) -> Evidence:
    """Evidence about a secret fact: its own excerpt is never quoted (a driver might have put text there)."""
    return fact_evidence(fact, strength.describe(label), excerpt=f"length {strength.length}, score {strength.score}")


def strength_result(check_id: str, dev: DeviceFacts, key: str, label: str, policy, hints: list[str],
                    silent_message: str) -> CheckResult:
    """Pass when the secret fact `key` meets the password policy, fail with the broken rules otherwise."""
    fact = dev.get(key)
    if fact is None:
        return undecided(check_id, dev, key, silent_message)
    password = reveal(fact.value)
    if password is None:
        return CheckResult(check_id, "error", f"could not decide: fact {key} is not a password", dev.device_id,
                           target(dev), [Evidence(f"{key} has type {type(fact.value).__name__}",
                                                              source=fact.source, provenance=fact.provenance)],
                           fact.provenance)
    strength = assess(password, policy, hints + [dev.name])
    evidence = [secret_evidence(fact, strength, label)]
    if strength.failed:
        return device_result(check_id, dev, "fail", f"{label} is weak: {'; '.join(strength.failed)}", evidence)
    return device_result(check_id, dev, "pass", f"{label} is strong (length {strength.length}, "
                         f"score {strength.score}/4)", evidence)


def _test_evidence(test: Fact | None) -> list[Evidence]:
    if test is None:
        return []
    info = test.value if isinstance(test.value, dict) else {}
    if info.get("skipped"):
        return [fact_evidence(test, f"no default password guessed: {info['skipped']}, and it logged in")]
    if info.get("stopped_reason") == "accepted":
        # Neither which entry got in nor how many were tried first (the list is public: either names the
        # password); so the evidence also reads the same from one audit to the next (drift compares it)
        return [fact_evidence(test, "gentle login test: a listed password was accepted",
                              excerpt="tried first: the password accepted before" if info.get("known_refused") is False
                              else "stopped: accepted")]
    detail = (f"gentle login test: {info.get('attempts', '?')} attempt(s), {info.get('tried', '?')} of "
              f"{info.get('list_size', '?')} listed passwords tried, stopped: {info.get('stopped_reason', '?')}")
    if info.get("known_refused"):
        detail += ", the password accepted before was tried first and refused"
    if info.get("stored_password") == "refused":
        detail += ", the stored password was refused"
    return [fact_evidence(test, detail)]


def _verdict_words(accepted: Fact, test: Fact | None) -> str:
    info = test.value if test is not None and isinstance(test.value, dict) else {}
    if accepted.value:
        return "accepted a default or trivial password"
    if accepted.provenance == "derived":
        return "cannot accept a default: its stored password is not one, and logged in"
    if info.get("stopped_reason") == "known password refused":
        return "refuses the default it accepted before, and its stored password (not a default) logs in"
    return "refused every listed password"


def _undecided_test(check_id: str, dev: DeviceFacts, test: Fact, what: str) -> CheckResult:
    info = test.value if isinstance(test.value, dict) else {}
    stopped = str(info.get("stopped_reason") or dev.errors.get("credential_test") or "unknown reason")
    evidence = _test_evidence(test)
    if "lockout" in stopped.lower():
        message = f"{what} on {target(dev)}: the gentle login test stopped at a lockout sign, not decided"
    else:
        message = f"{what} on {target(dev)}: the gentle login test is not decided yet ({stopped})"
    return CheckResult(check_id, "error", message, dev.device_id, target(dev), evidence, test.provenance)


def _carried(check_id: str, dev: DeviceFacts, prior: PriorVerdict, test: Fact) -> CheckResult:
    """The last decided verdict, kept: message, evidence and provenance as they were, and a note that it was
    not re-tested today (so the score, the status and drift do not move while the budget refills)."""
    info = test.value if isinstance(test.value, dict) else {}
    attempts = info.get("attempts", 0)
    why = ("the daily login-attempt budget is spent" + (f" ({attempts} refused attempt(s) today)" if attempts else ""))
    evidence = [Evidence(str(e.get("detail", "")), str(e.get("excerpt", "")), str(e.get("source", "")),
                         str(e.get("provenance", "derived"))) for e in prior.evidence]
    return CheckResult(check_id, prior.status, prior.carried_message(why), dev.device_id, target(dev), evidence,
                       prior.provenance if prior.provenance in PROVENANCES else "derived")


def _carries(prior: PriorVerdict | None, test: Fact) -> bool:
    """Carry `prior` forward over an undecided test? Only when the test stopped at the daily budget and
    nothing it saw today contradicts the verdict: a default accepted before stays a fail until a login
    with it is refused; a pass derived from the stored password stops once that password is refused."""
    info = test.value if isinstance(test.value, dict) else {}
    if prior is None or info.get("stopped_reason") != BUDGET_SPENT:
        return False
    if prior.status == "fail":
        return info.get("known_refused") is not True
    return not (prior.provenance == "derived" and info.get("stored_password") == "refused")


def _not_reached(check_id: str, dev: DeviceFacts, what: str) -> CheckResult | None:
    """The device could not be read for the login test (or not at all): an error naming it and why."""
    reasons = [f"{channel}: {dev.errors[channel]}" for channel in ("gather", "credential_test")
               if dev.errors.get(channel)]
    if not reasons:
        return None
    return CheckResult(check_id, "error", f"{what} on {target(dev)} not decided: {'; '.join(reasons)}",
                       dev.device_id, target(dev), channel_errors(dev), "device")


def login_result(check_id: str, dev: DeviceFacts, what: str, prior: PriorVerdict | None = None) -> CheckResult:
    """Decide from default_credential_accepted (gentle login test, a stored password that logged in, or
    declared). A test stopped by the daily budget carries `prior` (the last decided verdict) forward; any
    other unfinished test, or a device not reached, is an error; with no test, a stored password on the
    weak list still fails."""
    accepted, test = dev.get("default_credential_accepted"), dev.get("credential_test")
    if accepted is not None:
        if not isinstance(accepted.value, bool):
            return bad_value(check_id, dev, "default_credential_accepted", accepted, "is not true/false")
        word = _verdict_words(accepted, test)
        evidence = [fact_evidence(accepted, f"{what} {word}")] + _test_evidence(test)
        return device_result(check_id, dev, "fail" if accepted.value else "pass", f"{what} {word}", evidence)
    if test is not None:
        if _carries(prior, test):
            return _carried(check_id, dev, prior, test)
        return _undecided_test(check_id, dev, test, what)
    unreached = _not_reached(check_id, dev, what)
    if unreached is not None:
        return unreached
    stored = dev.get("admin_password")
    password = reveal(stored.value) if stored is not None else None
    if stored is not None and password is not None and password.lower() in weak_set():
        evidence = [fact_evidence(stored, "the stored admin password is on the default/trivial password list",
                                  excerpt=f"length {len(password)}")]
        return device_result(check_id, dev, "fail", f"{what} uses a default or trivial password", evidence)
    return undecided(check_id, dev, "default_credential_accepted",
                     f"{what} not tested: run the gentle login test or declare default_credential_accepted")


def prior_verdict(facts: SiteFacts, check_id: str, dev: DeviceFacts) -> PriorVerdict | None:
    """The login check's last decided verdict on this device from an earlier audit (SiteFacts.prior_verdicts)."""
    return facts.prior_verdicts.get((check_id, dev.device_id)) if dev.device_id is not None else None
