"""Waivers that auditors trust, through the API on a simulated site: an expiry in the future and within
the policy maximum, a device the check really reports, no duplicate in force, and a state on every answer."""
from datetime import datetime, timedelta

import pytest

from api.waivers import routes
from store.models import utcnow
from tests.audits.test_rmm import _audit

REASON = {"justification": "replacement booked for the January window", "approver": "Dana (MSP lead)"}


@pytest.fixture
def clock(monkeypatch):
    """The waiver endpoints' clock, movable: {"offset": timedelta}."""
    state = {"offset": timedelta(0)}
    monkeypatch.setattr(routes, "utcnow", lambda: utcnow() + state["offset"])
    return state


def _post(client, auth, site_id, **body):
    return client.post(f"/api/v1/sites/{site_id}/waivers", json={**REASON, "scope": "site", **body},
                       headers=auth("admin"))


def _devices(client, auth, site_id):
    return {d["name"]: d["id"] for d in client.get(f"/api/v1/devices?site_id={site_id}", headers=auth("read")).json}


def _iso(moment):
    return moment.isoformat() + "Z"


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=None)


def test_expiry_must_be_in_the_future_and_within_the_policy_maximum(client, auth, insecure_site):
    past = _post(client, auth, insecure_site, check_id="AWX-SRV-004", expires_at=_iso(utcnow() - timedelta(minutes=1)))
    assert past.status_code == 422 and "already passed" in past.json["errors"]["json"]["expires_at"][0], past.json
    far = _post(client, auth, insecure_site, check_id="AWX-SRV-004", expires_at=_iso(utcnow() + timedelta(days=400)))
    assert far.status_code == 422, far.json
    assert "365 days" in far.json["errors"]["json"]["expires_at"][0] and "waiver_max_days" in far.json["message"]
    aware = _post(client, auth, insecure_site, check_id="AWX-SRV-004",
                  expires_at=(utcnow() + timedelta(days=364)).isoformat() + "+02:00")
    assert aware.status_code == 201 and aware.json["state"] == "active", aware.json
    # no expiry given: the policy's maximum, never "forever"
    before = utcnow()
    open_ended = _post(client, auth, insecure_site, check_id="AWX-SRV-001", expires_at=None)
    assert open_ended.status_code == 201, open_ended.json
    expires = _at(open_ended.json["expires_at"])
    assert before + timedelta(days=365) <= expires <= utcnow() + timedelta(days=365)
    omitted = _post(client, auth, insecure_site, check_id="AWX-SRV-003")
    assert omitted.status_code == 201 and omitted.json["expires_at"] is not None


def test_a_device_waiver_needs_an_audit_that_reports_the_device(client, auth, insecure_site):
    devices = _devices(client, auth, insecure_site)
    early = _post(client, auth, insecure_site, check_id="AWX-PHN-006", scope="device", device_id=devices["phone-101"])
    assert early.status_code == 422, early.json
    assert "no completed audit yet" in early.json["errors"]["json"]["device_id"][0]
    assert early.json["errors"]["reported"] == {"audit_id": None, "targets": []}
    assert _post(client, auth, insecure_site, check_id="AWX-PHN-006").status_code == 201   # the whole site: fine

    audit = _audit(client, auth, insecure_site)
    wrong = _post(client, auth, insecure_site, check_id="AWX-PHN-006", scope="device", device_id=devices["px-1"])
    assert wrong.status_code == 422, wrong.json
    reported = wrong.json["errors"]["reported"]
    phones = sorted(devices[n] for n in ("phone-101", "phone-102", "phone-103"))
    assert reported["audit_id"] == audit["id"]
    assert reported["targets"] == [{"device_id": devices[n], "target": n} for n in ("phone-101", "phone-102", "phone-103")]
    message = wrong.json["errors"]["json"]["device_id"][0]
    assert f"does not report device {devices['px-1']}" in message and all(str(p) in message for p in phones)
    site_level = _post(client, auth, insecure_site, check_id="AWX-SRV-007", scope="device",
                       device_id=devices["allworx-server"])
    assert site_level.status_code == 422 and "scope 'site'" in site_level.json["errors"]["json"]["device_id"][0]

    right = _post(client, auth, insecure_site, check_id="AWX-PHN-006", scope="device", device_id=devices["phone-102"])
    assert right.status_code == 201 and right.json["device_id"] == devices["phone-102"], right.json
    rows = client.get(f"/api/v1/audits/{audit['id']}/results?check_id=AWX-PHN-006", headers=auth("read")).json
    assert all(r["waived"] for r in rows)       # the site-wide waiver from before the audit covers all three


def test_an_exact_duplicate_in_force_is_409(client, auth, insecure_site, clock):
    _audit(client, auth, insecure_site)
    devices = _devices(client, auth, insecure_site)
    first = _post(client, auth, insecure_site, check_id="AWX-SRV-004", expires_at=_iso(utcnow() + timedelta(hours=1)))
    assert first.status_code == 201, first.json
    again = _post(client, auth, insecure_site, check_id="AWX-SRV-004")
    assert again.status_code == 409 and again.json["errors"]["existing_waiver_id"] == first.json["id"], again.json
    assert f"Waiver {first.json['id']}" in again.json["message"]
    # not duplicates: another check, another scope, another device
    assert _post(client, auth, insecure_site, check_id="AWX-SRV-005").status_code == 201
    device = {"check_id": "AWX-SRV-004", "scope": "device", "device_id": devices["allworx-server"]}
    assert _post(client, auth, insecure_site, **device).status_code == 201
    assert _post(client, auth, insecure_site, **device).status_code == 409
    # one that has expired, or was revoked, is no longer in force: a new one may take its place
    clock["offset"] = timedelta(hours=2)
    replaced = _post(client, auth, insecure_site, check_id="AWX-SRV-004")
    assert replaced.status_code == 201, replaced.json
    assert client.delete(f"/api/v1/waivers/{replaced.json['id']}", headers=auth("admin")).status_code == 204
    assert _post(client, auth, insecure_site, check_id="AWX-SRV-004").status_code == 201


def test_state_goes_active_then_expired_then_revoked_on_every_answer(client, auth, insecure_site, clock):
    made = _post(client, auth, insecure_site, check_id="AWX-SRV-004", expires_at=_iso(utcnow() + timedelta(hours=1)))
    assert made.status_code == 201 and made.json["state"] == "active", made.json
    one, listed = f"/api/v1/waivers/{made.json['id']}", f"/api/v1/sites/{insecure_site}/waivers"

    def states():
        got = client.get(one, headers=auth("read")).json
        everything = client.get(listed, headers=auth("read")).json
        assert [w["id"] for w in everything] == [made.json["id"]] and everything[0] == got
        by_filter = {s: [w["id"] for w in client.get(f"{listed}?state={s}", headers=auth("read")).json]
                     for s in ("active", "expired", "revoked")}
        assert by_filter == {s: [made.json["id"]] if s == got["state"] else [] for s in by_filter}
        return got["state"]

    assert states() == "active"
    clock["offset"] = timedelta(hours=2)                 # past its expiry
    assert states() == "expired"
    clock["offset"] = timedelta(0)                       # a clock set back: active again, computed at read time
    assert states() == "active"
    assert client.delete(one, headers=auth("admin")).status_code == 204
    assert states() == "revoked"
    clock["offset"] = timedelta(hours=2)                 # revoked is final, whatever the expiry
    assert states() == "revoked"
    assert client.get(f"{listed}?state=forgotten", headers=auth("read")).status_code == 422
    assert client.get("/api/v1/waivers/999", headers=auth("read")).status_code == 404
