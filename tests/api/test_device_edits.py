"""Editing a device keeps its trust: the host-key pin survives a PUT that does not change it, a GET -> PUT
round trip works, accepting a changed key names the fingerprint checked, and a device a change runs on is
neither edited nor deleted (its remediation records are never lost)."""
from __future__ import annotations

import base64
from datetime import timedelta

from store.audit_models import DeviceLock, Remediation
from store.models import AuditLogEntry, Device, utcnow


def _ed25519(seed: int) -> dict:
    blob = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([seed]) * 32).decode()
    from device_drivers.hostkeys import fingerprint
    return {"type": "ssh-ed25519", "key": blob, "sha256": fingerprint(blob)}


PINNED, OTHER = _ed25519(1), _ed25519(2)


def _router(client, h, site, **extra):
    resp = client.post("/api/v1/devices", json={"site_id": site["id"], "kind": "router", "name": "gw",
                                                "address": "192.168.1.1", "device_type": "linux", **extra}, headers=h)
    assert resp.status_code == 201, resp.json
    return resp.json


def _stored(app, device_id):
    with app.extensions["db"].session() as sess:
        return sess.get(Device, device_id)


def _put(client, h, device_id, body):
    etag = client.get(f"/api/v1/devices/{device_id}", headers=h).headers["ETag"]
    return client.put(f"/api/v1/devices/{device_id}", json=body, headers={**h, "If-Match": etag})


def _editable(device: dict) -> dict:
    return {k: device[k] for k in ("site_id", "kind", "name", "address", "device_type")}


def test_a_put_without_the_key_keeps_the_pin(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site, ssh_host_key={"type": PINNED["type"], "key": PINNED["key"]})
    assert dev["ssh_host_key"] == PINNED                          # sha256 filled in
    resp = _put(client, h, dev["id"], {**_editable(dev), "notes": "moved to rack 2"})
    assert resp.status_code == 200, resp.json
    assert resp.json["ssh_host_key"] == PINNED and resp.json["notes"] == "moved to rack 2"
    assert _stored(app, dev["id"]).ssh_host_key == PINNED


def test_a_get_put_round_trip_works_and_changes_nothing(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site, ssh_host_key=PINNED, credentials={"username": "admin", "password": "pw-Long-1"})
    got = client.get(f"/api/v1/devices/{dev['id']}", headers=h)
    resp = client.put(f"/api/v1/devices/{dev['id']}", json=got.json, headers={**h, "If-Match": got.headers["ETag"]})
    assert resp.status_code == 200, resp.json
    # an empty snmp object is stored as sent on create and gets its defaults on load: the one normalisation
    unchanged = {k: v for k, v in got.json.items() if k not in ("snmp", "updated_at")}
    assert {k: v for k, v in resp.json.items() if k in unchanged} == unchanged
    assert resp.json["ssh_host_key"] == PINNED and resp.json["credentials_set"] == ["password"]


def test_a_read_only_field_that_differs_is_refused(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site, ssh_host_key=PINNED)
    for field, value in (("id", dev["id"] + 1), ("ssh_host_key_presented", OTHER), ("username", "root")):
        resp = _put(client, h, dev["id"], {**dev, field: value})
        assert resp.status_code == 422 and field in resp.json["errors"]["json"], (field, resp.json)
    assert _stored(app, dev["id"]).ssh_host_key == PINNED


def test_the_pin_changes_only_when_asked(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site, ssh_host_key=PINNED)
    bad = _put(client, h, dev["id"], {**_editable(dev), "ssh_host_key": {**OTHER, "sha256": PINNED["sha256"]}})
    assert bad.status_code == 422 and "ssh_host_key" in bad.json["errors"]["json"]
    with app.extensions["db"].session() as sess:             # an audit parked the key the router now shows
        sess.get(Device, dev["id"]).ssh_host_key_presented = OTHER
        sess.commit()
    resp = _put(client, h, dev["id"], {**_editable(dev), "ssh_host_key": OTHER})
    assert resp.status_code == 200 and resp.json["ssh_host_key"] == OTHER
    assert resp.json["ssh_host_key_presented"] is None      # the parked key is the one now pinned
    resp = _put(client, h, dev["id"], {**_editable(dev), "ssh_host_key": None})
    assert resp.status_code == 200 and resp.json["ssh_host_key"] is None     # explicitly unpinned


def test_accepting_a_changed_key_needs_its_fingerprint(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site, ssh_host_key=PINNED)
    url = f"/api/v1/devices/{dev['id']}/host-key/accept"
    assert client.post(url, json={"sha256": OTHER["sha256"]}, headers=h).status_code == 409   # nothing presented
    with app.extensions["db"].session() as sess:
        sess.get(Device, dev["id"]).ssh_host_key_presented = OTHER
        sess.commit()
    assert client.post(url, headers=h).status_code == 422                                      # no fingerprint
    wrong = client.post(url, json={"sha256": PINNED["sha256"]}, headers=h)     # not the key presented now
    assert wrong.status_code == 409 and OTHER["sha256"] in wrong.json["message"]
    assert _stored(app, dev["id"]).ssh_host_key == PINNED and _stored(app, dev["id"]).ssh_host_key_presented == OTHER
    resp = client.post(url, json={"sha256": OTHER["sha256"]}, headers=h)
    assert resp.status_code == 200 and resp.json["ssh_host_key"] == OTHER and resp.json["ssh_host_key_presented"] is None


def _lock(app, device_id, seconds=300):
    with app.extensions["db"].session() as sess:
        now = utcnow()
        sess.add(DeviceLock(device_id=device_id, holder="remediation:9", acquired_at=now,
                            expires_at=now + timedelta(seconds=seconds)))
        sess.commit()


def _remediation(app, site, device_id, state):
    with app.extensions["db"].session() as sess:
        row = Remediation(site_id=site["id"], device_id=device_id, state=state, plan={"kind": "nft"},
                          created_by="token:test-remediate")
        sess.add(row)
        sess.commit()
        return row.id


def _delete(client, h, device_id):
    etag = client.get(f"/api/v1/devices/{device_id}", headers=h).headers["ETag"]
    return client.delete(f"/api/v1/devices/{device_id}", headers={**h, "If-Match": etag})


def test_a_locked_device_is_neither_edited_nor_deleted(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site)
    _lock(app, dev["id"])
    resp = _put(client, h, dev["id"], {**_editable(dev), "address": "192.168.1.254"})
    assert resp.status_code == 409 and "remediation:9" in resp.json["message"]
    assert _delete(client, h, dev["id"]).status_code == 409
    assert _stored(app, dev["id"]).address == "192.168.1.1"


def test_an_expired_lock_does_not_block(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site)
    _lock(app, dev["id"], seconds=-1)
    assert _put(client, h, dev["id"], {**_editable(dev), "notes": "x"}).status_code == 200


def test_a_change_awaiting_confirmation_keeps_the_device_and_its_record(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site)
    rid = _remediation(app, site, dev["id"], "awaiting_confirmation")
    resp = _delete(client, h, dev["id"])
    assert resp.status_code == 409 and str(rid) in resp.json["message"]
    with app.extensions["db"].session() as sess:
        assert sess.get(Remediation, rid).state == "awaiting_confirmation"


def test_deleting_a_device_keeps_its_finished_remediations_in_the_audit_log(app, client, auth, site):
    h = auth("admin")
    dev = _router(client, h, site)
    rid = _remediation(app, site, dev["id"], "confirmed")
    assert _delete(client, h, dev["id"]).status_code == 204
    with app.extensions["db"].session() as sess:
        entry = sess.query(AuditLogEntry).filter_by(method="DELETE").one()
    assert entry.detail["device"] == {"id": dev["id"], "name": "gw", "site_id": site["id"]}
    assert [(r["id"], r["state"], r["created_by"]) for r in entry.detail["removed_remediations"]] == [
        (rid, "confirmed", "token:test-remediate")]
