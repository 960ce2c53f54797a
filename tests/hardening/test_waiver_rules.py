"""The rules a new waiver must meet, and its state, as pure functions (the API tests drive them too)."""
from datetime import datetime, timedelta

from hardening.model import waivers
from hardening.model.policy import Policy

NOW = datetime(2026, 11, 28, 12, 0)


def test_state_is_revoked_over_expired_over_active():
    assert waivers.state(None, None, NOW) == "active"
    assert waivers.state(NOW + timedelta(seconds=1), None, NOW) == "active"
    assert waivers.state(NOW, None, NOW) == "expired"                  # expires_at is the first moment it is off
    assert waivers.state(NOW - timedelta(days=1), NOW - timedelta(days=2), NOW) == "revoked"


def test_policy_maximum_and_its_defaults():
    assert waivers.max_days(Policy()) == 365
    assert waivers.max_days({"waiver_max_days": None}) is None
    for bad in (0, -3, "30", True, 2.5):
        assert waivers.max_days({"waiver_max_days": bad}) == 365
    assert waivers.max_days({"waiver_max_days": 30}) == 30


def test_expiry_rules():
    assert waivers.expiry(None, NOW, 30) == (NOW + timedelta(days=30), None)
    assert waivers.expiry(None, NOW, None) == (None, None)           # no maximum: may never expire
    assert waivers.expiry(NOW + timedelta(days=30), NOW, 30) == (NOW + timedelta(days=30), None)
    stored, why = waivers.expiry(NOW + timedelta(days=30, seconds=1), NOW, 30)
    assert stored is None and "30 days" in why and "2026-12-28T12:00:00Z" in why
    stored, why = waivers.expiry(NOW, NOW, 30)
    assert stored is None and "already passed" in why
    assert waivers.expiry(NOW + timedelta(days=9000), NOW, None)[1] is None


def test_duplicates_are_exact_and_in_force():
    new = {"check_id": "A", "scope": "device", "device_id": 2}
    def w(**k):
        return {"id": 1, "check_id": "A", "scope": "device", "device_id": 2, "expires_at": None, "revoked_at": None, **k}
    assert waivers.duplicate_of(new, [w()], NOW)["id"] == 1
    assert waivers.duplicate_of(new, [w(device_id=3), w(scope="site", device_id=None), w(check_id="B")], NOW) is None
    assert waivers.duplicate_of(new, [w(expires_at=NOW), w(revoked_at=NOW - timedelta(hours=1))], NOW) is None


def test_target_problem_lists_what_the_check_reports():
    reported = [{"device_id": 2, "target": "phone-101"}, {"device_id": 3, "target": "phone-102"}]
    assert waivers.target_problem("AWX-PHN-006", None, False, None, []) is None        # site-wide: always fine
    assert "no completed audit yet" in waivers.target_problem("AWX-PHN-006", 2, False, None, [])
    assert "left it out" in waivers.target_problem("AWX-PHN-006", 2, True, None, [])
    assert waivers.target_problem("AWX-PHN-006", 3, True, 9, reported) is None
    why = waivers.target_problem("AWX-PHN-006", 5, True, 9, reported)
    assert "device 5 in audit 9" in why and "2 (phone-101), 3 (phone-102)" in why
    assert "scope 'site'" in waivers.target_problem("AWX-SRV-007", 1, True, 9, [{"device_id": None, "target": ""}])
