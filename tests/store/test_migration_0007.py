"""0007 on a database as revision 0006 left it (a real site, audit-log entries, a failure count): nothing
existing changes, the request counters start empty and work, and the log cap then applies to old rows too."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.store.test_migrations import _head, _previous_release_db, _upgrade_to


def test_upgrade_to_request_counters_keeps_the_audit_log_and_starts_counting(tmp_path):
    from api.auth import new_token
    from app import create_app
    data_dir = tmp_path / "d"
    url = _previous_release_db(data_dir)
    _upgrade_to(url, "0006")
    engine = create_engine(url)
    with engine.begin() as conn:
        for n in range(1, 6):
            conn.execute(text("INSERT INTO audit_log (id, at, actor, method, path, status_code, outcome, remote_addr,"
                              " detail) VALUES (:n, '2026-11-20 10:00:00.000000', 'token:rmm', 'POST',"
                              " '/api/v1/sites/7/audits', 202, 'success', '192.168.1.50', '{}')"), {"n": n})
        conn.execute(text("INSERT INTO auth_failures (remote_addr, window_start, count) VALUES"
                          " ('192.168.1.66', '2026-11-20 10:00:00.000000', 3)"))
        before = {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in ("audit_log", "auth_failures")}
    engine.dispose()

    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "AUDIT_LOG_MAX_ROWS": 3})   # migrates on start
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        for table, old in before.items():
            assert conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all() == old, table
        assert conn.execute(text("SELECT count(*) FROM request_counters")).scalar() == 0
    engine.dispose()

    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "after-upgrade", "admin")
        sess.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/nowhere").status_code == 404
    assert client.get("/api/v1/audit-log/request-counters", headers=headers).json[0]["count"] == 1
    assert client.put("/api/v1/sites/7", json={}, headers=headers).status_code == 428
    log = client.get("/api/v1/audit-log", headers=headers).json
    assert [e["id"] for e in log] == [6, 5, 4]                       # the cap rolled the oldest out
    assert log[1]["remote_addr"] == "192.168.1.50" and log[0]["status_code"] == 428
