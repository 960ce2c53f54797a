"""Engine and session handling: one engine per app, one session per request, WAL mode; prepared reads
for the statements nearly every request runs."""
from __future__ import annotations

import fcntl
import os
from collections import namedtuple
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Select, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

import store.audit_models  # noqa: F401  (every table is known before the first query)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Database:
    def __init__(self, url: str):
        self.url = url
        # pool_size: a worker's 8 request threads, its audit runners and background duties each hold a
        # connection, most requests a second one (prepared reads, then the session); beyond the pool,
        # connections are opened and closed per use (with their PRAGMAs). SQLite has no connection limit:
        # the overflow is wide so that a busy moment never waits on the pool.
        self.engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=16,
                                    max_overflow=48)
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self.file = sqlite_file(url)
        if self.file is not None:
            event.listen(self.engine, "connect", lambda *_: make_private(self.file))
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessionmaker()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")      # readers never block the writer
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")    # safe with WAL: a crash loses at most the last commit
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


PRIVATE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def sqlite_file(url: str) -> Path | None:
    """The database file of a sqlite:/// URL (None for memory or another database)."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_private(path: Path) -> None:
    """The database and its WAL, shared-memory and journal files readable by this user only, whatever the
    data directory's mode and the umask: they hold encrypted secrets, token hashes and the audit log.
    SQLite gives new -wal/-shm files the database file's mode; existing ones are set here."""
    for suffix in SQLITE_COMPANIONS:
        companion = Path(f"{path}{suffix}")
        try:
            if companion.stat().st_mode & 0o777 != PRIVATE:
                os.chmod(companion, PRIVATE)
        except FileNotFoundError:
            continue


def create_private(path: Path) -> None:
    """Create the file 0600 before anything else opens it (SQLite would create it with the umask's mode)."""
    os.close(os.open(path, os.O_CREAT | os.O_RDONLY, PRIVATE))
    make_private(path)


def database_url(data_dir: str, configured: str = "") -> str:
    return configured or f"sqlite:///{Path(data_dir) / 'appliance.db'}"


def migrate(url: str, lock_dir: str) -> None:
    """Apply Alembic migrations up to head; a file lock keeps several gunicorn workers from racing."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    database = sqlite_file(url)
    lock_path = Path(lock_dir) / ".migrate.lock"
    with os.fdopen(os.open(lock_path, os.O_CREAT | os.O_WRONLY, PRIVATE), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if database is not None:
            create_private(database)
        command.upgrade(cfg, "head")
        if database is not None:
            make_private(database)


def disk_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL ("database or disk is full") and for ENOSPC, also when wrapped."""
    import errno
    import sqlite3
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(orig)
    return isinstance(orig, OSError) and orig.errno == errno.ENOSPC


def error_text(exc: BaseException) -> str:
    """An exception as a reason to store and show. A database error names its cause, never its
    statement: SQLAlchemy's own text carries the SQL and its parameters (the values being written)."""
    if isinstance(exc, StatementError):
        cause = exc.orig
        return f"database error: {type(cause).__name__}: {cause}" if cause is not None else \
            f"database error: {type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


def init_app(app: Flask) -> Database:
    data_dir = app.config["DATA_DIR"]
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    url = database_url(data_dir, app.config.get("DATABASE_URL", ""))
    migrate(url, data_dir)
    db = Database(url)
    app.extensions["db"] = db
    app.teardown_appcontext(_close_session)
    return db


def get_db() -> Database:
    return current_app.extensions["db"]


def session() -> Session:
    """The request's session (created on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = get_db().session()
    return g.db_session


def dbapi_connection():
    """The request's pooled DBAPI connection for prepared reads (taken on first use, back at teardown)."""
    if "db_dbapi" not in g:
        g.db_dbapi = get_db().engine.raw_connection()
    return g.db_dbapi


class PreparedRead:
    """A SELECT that nearly every request runs (the token lookup, a status poll's stamp), compiled once and
    run straight on a DBAPI connection. SQLAlchemy's work per execution and the ORM session's were half of
    a status poll's time (~0.25 of 0.75 ms; the SQLite query itself takes ~0.02 ms). Parameters and
    columns still go through the statement's own type processors (SQLite keeps datetimes as text)."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._plans: dict[str, tuple] = {}          # per dialect

    def first(self, connection, params: dict):
        """The first row (a named tuple of the statement's columns), or None. In an app context: the
        statement is compiled for the app's database."""
        compiled, binds, columns, row_type = self._plan(get_db().engine.dialect)
        values = compiled.construct_params(params)
        for name, process in binds.items():
            values[name] = process(values[name])
        args = [values[name] for name in compiled.positiontup] if compiled.positional else values
        cursor = connection.cursor()
        try:
            cursor.execute(compiled.string, args)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            return None
        return row_type(*(value if process is None else process(value) for process, value in zip(columns, rows[0])))

    def _plan(self, dialect) -> tuple:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)
            if any(bind.expanding for bind in compiled.binds.values()):
                raise ValueError("PreparedRead runs fixed statements: no expanding IN parameters")
            binds = {name: process for name, bind in compiled.binds.items()
                     if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
            columns = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                       for column in self.statement.selected_columns]
            row_type = namedtuple("Row", self.statement.selected_columns.keys(), rename=True)
            plan = self._plans[dialect.name] = (compiled, binds, columns, row_type)
        return plan


def _close_session(_exc) -> None:
    sess = g.pop("db_session", None)
    if sess is not None:
        sess.close()
    connection = g.pop("db_dbapi", None)
    if connection is not None:
        connection.close()      # back to the pool (which rolls back: nothing is left open)


__all__ = ["Database", "Engine", "init_app", "get_db", "session", "dbapi_connection", "PreparedRead", "migrate",
           "database_url", "disk_full", "error_text"]
