"""Issue 13: a password accepted before is tried first; a strong stored password decides only once it has
logged in; a spent budget is no device failure. Against the simulator on loopback (its login counters)."""
from __future__ import annotations

import socket
from datetime import date

import pytest

from device_drivers.allworx import DailyAttemptBudget
from device_drivers.allworx.credtest import recall, remember, run
from simulator import start_site
from simulator.testing import driver, quick_policy

SIX = quick_policy(max_attempts_per_device_per_day=6)
STRONG = "Quartz-Lantern-Meadow-2048!"        # strong, and not what the simulated devices accept


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the run itself ------------------------------------------------------------------------------

def _logins(accepts: str | None):
    seen: list[str] = []

    def try_login(password: str) -> str:
        seen.append(password)
        return "ok" if password == accepts else "bad"
    return seen, try_login


def test_the_password_accepted_before_is_tried_first_and_alone_costs_one_attempt():
    seen, try_login = _logins("c")
    result = run(try_login, "dev", lambda key: True, ["a", "b", "c", "d"], 10, 0, first=2)
    assert seen == ["c"]
    assert (result.accepted, result.attempts, result.accepted_index, result.known_refused) == (True, 1, 2, False)
    assert "accepted_index" not in result.as_fact() and result.as_fact()["known_refused"] is False


def test_a_refused_known_password_is_followed_by_the_rest_of_the_list_in_order():
    seen, try_login = _logins(None)
    result = run(try_login, "dev", lambda key: True, ["a", "b", "c", "d"], 10, 0, first=2)
    assert seen == ["c", "a", "b", "d"]
    assert (result.accepted, result.stopped_reason, result.known_refused, result.tried) == (
        False, "list exhausted", True, 4)


def test_only_first_tries_the_known_one_alone():
    seen, try_login = _logins(None)
    result = run(try_login, "dev", lambda key: True, ["a", "b", "c"], 10, 0, first=1, only_first=True)
    assert seen == ["b"] and (result.accepted, result.stopped_reason, result.known_refused) == (
        False, "known password refused", True)
    with pytest.raises(ValueError, match="first must be 0..2"):
        run(try_login, "dev", lambda key: True, ["a", "b", "c"], 10, 0, first=3)


def test_a_spent_budget_tries_nothing_and_leaves_the_whole_list_to_resume():
    seen, try_login = _logins("c")
    result = run(try_login, "dev", lambda key: False, ["a", "b", "c"], 10, 0, first=2)
    assert seen == [] and (result.accepted, result.attempts, result.stopped_reason, result.known_refused) == (
        None, 0, "daily budget spent", None)
    assert result.next_index == 0


def test_the_budget_remembers_the_accepted_position_until_it_is_refused():
    budget = DailyAttemptBudget(10)
    seen, try_login = _logins("b")
    first = run(try_login, "k", budget, ["a", "b", "c"], 10, 0)
    remember(budget, "k", recall(budget, "k"), first)
    assert recall(budget, "k") == 1
    spent = run(try_login, "k", lambda key: False, ["a", "b", "c"], 10, 0, first=1)
    remember(budget, "k", 1, spent)                  # undecided: nothing learned, nothing forgotten
    assert recall(budget, "k") == 1
    refused = run(_logins(None)[1], "k", budget, ["a", "b", "c"], 10, 0, first=1, only_first=True)
    remember(budget, "k", 1, refused)
    assert recall(budget, "k") is None
    assert recall(lambda key: True, "k") is None     # a plain callable keeps no memory
    remember(lambda key: True, "k", None, first)      # and is not asked to


# --- against the simulator -----------------------------------------------------------------------

def test_the_server_is_asked_the_accepted_password_first_the_next_day():
    today = [date(2026, 11, 30)]
    budget = DailyAttemptBudget(6, today=lambda: today[0])
    with start_site("insecure", snmp=False, phones=0, px=0) as site:
        server = driver(site, "allworx-server", policy=SIX)
        facts = server.gather(channels=[], take_attempt=budget)
        assert facts.value("default_credential_accepted") is True and site.server.guard.attempts == 2
        assert server.credential_result.accepted_index == 1          # "Allworx", the list's second entry
        assert facts.facts["credential_test"].excerpt == "stopped: accepted"    # no count: it would name it
        today[0] = date(2026, 12, 1)
        again = server.gather(channels=[], take_attempt=budget, credtest_first=1)
        assert again.value("default_credential_accepted") is True
        assert site.server.guard.attempts == 3                                 # one attempt, not two
        assert again.value("credential_test")["known_refused"] is False


def test_a_strong_stored_password_that_logs_in_decides_without_guessing():
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        facts = driver(site, "allworx-server", policy=SIX).gather(channels=[], trust_stored=True)
        assert site.server.guard.attempts == 1                       # one login, with the stored password
        accepted = facts.get("default_credential_accepted")
        assert (accepted.value, accepted.provenance) == (False, "derived") and facts.errors == {}
        driver(site, "allworx-server", policy=SIX).gather(channels=["web"], trust_stored=True)
        assert site.server.guard.attempts == 2                       # the web session's login is the evidence


def test_a_strong_stored_password_that_is_refused_falls_back_to_the_gentle_list():
    # the refused stored login is one more failure than the list: a device locking at 6 stops the test at its
    # lockout sign (an error, tested with the drivers); this one tolerates 10
    with start_site("secure", snmp=False, phones=0, px=0, overrides={"lockout": {"max_failures": 10}}) as site:
        stale = driver(site, "allworx-server", policy=SIX, credentials={"username": "admin", "password": STRONG})
        facts = stale.gather(channels=[], take_attempt=DailyAttemptBudget(6), trust_stored=True)
        assert site.server.guard.attempts == 1 + 6                   # the stored one, then the whole list
        accepted = facts.get("default_credential_accepted")
        assert (accepted.value, accepted.provenance) == (False, "observed")
        assert facts.value("credential_test")["stored_password"] == "refused"
        without_budget = stale.gather(channels=[], trust_stored=True)
        assert "default_credential_accepted" not in without_budget.facts
        assert "stored password was refused" in without_budget.errors["credential_test"]


def test_a_strong_stored_password_on_a_dead_port_decides_nothing():
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        dead = driver(site, "allworx-server", policy=SIX, ports={"web_admin": _closed_port()})
        facts = dead.gather(channels=["web"], take_attempt=DailyAttemptBudget(6), trust_stored=True)
    assert "default_credential_accepted" not in facts.facts and "credential_test" not in facts.facts
    assert "Connection refused" in facts.errors["credential_test"] and "Connection refused" in facts.errors["web"]


def test_a_default_accepted_before_is_retried_alone_once_the_strong_stored_password_logs_in():
    with start_site("secure", snmp=False, phones=0, px=0) as site:
        server = driver(site, "allworx-server", policy=SIX)
        facts = server.gather(channels=[], take_attempt=DailyAttemptBudget(6), credtest_first=1, trust_stored=True)
        assert site.server.guard.attempts == 2                       # the stored password, then "Allworx" alone
        assert facts.value("default_credential_accepted") is False
        assert facts.value("credential_test")["stopped_reason"] == "known password refused"
        assert server.credential_result.known_refused is True
        spent = server.gather(channels=[], take_attempt=lambda key: False, credtest_first=1, trust_stored=True)
        assert "default_credential_accepted" not in spent.facts      # not re-tried: not turned into a pass
        assert spent.value("credential_test")["stopped_reason"] == "daily budget spent"


def test_a_spent_budget_is_no_channel_failure():
    with start_site("secure", snmp=False, phones=1, px=0) as site:
        facts = driver(site, "phone-101", policy=SIX).gather(channels=[], take_attempt=lambda key: False)
    assert facts.value("credential_test")["attempts"] == 0 and facts.errors == {}
    assert "default_credential_accepted" not in facts.facts
