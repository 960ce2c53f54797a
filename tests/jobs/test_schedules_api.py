"""Schedules through the API: the site's time zone, next runs (UTC and local), edit, pause and resume,
and a tick that never runs a paused schedule and catches up with one run, not a storm."""
from datetime import datetime, timedelta

import pytest

from hardening.jobs import schedules
from store.audit_models import Audit, Schedule
from store.models import utcnow

NY = "America/New_York"


@pytest.fixture
def ny_site(client, auth):
    resp = client.post("/api/v1/sites", json={"name": "Dental NYC", "timezone": NY}, headers=auth("admin"))
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.fixture
def frozen(monkeypatch):
    """The schedules' planning clock, set: {"now": naive UTC}."""
    state = {"now": datetime(2026, 3, 7, 12, 0)}
    monkeypatch.setattr(schedules, "utcnow", lambda: state["now"])
    return state


def _schedule(client, auth, site_id, body):
    resp = client.post(f"/api/v1/sites/{site_id}/schedules", json=body, headers=auth("admin"))
    assert resp.status_code == 201, resp.json
    return resp.json


def _stored(app, schedule_id, **values):
    with app.extensions["db"].session() as sess:
        row = sess.get(Schedule, schedule_id)
        for key, value in values.items():
            setattr(row, key, value)
        sess.commit()


def test_site_time_zone_is_validated_and_defaults_to_utc(client, auth, site):
    assert site["timezone"] == "UTC"
    for bad in ("Mars/Olympus", "localtime", "", "EST5EDT\n", 5):
        resp = client.post("/api/v1/sites", json={"name": "Elsewhere", "timezone": bad}, headers=auth("admin"))
        assert resp.status_code == 422 and "timezone" in resp.json["errors"]["json"], (bad, resp.json)
    got = client.get(f"/api/v1/sites/{site['id']}", headers=auth("read"))
    resp = client.put(f"/api/v1/sites/{site['id']}", json={"name": "HQ", "timezone": "Nowhere/City"},
                      headers={**auth("admin"), "If-Match": got.headers["ETag"]})
    assert resp.status_code == 422 and "Nowhere/City" in resp.json["errors"]["json"]["timezone"][0]


def test_next_run_is_planned_on_the_sites_clocks_across_spring_forward(client, auth, ny_site, frozen):
    # 2026-03-08 in New York skips 02:00-02:59: a 02:30 schedule runs at 03:00 EDT that day
    made = _schedule(client, auth, ny_site["id"], {"cron": "30 2 * * *"})
    assert made["timezone"] == NY and made["enabled"] is True
    assert made["next_run_at"] == "2026-03-08T07:00:00+00:00"
    assert made["next_run_local"] == "2026-03-08T03:00:00-04:00"
    listed = client.get(f"/api/v1/sites/{ny_site['id']}/schedules", headers=auth("read")).json
    one = client.get(f"/api/v1/schedules/{made['id']}", headers=auth("read")).json
    assert listed == [made] and one == made


def test_tick_follows_the_zone_through_both_dst_changes(app, client, auth, ny_site):
    made = _schedule(client, auth, ny_site["id"], {"cron": "30 1 * * *"})
    db, submitted = app.extensions["db"], []
    # fall back, 2026-11-01: 01:30 EDT (05:30Z) runs; 01:30 EST an hour later does not
    _stored(app, made["id"], next_run_at=datetime(2026, 11, 1, 5, 30))
    assert len(schedules.tick(db, submitted.append, now=datetime(2026, 11, 1, 5, 30))) == 1
    shown = client.get(f"/api/v1/schedules/{made['id']}", headers=auth("read")).json
    assert shown["next_run_at"] == "2026-11-02T06:30:00+00:00" and shown["next_run_local"] == "2026-11-02T01:30:00-05:00"
    assert schedules.tick(db, submitted.append, now=datetime(2026, 11, 1, 6, 30)) == []
    # spring forward, 2026-03-08: 02:30 does not exist; the tick at 03:00 EDT runs it and plans 02:30 EDT next
    with db.session() as sess:
        sess.query(Audit).delete()
        sess.commit()
    edited = client.put(f"/api/v1/schedules/{made['id']}", json={"cron": "30 2 * * *"}, headers=auth("admin"))
    assert edited.status_code == 200, edited.json
    _stored(app, made["id"], next_run_at=datetime(2026, 3, 8, 7, 0))
    assert len(schedules.tick(db, submitted.append, now=datetime(2026, 3, 8, 7, 0))) == 1
    assert client.get(f"/api/v1/schedules/{made['id']}", headers=auth("read")).json["next_run_at"] == \
        "2026-03-09T06:30:00+00:00"


def test_edit_replaces_cron_profile_and_enabled_and_replans(client, auth, ny_site, frozen):
    made = _schedule(client, auth, ny_site["id"], {"cron": "0 3 * * *"})
    url = f"/api/v1/schedules/{made['id']}"
    resp = client.put(url, json={"cron": "15 22 * * 5", "profile": made["profile"]}, headers=auth("admin"))
    assert resp.status_code == 200, resp.json
    # Friday 2026-03-13 22:15 EDT = Saturday 02:15Z
    assert resp.json["cron"] == "15 22 * * 5" and resp.json["next_run_at"] == "2026-03-14T02:15:00+00:00"
    assert resp.json["next_run_local"] == "2026-03-13T22:15:00-04:00"
    for body, field in (({"cron": "61 * * * *"}, "cron"), ({"cron": "0 0 30 2 *"}, "cron"),
                        ({"cron": "0 3 * * *", "profile": "../../etc/passwd"}, "profile"),
                        ({"cron": "0 3 * * *", "enabled": "maybe"}, "enabled"), ({}, "cron"),
                        ({"cron": "0 3 * * *", "next_run_at": "2026-01-01T00:00:00Z"}, "next_run_at")):
        bad = client.put(url, json=body, headers=auth("admin"))
        assert bad.status_code == 422 and field in bad.json["errors"]["json"], (body, bad.json)
    assert client.get(url, headers=auth("read")).json == resp.json            # a refused edit changes nothing
    assert client.put("/api/v1/schedules/999", json={"cron": "0 3 * * *"}, headers=auth("admin")).status_code == 404
    assert client.put(url, json={"cron": "0 3 * * *"}, headers=auth("audit")).status_code == 403


def test_pause_and_resume(app, client, auth, ny_site, frozen):
    made = _schedule(client, auth, ny_site["id"], {"cron": "0 3 * * *"})
    url = f"/api/v1/schedules/{made['id']}"
    paused = client.post(url + "/pause", headers=auth("admin"))
    assert paused.status_code == 200, paused.json
    assert paused.json["enabled"] is False and paused.json["next_run_at"] is None and paused.json["next_run_local"] is None
    assert client.post(url + "/pause", headers=auth("admin")).json == paused.json          # idempotent
    # even with a slot long due in the database, a paused schedule never runs
    _stored(app, made["id"], next_run_at=datetime(2026, 3, 1))
    db, submitted = app.extensions["db"], []
    assert schedules.tick(db, submitted.append, now=datetime(2026, 3, 7, 12, 0)) == [] and submitted == []
    assert client.get(url, headers=auth("read")).json["next_run_at"] is None
    frozen["now"] = datetime(2026, 3, 20, 12, 0)
    resumed = client.post(url + "/resume", headers=auth("admin"))
    assert resumed.status_code == 200 and resumed.json["enabled"] is True
    assert resumed.json["next_run_at"] == "2026-03-21T07:00:00+00:00"    # the next slot after now, no make-up run
    assert client.post(url + "/resume", headers=auth("admin")).json == resumed.json
    # PUT with enabled false pauses too; a new schedule may start paused
    assert client.put(url, json={"cron": "0 3 * * *", "enabled": False}, headers=auth("admin")).json["next_run_at"] is None
    assert _schedule(client, auth, ny_site["id"], {"cron": "0 4 * * *", "enabled": False})["next_run_at"] is None
    for path in ("/api/v1/schedules/999/pause", "/api/v1/schedules/999/resume"):
        assert client.post(path, headers=auth("admin")).status_code == 404
    assert client.post(url + "/pause", headers=auth("read")).status_code == 403


def test_tick_after_downtime_runs_each_due_schedule_once(app, client, auth, site, ny_site):
    first = _schedule(client, auth, site["id"], {"cron": "*/5 * * * *"})
    second = _schedule(client, auth, ny_site["id"], {"cron": "0 3 * * *"})
    long_ago = utcnow() - timedelta(days=3)             # the appliance was off for three days
    for made in (first, second):
        _stored(app, made["id"], next_run_at=long_ago)
    db, submitted = app.extensions["db"], []
    now = utcnow()
    started = schedules.tick(db, submitted.append, now=now)
    assert len(started) == 2 and submitted == started                  # one run each, not a backlog
    for made in (first, second):
        shown = client.get(f"/api/v1/schedules/{made['id']}", headers=auth("read")).json
        assert datetime.fromisoformat(shown["next_run_at"]).replace(tzinfo=None) > now
        assert shown["last_audit_id"] in started
    assert schedules.tick(db, submitted.append, now=now + timedelta(seconds=30)) == []


def test_a_new_site_time_zone_replans_its_schedules(client, auth, site, frozen):
    made = _schedule(client, auth, site["id"], {"cron": "0 3 * * *"})
    assert made["next_run_at"] == "2026-03-08T03:00:00+00:00" and made["timezone"] == "UTC"
    got = client.get(f"/api/v1/sites/{site['id']}", headers=auth("read"))
    moved = client.put(f"/api/v1/sites/{site['id']}", json={"name": "HQ", "timezone": "Asia/Tokyo"},
                       headers={**auth("admin"), "If-Match": got.headers["ETag"]})
    assert moved.status_code == 200 and moved.json["timezone"] == "Asia/Tokyo"
    shown = client.get(f"/api/v1/schedules/{made['id']}", headers=auth("read")).json
    assert shown["timezone"] == "Asia/Tokyo"
    assert shown["next_run_at"] == "2026-03-07T18:00:00+00:00"          # 03:00 JST on the 8th
    assert shown["next_run_local"] == "2026-03-08T03:00:00+09:00"


def test_delete_and_unknown_schedule(client, auth, site):
    made = _schedule(client, auth, site["id"], {"cron": "0 3 * * *"})
    assert client.delete(f"/api/v1/schedules/{made['id']}", headers=auth("admin")).status_code == 204
    assert client.get(f"/api/v1/schedules/{made['id']}", headers=auth("read")).status_code == 404
    assert client.get("/api/v1/schedules/99999999999999999999", headers=auth("read")).status_code == 404
