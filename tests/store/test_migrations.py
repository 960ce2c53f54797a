"""Alembic migrations produce exactly the schema the models declare, and apply on start under WAL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import store.audit_models  # noqa: F401
from store.db import migrate
from store.models import Base


def test_migrations_match_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url, str(tmp_path))
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ; run `make migration MSG=...`: {diff}"


def test_database_runs_in_wal_mode(app):
    db = app.extensions["db"]
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_restart_keeps_data_and_reapplying_migrations_is_a_no_op(tmp_path):
    from app import create_app
    cfg = {"DATA_DIR": str(tmp_path / "d"), "TESTING": True}
    first = create_app(cfg)
    first.test_client()   # noqa: B018
    with first.app_context():
        from api.auth import new_token
        with first.extensions["db"].session() as sess:
            new_token(sess, "survivor", "read")
            sess.commit()
    second = create_app(cfg)
    with second.extensions["db"].session() as sess:
        from store.models import ApiToken
        assert sess.query(ApiToken).filter_by(name="survivor").count() == 1


PREVIOUS_HEAD = "0003"          # the release before site time zones (0004)


def _upgrade_to(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from store.db import MIGRATIONS_DIR
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, revision)


def _head() -> str:
    from alembic.script import ScriptDirectory

    from store.db import MIGRATIONS_DIR
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def _previous_release_db(data_dir) -> str:
    """A database as the previous release left it, with a real site's content in it."""
    data_dir.mkdir(parents=True)
    url = f"sqlite:///{data_dir / 'appliance.db'}"
    _upgrade_to(url, PREVIOUS_HEAD)
    t = "2026-11-20 10:00:00.000000"
    rows = [
        ("INSERT INTO sites (id, name, wan_addresses, lan_subnets, voice_vlan_id, voice_subnet, required_wan_services,"
         " allowed_sip_peers, notes, created_at, updated_at) VALUES (7, 'Dental North', '[\"203.0.113.10\"]',"
         " '[\"192.168.1.0/24\"]', 20, '10.20.0.0/24', '[\"sip\"]', '[]', 'front desk', :t, :t)"),
        ("INSERT INTO devices (id, site_id, kind, name, address, wan_address, ports, model, device_type, snmp,"
         " declared_facts, notes, created_at, updated_at) VALUES (3, 7, 'allworx_server', 'pbx', '192.168.1.10',"
         " NULL, '{\"admin\": 8080}', 'Connect 731', NULL, '{\"version\": \"2c\"}', '{}', '', :t, :t)"),
        ("INSERT INTO audits (id, site_id, profile, state, requested_by, rerun_of, created_at, started_at,"
         " finished_at, heartbeat_at, runner, progress, error, summary) VALUES (11, 7, 'baseline', 'completed',"
         " 'token:rmm', NULL, :t, :t, :t, NULL, 'w1', '{}', '', '{\"score\": {\"raw\": 40}}')"),
        ("INSERT INTO audit_results (id, audit_id, check_id, device_id, status, severity, target, message,"
         " provenance, evidence) VALUES (1, 11, 'AWX-SRV-004', 3, 'fail', 'high', 'pbx', 'SMTP open on 25',"
         " 'observed', '[]')"),
        ("INSERT INTO waivers (id, site_id, check_id, scope, device_id, justification, approver, risk, created_by,"
         " created_at, expires_at, revoked_at) VALUES (5, 7, 'AWX-SRV-004', 'device', 3, 'mail moves in January',"
         " 'Dana', 'voicemail mail', 'token:admin', :t, NULL, NULL)"),
        ("INSERT INTO schedules (id, site_id, cron, profile, enabled, next_run_at, last_run_at, last_audit_id)"
         " VALUES (2, 7, '0 3 * * *', 'baseline', 1, '2099-01-01 03:00:00.000000', :t, 11)"),
        ("INSERT INTO schedules (id, site_id, cron, profile, enabled, next_run_at, last_run_at, last_audit_id)"
         " VALUES (4, 7, '30 2 * * 1', 'baseline', 0, '2099-01-05 02:30:00.000000', NULL, NULL)"),
    ]
    engine = create_engine(url)
    with engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), {"t": t})
    engine.dispose()
    return url


def test_upgrade_from_the_previous_release_keeps_everything_and_fills_the_new_columns(tmp_path):
    from api.auth import new_token
    from app import create_app
    data_dir = tmp_path / "d"
    url = _previous_release_db(data_dir)
    engine = create_engine(url)
    with engine.connect() as conn:
        before = {table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                  for table in ("sites", "devices", "audits", "audit_results", "waivers", "schedules")}
    engine.dispose()

    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})        # migrates on start
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        for table, old in before.items():
            now = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            width = len(old[0])
            assert [tuple(r)[:width] for r in now] == [tuple(r) for r in old], f"{table} changed"
        assert conn.execute(text("SELECT timezone FROM sites")).scalars().all() == ["UTC"]
    engine.dispose()

    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "after-upgrade", "admin")
        sess.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    site = client.get("/api/v1/sites/7", headers=headers).json
    assert site["timezone"] == "UTC" and site["name"] == "Dental North" and site["voice_vlan_id"] == 20
    listed = client.get("/api/v1/sites/7/schedules", headers=headers).json
    assert [(s["id"], s["enabled"], s["timezone"], s["next_run_at"]) for s in listed] == [
        (2, True, "UTC", "2099-01-01T03:00:00+00:00"),     # planned in UTC before: still exactly right
        (4, False, "UTC", None)]                          # a disabled one shows as paused: no next run
    assert listed[0]["next_run_local"] == "2099-01-01T03:00:00+00:00" and listed[0]["last_audit_id"] == 11
    waivers = client.get("/api/v1/sites/7/waivers", headers=headers).json
    assert [(w["id"], w["state"], w["expires_at"], w["device_id"]) for w in waivers] == [(5, "active", None, 3)]
    rows = client.get("/api/v1/audits/11/results", headers=headers).json
    assert rows[0]["check_id"] == "AWX-SRV-004" and rows[0]["waived"] is True


def test_upgrade_to_credential_memory_keeps_the_budget_and_the_verdicts_and_starts_empty(tmp_path):
    """0006 on a database as revision 0005 left it (a real site, an audit with a login verdict, today's
    attempt count): nothing existing changes, the memory table starts empty and works."""
    from datetime import date

    from app import create_app
    from hardening.engine.inputs import prior_verdicts
    from hardening.jobs.credbudget import PersistentAttemptBudget
    data_dir = tmp_path / "d"
    url = _previous_release_db(data_dir)
    _upgrade_to(url, "0005")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO credential_attempts (device_key, day, count) VALUES "
                          "('allworx_server:192.168.1.10', '2026-11-20', 4)"))
        conn.execute(text("INSERT INTO audit_results (id, audit_id, check_id, device_id, status, severity, target,"
                          " message, provenance, evidence) VALUES (2, 11, 'AWX-SRV-005', 3, 'fail', 'critical', 'pbx',"
                          " 'the server admin login accepted a default or trivial password', 'observed', '[]')"))
        before = conn.execute(text("SELECT * FROM credential_attempts")).all()
    engine.dispose()

    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})        # migrates on start
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        assert conn.execute(text("SELECT * FROM credential_attempts")).all() == before
        assert conn.execute(text("SELECT count(*) FROM credential_memory")).scalar() == 0
    engine.dispose()
    budget = PersistentAttemptBudget(app.extensions["db"], 6, today=lambda: date(2026, 11, 20))
    assert budget.used("allworx_server:192.168.1.10") == 4 and budget.recall("allworx_server:192.168.1.10") is None
    budget.remember("allworx_server:192.168.1.10", 1)
    assert budget.recall("allworx_server:192.168.1.10") == 1
    budget.remember("allworx_server:192.168.1.10", None)
    assert budget.recall("allworx_server:192.168.1.10") is None
    with app.extensions["db"].session() as sess:
        verdict = prior_verdicts(sess, 7)[("AWX-SRV-005", 3)]
    assert (verdict.status, verdict.audit_id, verdict.decided_on) == ("fail", 11, "2026-11-20")


def test_upgrade_to_audit_health_keeps_audits_and_leaves_their_health_unrecorded(tmp_path):
    """0005 on a database as revision 0004 left it (a real site, a completed audit with its stored summary,
    a waived result): nothing existing changes; the old audit's health is NULL ("not recorded"), which its
    summary, the audit answer and the site status show as null without inventing a device list."""
    from api.auth import new_token
    from app import create_app
    from store.audit_models import Audit
    data_dir = tmp_path / "d"
    url = _previous_release_db(data_dir)
    _upgrade_to(url, "0004")
    engine = create_engine(url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT * FROM audits ORDER BY id")).all()
        assert "health" not in conn.execute(text("SELECT * FROM audits")).keys()
    engine.dispose()

    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})        # migrates on start
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        now = conn.execute(text("SELECT * FROM audits ORDER BY id")).all()
        assert [tuple(r)[:len(before[0])] for r in now] == [tuple(r) for r in before]
        assert conn.execute(text("SELECT health FROM audits")).scalars().all() == [None]
    engine.dispose()

    with app.app_context(), app.extensions["db"].session() as sess:
        _row, token = new_token(sess, "after-upgrade", "read")
        sess.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    audit = client.get("/api/v1/audits/11", headers=headers).json
    assert audit["health"] is None and audit["summary"]["health"] is None
    assert audit["summary_at_completion"] == {"score": {"raw": 40}}          # stored once, never recomputed
    # the one result (AWX-SRV-004, high, fail) is waived: raw 0, waived 100, no withholding, nothing named
    assert audit["summary"]["score"]["raw"] == 0.0 and audit["summary"]["score"]["waived"] == 100.0
    assert "withheld" not in audit["summary"]["score"] and audit["summary"]["problems"] == []
    assert audit["summary"]["overall"] == "OK"
    status = client.get("/api/v1/sites/7/status", headers=headers).json
    assert status["overall"] == "OK" and status["score"]["raw"] == 0.0 and status["health"] is None

    entry = {"device_id": 3, "name": "pbx", "kind": "allworx_server", "address": "192.168.1.10", "reached": False,
             "reason": "timed out", "channels": {"web": {"state": "failed", "reason": "timed out", "detail": "x"}}}
    with app.app_context(), app.extensions["db"].session() as sess:     # the new column keeps a list
        sess.add(Audit(id=12, site_id=7, state="completed", health=[entry], summary={}))
        sess.commit()
    with app.app_context(), app.extensions["db"].session() as sess:
        assert sess.get(Audit, 12).health == [entry]
