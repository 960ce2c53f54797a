"""A database error stored as a reason (audit, remediation, install window) names its cause, never the
SQL statement or its parameters: those carry the values being written."""
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hardening.engine import inputs
from store.db import error_text
from tests.audits.test_rmm import _audit

CANARY = "CANARY-7f3e-evidence-value"


def _sql_error() -> OperationalError:
    engine = create_engine("sqlite://")
    with engine.connect() as conn, pytest.raises(OperationalError) as caught:
        conn.execute(text("INSERT INTO no_such_table (evidence) VALUES (:value)"), {"value": CANARY})
    return caught.value


def test_error_text_keeps_the_cause_and_drops_the_statement():
    exc = _sql_error()
    assert CANARY in str(exc) and "INSERT INTO" in str(exc)       # what SQLAlchemy itself would show
    assert error_text(exc) == "database error: OperationalError: no such table: no_such_table"
    assert error_text(ValueError("bad port 70000")) == "ValueError: bad port 70000"
    assert error_text(sqlite3.OperationalError("database is locked")) == "OperationalError: database is locked"


def test_an_audit_failed_by_the_database_says_why_without_sql(client, auth, insecure_site, monkeypatch):
    def failing_write(sess, gathered):
        sess.execute(text("INSERT INTO no_such_table (evidence) VALUES (:value)"), {"value": CANARY})
    monkeypatch.setattr(inputs, "record_host_keys", failing_write)
    audit = _audit(client, auth, insecure_site)
    assert audit["state"] == "failed"
    assert audit["error"] == "database error: OperationalError: no such table: no_such_table"
    listing = client.get(f"/api/v1/sites/{insecure_site}/audits", headers=auth("read"))
    assert listing.status_code == 200 and listing.json[0]["id"] == audit["id"]
    assert CANARY not in listing.get_data(as_text=True) and "INSERT" not in listing.get_data(as_text=True)
