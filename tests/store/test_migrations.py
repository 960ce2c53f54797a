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
