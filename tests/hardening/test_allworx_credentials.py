"""Gentle-login and password-strength checks (AWX-SRV-005/006, PHN-001/002/006, PX-001/002); no secret leaks."""
from __future__ import annotations

import json

import pytest

from device_drivers.facts import Fact, Secret
from hardening.checks.common import assess
from hardening.model.policy import Policy, weak_set
from tests.hardening.test_allworx_checks import dev, one, run

STRONG = "Velvet-Harbor-Quantum-71!"
LOGIN_CHECKS = [("AWX-SRV-005", "allworx_server"), ("AWX-PHN-006", "allworx_phone"), ("AWX-PX-001", "px_expander")]
STRENGTH_CHECKS = [("AWX-SRV-006", "allworx_server", "admin_password"),
                   ("AWX-PHN-001", "allworx_server", "phone_admin_password"),
                   ("AWX-PHN-002", "allworx_server", "pnp_secret_key"),
                   ("AWX-PX-002", "px_expander", "admin_password")]


def secret(value: str, provenance: str = "declared") -> Fact:
    return Fact(Secret(value), provenance, "inventory:credentials.password", "")


def test_weak_set_is_the_shipped_data_file():
    assert {"1234", "allworx", "admin", "password", ""} <= weak_set()


# --- gentle login test ---------------------------------------------------------------------------

def login_facts(accepted: bool | None, stopped: str, **extra) -> dict:
    test = Fact({"attempts": 3, "tried": 3, "list_size": 6, "stopped_reason": stopped, "next_index": None},
                "observed", "credtest:http:/login", f"3 login attempt(s); stopped: {stopped}")
    facts = {"credential_test": test, **extra}
    if accepted is not None:
        facts["default_credential_accepted"] = Fact(accepted, "observed", "credtest:http:/login", "")
    return facts


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_login_accepted_fails_refused_passes(check_id, kind):
    bad = one(check_id, dev(kind, **login_facts(True, "accepted")))
    assert bad.status == "fail" and "accepted a default or trivial password" in bad.message
    assert bad.provenance == "observed" and bad.evidence[0].source == "credtest:http:/login"
    good = one(check_id, dev(kind, **login_facts(False, "list exhausted")))
    assert good.status == "pass" and any("3 of 6" in e.detail for e in good.evidence)


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_lockout_sign_is_error_not_decided(check_id, kind):
    errors = {"credential_test": "undecided: lockout sign after 2 of 6 passwords"}
    result = one(check_id, dev(kind, errors=errors, **login_facts(None, "lockout sign")))
    assert result.status == "error" and "stopped at a lockout sign, not decided" in result.message


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_spent_budget_is_error_saying_why(check_id, kind):
    result = one(check_id, dev(kind, **login_facts(None, "daily budget spent")))
    assert result.status == "error" and "daily budget spent" in result.message


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_declared_login_result_says_declared(check_id, kind):
    result = one(check_id, dev(kind, default_credential_accepted=Fact(False, "declared", "declared", "")))
    assert result.status == "pass" and "declared" in result.message and result.provenance == "declared"
    assert one(check_id, dev(kind, default_credential_accepted="no")).status == "error"


@pytest.mark.parametrize("check_id, kind", LOGIN_CHECKS)
def test_stored_trivial_password_fails_without_a_test(check_id, kind):
    result = one(check_id, dev(kind, admin_password=secret("Allworx")))
    assert result.status == "fail" and "Allworx" not in json.dumps(result.to_dict())
    assert one(check_id, dev(kind, admin_password=secret(STRONG))).status == "manual"


# --- password strength ---------------------------------------------------------------------------

@pytest.mark.parametrize("check_id, kind, key", STRENGTH_CHECKS)
@pytest.mark.parametrize("password", ["1234", "Allworx", "password", "", "Allworx-Harbor-Quantum-71",
                                      "Harbor-1234-Quantum-zz", "qwertyqwerty", "Zx9!k", "aaaaaaaaaaaaaaaa"])
def test_weak_passwords_fail(check_id, kind, key, password):
    result = one(check_id, dev(kind, require_strong_passwords=True, **{key: secret(password)}))
    assert result.status == "fail", result.message


@pytest.mark.parametrize("check_id, kind, key", STRENGTH_CHECKS)
def test_strong_password_passes(check_id, kind, key):
    result = one(check_id, dev(kind, require_strong_passwords=True, **{key: secret(STRONG)}))
    assert result.status == "pass", result.message
    assert "length 25" in result.evidence[0].detail and "score 4/4" in result.evidence[0].detail


@pytest.mark.parametrize("password, rule", [
    ("Zx9!kq", "shorter than 12 characters"), ("aaaaaaaaaaaaaaaa", "zxcvbn score below 3"),
    ("Harbor-1234-Quantum-zz", "forbidden substring"), ("", "empty"), ("password", "default/trivial password list")])
def test_evidence_names_the_failed_rule(password, rule):
    result = one("AWX-PHN-001", dev(phone_admin_password=secret(password)))
    assert rule in result.message and rule in result.evidence[0].detail
    assert f"length {len(password)}" in result.evidence[0].detail


@pytest.mark.parametrize("check_id, kind, key", STRENGTH_CHECKS)
@pytest.mark.parametrize("password", ["Allworx-Harbor-Quantum-71", "Quokka1234Zebra", "Tr1ckyPhr@se!", "xQz9",
                                      STRONG])
def test_no_secret_or_part_of_it_appears_in_the_result(check_id, kind, key, password):
    results = run(check_id, dev(kind, require_strong_passwords=True, **{key: secret(password)}))
    dumped = json.dumps([r.to_dict() for r in results]) + repr(results) + str(results)
    fragments = {password, password[:4], password[-4:]} | {password[i:i + 5] for i in range(len(password) - 4)}
    leaked = [f for f in fragments if f.lower() in dumped.lower() and f.lower() not in ("allw", "allwo", "llwor",
                                                                                        "lworx")]
    assert not leaked


def test_user_passwords_are_scored_by_user_name_only():
    users = Fact({"alice": Secret(STRONG), "bob": Secret("Bobby2024")}, "declared", "declared:user_passwords", "")
    result = one("AWX-SRV-006", dev(require_strong_passwords=True, user_passwords=users))
    assert result.status == "fail" and any("user bob" in e.detail for e in result.evidence)
    assert "Bobby" not in json.dumps(result.to_dict())


def test_srv006_needs_require_strong_passwords_on():
    off = one("AWX-SRV-006", dev(admin_password=secret(STRONG), require_strong_passwords=False))
    assert off.status == "fail" and "'Require Strong Passwords' is off" in off.message
    unknown = one("AWX-SRV-006", dev(admin_password=secret(STRONG)))
    assert unknown.status == "manual"
    nothing_stored = one("AWX-SRV-006", dev(require_strong_passwords=True))
    assert nothing_stored.status == "manual" and "no password to score" in nothing_stored.message


def test_srv006_phone_admin_password_counts():
    result = one("AWX-SRV-006", dev(require_strong_passwords=True, admin_password=secret(STRONG),
                                    phone_admin_password=secret("1234")))
    assert result.status == "fail" and "phone admin password" in result.message


def test_policy_sets_the_rules():
    strict = Policy({"password": {"min_length": 30}})
    assert one("AWX-PX-002", dev("px_expander", admin_password=secret(STRONG)), policy=strict).status == "fail"
    assert assess(STRONG, strict, []).failed == ["shorter than 30 characters"]
    lax = Policy({"password": {"min_length": 4, "min_zxcvbn_score": 0, "forbidden_substrings": []}})
    assert assess("Zx9!", lax, []).failed == []


def test_zxcvbn_uses_the_device_and_site_names():
    policy = Policy({"password": {"min_length": 8}})
    assert assess("Riverbend-Clinic", policy, []).failed == []
    assert "zxcvbn score below 3" in assess("Riverbend-Clinic", policy, ["Riverbend-Clinic"]).failed
    named = one("AWX-PX-002", dev("px_expander", name="Riverbend-Clinic-PX",
                                  admin_password=secret("Riverbend-Clinic-PX")))
    assert named.status == "fail" and "zxcvbn score below 3" in named.message


def test_a_long_passphrase_is_scored_not_an_error():
    # zxcvbn refuses input over 72 characters; a 100-character secret must still be judged (strong)
    passphrase = "correct-Horse-battery-Staple-" * 4
    result = one("AWX-PX-002", dev("px_expander", admin_password=secret(passphrase[:100])))
    assert result.status == "pass" and "length 100" in result.message


def test_scores_do_not_mix_hints_between_threads():
    # zxcvbn keeps the current call's hints in a module global: concurrent audits must not see each other's
    import concurrent.futures as cf
    policy = Policy({"password": {"min_length": 8}})

    def score(with_hint: bool) -> bool:
        return not assess("Riverbend-Clinic", policy, ["Riverbend-Clinic"] if with_hint else ["x"]).failed

    with cf.ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(score, [i % 2 == 0 for i in range(400)]))
    assert verdicts == [i % 2 == 1 for i in range(400)]


def test_non_secret_value_is_error():
    result = one("AWX-PHN-002", dev(pnp_secret_key=Fact(1234, "declared", "declared", "")))
    assert result.status == "error" and "not a password" in result.message
