"""Alembic environment: runs migrations against the URL the app configured."""
from alembic import context
from sqlalchemy import create_engine

import store.audit_models  # noqa: F401  (registers the audit tables on Base.metadata)
from store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    # batch mode: SQLite cannot ALTER most things in place; alembic copies the table instead
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
