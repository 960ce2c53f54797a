"""Persistence: SQLite through SQLAlchemy 2, Alembic migrations, encrypted secrets."""
