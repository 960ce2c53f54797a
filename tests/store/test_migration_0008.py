"""0008 on a database as revision 0007 left it (a site, a router, a pbx, remediations on both): every row is
kept as it was, and from then on deleting a device keeps the record of the changes made on it."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.store.test_migrations import _head, _previous_release_db, _upgrade_to

T = "2026-11-21 09:00:00.000000"
ROUTER = ("INSERT INTO devices (id, site_id, kind, name, address, wan_address, ports, model, device_type, snmp,"
          " declared_facts, notes, created_at, updated_at) VALUES (4, 7, 'router', 'edge', '192.168.1.1', NULL,"
          " '{\"ssh\": 22}', '', 'linux', '{}', '{}', '', :t, :t)")
REMEDIATION = ("INSERT INTO remediations (id, site_id, device_id, state, plan, backup, verification,"
               " confirm_timeout_seconds, confirm_deadline, error, created_by, created_at, updated_at) VALUES"
               " (:id, 7, :device, :state, '{\"platform\": \"linux\", \"removals\": [{\"rule\": \"ip portfwd prerouting"
               " handle 6\"}]}', '{}', '{\"read_back\": \"ok\"}', 300, NULL, '', 'token:msp', :t, :t)")


def test_upgrade_keeps_every_remediation_and_then_a_deleted_device_keeps_its_records(tmp_path):
    from api.auth import new_token
    from app import create_app
    data_dir = tmp_path / "d"
    url = _previous_release_db(data_dir)
    _upgrade_to(url, "0007")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(ROUTER), {"t": T})
        for rid, device, state in ((1, 4, "confirmed"), (2, 4, "rolled_back"), (3, 3, "refused")):
            conn.execute(text(REMEDIATION), {"id": rid, "device": device, "state": state, "t": T})
        before = conn.execute(text("SELECT * FROM remediations ORDER BY id")).all()
    engine.dispose()

    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})           # migrates on start
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head() == "0008"
        assert conn.execute(text("SELECT * FROM remediations ORDER BY id")).all() == before
        fks = conn.execute(text("PRAGMA foreign_key_list(remediations)")).mappings().all()
        assert {(f["table"], f["from"], f["on_delete"]) for f in fks} == {("devices", "device_id", "SET NULL"),
                                                                         ("sites", "site_id", "CASCADE")}
    engine.dispose()

    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "after-upgrade", "admin")
        sess.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    etag = client.get("/api/v1/devices/4", headers=headers).headers["ETag"]
    assert client.delete("/api/v1/devices/4", headers={**headers, "If-Match": etag}).status_code == 204
    kept = [client.get(f"/api/v1/remediations/{rid}", headers=headers).json for rid in (1, 2, 3)]
    assert [(r["id"], r["device_id"], r["state"]) for r in kept] == [(1, None, "confirmed"), (2, None, "rolled_back"),
                                                                     (3, 3, "refused")]
    assert kept[0]["created_by"] == "token:msp" and kept[0]["plan"]["removals"]
    refused = client.post("/api/v1/remediations/1/rollback", headers=headers)
    assert refused.status_code == 409 and "deleted" in refused.json["message"]
