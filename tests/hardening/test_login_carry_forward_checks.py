"""Issue 13: the gentle-login checks (AWX-SRV-005, AWX-PHN-006, AWX-PX-001) keep their verdict when the
daily budget is spent, never pass on a test that made no attempt, and are errors when the device was
not reached. Over hand-made facts and prior verdicts (what hardening.engine.inputs reads from the store)."""
from __future__ import annotations

import pytest

from device_drivers.facts import Fact, Secret
from hardening.model.site import PriorVerdict
from tests.hardening.test_allworx_checks import dev, one

LOGIN_CHECKS = [("AWX-SRV-005", "allworx_server"), ("AWX-PHN-006", "allworx_phone"), ("AWX-PX-001", "px_expander")]
EVIDENCE = ({"detail": "x accepted a default or trivial password", "excerpt": "a listed password was accepted",
             "source": "credtest:http:/login", "provenance": "observed"},
            {"detail": "gentle login test: a listed password was accepted", "excerpt": "stopped: accepted",
             "source": "credtest:http:/login", "provenance": "observed"})


def prior(check_id: str, status: str = "fail", provenance: str = "observed") -> dict:
    message = "x accepted a default" if status == "fail" else "x refused every listed password"
    verdict = PriorVerdict(check_id, 7, status, 12, "2026-11-30", message, provenance, EVIDENCE)
    return {(check_id, 7): verdict}


def login_test(attempts: int = 0, stopped: str = "daily budget spent", **extra) -> Fact:
    return Fact({"attempts": attempts, "tried": attempts, "list_size": 6, "stopped_reason": stopped,
                 "next_index": attempts, **extra}, "observed", "credtest:http:/login",
                f"{attempts} login attempt(s); stopped: {stopped}")


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_a_spent_budget_carries_the_last_fail_forward_as_it_was(check_id, kind):
    result = one(check_id, dev(kind, credential_test=login_test()), prior_verdicts=prior(check_id))
    assert result.status == "fail" and result.provenance == "observed"
    assert result.message.startswith("carried forward from audit 12 (2026-11-30): x accepted a default; ")
    assert "not re-tested today: the daily login-attempt budget is spent" in result.message
    assert [e.to_dict() for e in result.evidence] == list(EVIDENCE)        # as decided, so drift sees no change
    assert PriorVerdict.carried_from(result.message) == (12, "2026-11-30", "x accepted a default")


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_a_pass_is_carried_over_a_partial_run_that_found_nothing(check_id, kind):
    result = one(check_id, dev(kind, credential_test=login_test(2)), prior_verdicts=prior(check_id, "pass"))
    assert result.status == "pass" and "(2 refused attempt(s) today)" in result.message


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_a_known_default_refused_today_is_no_longer_carried_as_a_fail(check_id, kind):
    # the password accepted in audit 12 was refused today, the rest of the list not tried: not decided
    result = one(check_id, dev(kind, credential_test=login_test(1, known_refused=True)),
                 prior_verdicts=prior(check_id))
    assert result.status == "error" and "daily budget spent" in result.message


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_a_known_default_not_retried_keeps_the_fail(check_id, kind):
    # a partial run that did not get to re-try the accepted password does not turn the fail into a pass
    result = one(check_id, dev(kind, credential_test=login_test(0)), prior_verdicts=prior(check_id))
    assert result.status == "fail"


def test_a_derived_pass_is_not_carried_once_the_stored_password_is_refused():
    facts = dict(credential_test=login_test(3, stored_password="refused"))
    result = one("AWX-SRV-005", dev(**facts), prior_verdicts=prior("AWX-SRV-005", "pass", "derived"))
    assert result.status == "error"
    observed = one("AWX-SRV-005", dev(**facts), prior_verdicts=prior("AWX-SRV-005", "pass", "observed"))
    assert observed.status == "pass" and observed.message.startswith("carried forward from audit 12")


@pytest.mark.parametrize("stopped", ["lockout sign", "per-run limit", "error: unreachable: Connection refused"])
def test_only_the_budget_carries_a_verdict(stopped):
    result = one("AWX-SRV-005", dev(credential_test=login_test(2, stopped)), prior_verdicts=prior("AWX-SRV-005"))
    assert result.status == "error"


def test_a_prior_of_another_device_or_check_is_not_used():
    other = {("AWX-SRV-005", 8): prior("AWX-SRV-005")[("AWX-SRV-005", 7)]}
    assert one("AWX-SRV-005", dev(credential_test=login_test()), prior_verdicts=other).status == "error"
    assert one("AWX-SRV-005", dev(credential_test=login_test()), prior_verdicts=prior("AWX-PX-001")).status == "error"


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_a_device_not_reached_is_an_error_naming_it_and_why_even_with_a_weak_stored_password(check_id, kind):
    for errors in ({"credential_test": "unreachable: http://192.168.1.10:8080/login: Connection refused"},
                   {"gather": "no answer within the audit's time budget of 60 s"}):
        result = one(check_id, dev(kind, errors=errors, admin_password=Fact(Secret("1234"), "declared", "inv", "")),
                     prior_verdicts=prior(check_id))
        assert result.status == "error" and "on pbx not decided" in result.message
        assert next(iter(errors.values())) in result.message


def test_an_accepted_default_reads_the_same_however_many_attempts_it_took():
    def accepted(attempts: int, **extra):
        return dict(credential_test=login_test(attempts, "accepted", **extra),
                    default_credential_accepted=Fact(True, "observed", "credtest:http:/login", "accepted"))
    fresh = one("AWX-SRV-005", dev(**accepted(2)))
    first = one("AWX-SRV-005", dev(**accepted(1, known_refused=False)))
    assert fresh.status == first.status == "fail"
    assert [(e.source, e.detail) for e in fresh.evidence] == [(e.source, e.detail) for e in first.evidence]
    assert not any("attempt" in e.detail + e.excerpt for e in fresh.evidence + first.evidence)


def test_the_derived_and_retried_verdicts_say_what_decided_them():
    derived = one("AWX-SRV-005", dev(
        credential_test=Fact({"attempts": 0, "stopped_reason": None, "skipped": "stored password is not a default"},
                             "derived", "inventory credential"),
        default_credential_accepted=Fact(False, "derived", "inventory credential; login credtest:http:/login", "")))
    assert derived.status == "pass" and derived.provenance == "derived" and "logged in" in derived.message
    retried = one("AWX-SRV-005", dev(
        credential_test=login_test(1, "known password refused", known_refused=True),
        default_credential_accepted=Fact(False, "observed", "credtest:http:/login", "")))
    assert retried.status == "pass" and "refuses the default it accepted before" in retried.message
