"""The gentle credential test: tiny list, pauses, stop at the first lockout sign, daily budget."""
from __future__ import annotations

import time
from datetime import date

import pytest

from device_drivers.allworx import DailyAttemptBudget
from device_drivers.allworx.credtest import run
from hardening.model.policy import weak_passwords
from simulator import start_site
from simulator.testing import driver, quick_policy

SIX = quick_policy(max_attempts_per_device_per_day=6)


def test_the_shipped_list():
    assert weak_passwords() == ("1234", "Allworx", "admin", "password", "", "allworx")


def test_weak_server_password_is_found_and_never_shown():
    with start_site("insecure", snmp=False, phones=0, px=0) as site:
        facts = driver(site, "allworx-server", policy=SIX).gather(channels=[], take_attempt=DailyAttemptBudget(6))
    assert facts.value("default_credential_accepted") is True
    test = facts.value("credential_test")
    assert test == {"attempts": 2, "tried": 2, "list_size": 6, "stopped_reason": "accepted", "next_index": None}
    assert "Allworx" not in repr(facts.facts["credential_test"]) + repr(facts.facts["default_credential_accepted"])
    assert "credential_test" not in facts.errors


def test_strong_passwords_survive_the_whole_list():
    with start_site("secure", snmp=False, phones=1, px=1) as site:
        for name in ("allworx-server", "phone-101", "px-1"):
            facts = driver(site, name, policy=SIX).gather(channels=[], take_attempt=DailyAttemptBudget(6))
            assert facts.value("default_credential_accepted") is False, name
            assert facts.value("credential_test")["stopped_reason"] == "list exhausted"
            assert site.device(name).guard.attempts == 6


def test_stops_at_the_first_lockout_sign():
    with start_site("secure", snmp=False, phones=0, px=0, overrides={"lockout": {"max_failures": 2}}) as site:
        facts = driver(site, "allworx-server", policy=SIX).gather(channels=[], take_attempt=DailyAttemptBudget(6))
        assert site.server.guard.attempts == 3           # two refusals, then one answer with the lockout sign
    assert facts.value("credential_test")["stopped_reason"] == "lockout sign"
    assert facts.value("credential_test")["next_index"] == 3
    assert "default_credential_accepted" not in facts.facts
    assert facts.errors["credential_test"] == "error: undecided: lockout sign after 3 of 6 passwords"


def test_daily_budget_is_respected_and_resumes_the_next_day():
    today = [date(2026, 1, 5)]
    budget = DailyAttemptBudget(4, today=lambda: today[0])
    with start_site("secure", snmp=False, phones=1, px=0) as site:
        phone = driver(site, "phone-101", policy=SIX)
        first = phone.gather(channels=[], take_attempt=budget)
        assert first.value("credential_test")["stopped_reason"] == "daily budget spent"
        assert first.value("credential_test")["attempts"] == 4 and budget.used(phone.device_key) == 4
        again = phone.gather(channels=[], take_attempt=budget)
        assert again.value("credential_test")["attempts"] == 0
        assert site.device("phone-101").guard.attempts == 4            # nothing more reached the phone
        today[0] = date(2026, 1, 6)
        resumed = phone.gather(channels=[], take_attempt=budget,
                               credtest_start_at=first.value("credential_test")["next_index"])
        assert resumed.value("credential_test")["attempts"] == 2
        assert resumed.value("default_credential_accepted") is False
        assert site.device("phone-101").guard.attempts == 6


def test_policy_caps_one_run():
    with start_site("secure", snmp=False, phones=1, px=0) as site:
        facts = driver(site, "phone-101", policy=quick_policy(max_attempts_per_device_per_day=5)).gather(
            channels=[], take_attempt=DailyAttemptBudget(100))
    assert facts.value("credential_test")["stopped_reason"] == "per-run limit"
    assert facts.value("credential_test")["attempts"] == 5 and "default_credential_accepted" not in facts.facts


def test_pause_between_tries_comes_from_policy():
    with start_site("secure", snmp=False, phones=1, px=0) as site:
        phone = driver(site, "phone-101", policy=quick_policy(max_attempts_per_device_per_day=3,
                                                               delay_seconds=0.1))
        started = time.monotonic()
        phone.gather(channels=[], take_attempt=DailyAttemptBudget(3))
        assert time.monotonic() - started >= 0.2                # two pauses between three tries


def test_run_unit_pauses_and_stops():
    slept, seen = [], []

    def try_login(password: str) -> str:
        seen.append(password)
        return "locked" if password == "c" else "bad"
    result = run(try_login, "dev", lambda key: True, ["a", "b", "c", "d"], 10, 1.5, sleep=slept.append)
    assert seen == ["a", "b", "c"] and slept == [1.5, 1.5]
    assert (result.accepted, result.stopped_reason, result.next_index) == (None, "lockout sign", 3)


def test_run_unit_transport_error_is_not_a_refusal():
    def try_login(password: str) -> str:
        raise OSError("connection reset")
    result = run(try_login, "dev", lambda key: True, ["a", "b"], 10, 0)
    assert result.accepted is None and result.stopped_reason == "error: connection reset"
    with pytest.raises(ValueError, match="start_at must be 0..2"):
        run(try_login, "dev", lambda key: True, ["a", "b"], 10, 0, start_at=3)
