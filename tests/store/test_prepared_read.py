"""PreparedRead: the hot-path SELECTs run on the DBAPI connection, typed as SQLAlchemy would type them,
and the request's connection goes back to the pool."""
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, select

from store.db import PreparedRead, dbapi_connection, get_db
from store.models import ApiToken, utcnow

TOKENS_USED_SINCE = PreparedRead(select(ApiToken.id, ApiToken.name, ApiToken.last_used_at)
                                 .where(ApiToken.last_used_at >= bindparam("since")).order_by(ApiToken.id))


def _used(app, names_and_ages):
    now = utcnow()
    with app.app_context(), get_db().session() as sess:
        for name, age in names_and_ages:
            sess.add(ApiToken(name=name, scope="read", token_hash=name * 8, prefix=name[:12],
                              last_used_at=now - age))
        sess.commit()
    return now


def test_parameters_and_columns_are_typed_like_sqlalchemy(app):
    now = _used(app, [("early", timedelta(hours=2)), ("late", timedelta(minutes=5))])
    with app.app_context():
        connection = get_db().engine.raw_connection()
        try:
            row = TOKENS_USED_SINCE.first(connection, {"since": now - timedelta(hours=1)})
            none = TOKENS_USED_SINCE.first(connection, {"since": now + timedelta(minutes=1)})
        finally:
            connection.close()
        with get_db().session() as sess:
            expected = sess.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "late"))
    assert row.name == "late"                       # the datetime parameter compared as a datetime
    assert row.last_used_at == expected == now - timedelta(minutes=5)     # and read back as one
    assert none is None


def test_a_statement_with_an_expanding_parameter_is_refused(app):
    in_list = PreparedRead(select(ApiToken.id).where(ApiToken.id.in_(bindparam("ids", expanding=True))))
    with app.app_context():
        connection = get_db().engine.raw_connection()
        try:
            with pytest.raises(ValueError, match="expanding"):
                in_list.first(connection, {"ids": [1, 2]})
        finally:
            connection.close()


def test_the_request_connection_goes_back_at_teardown(app):
    pool = app.extensions["db"].engine.pool
    with app.test_request_context():
        held = dbapi_connection()           # kept referenced here: only teardown can give it back
        assert dbapi_connection() is held and pool.checkedout() == 1
    assert pool.checkedout() == 0


def test_requests_give_their_connection_back(client, auth, site):
    pool = client.application.extensions["db"].engine.pool
    for _ in range(40):
        assert client.get(f"/api/v1/sites/{site['id']}/status", headers=auth("read")).status_code == 200
    for _ in range(3):
        assert client.get("/api/v1/sites", headers={"Authorization": "Bearer awxh_wrong"}).status_code == 401
    assert pool.checkedout() == 0
