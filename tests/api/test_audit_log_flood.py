"""Requests nobody authenticated are counted, not logged row by row; the audit log has a cap."""
from __future__ import annotations

from sqlalchemy import func, select

from store.models import AuditLogEntry, RequestCounter


def _rows(app, model):
    with app.extensions["db"].session() as sess:
        return sess.scalar(select(func.count()).select_from(model))


def _counts(app):
    totals: dict = {}
    with app.extensions["db"].session() as sess:
        for row in sess.scalars(select(RequestCounter)):          # summed: the flood may cross a minute
            totals[(row.kind, row.status_code)] = totals.get((row.kind, row.status_code), 0) + row.count
    return totals


def test_a_flood_of_unauthenticated_requests_adds_counters_not_rows(app, client, auth):
    for n in range(1000):
        assert client.post(f"/api/v1/nothing-here/{n}", json={"x": n}).status_code == 404
    for _ in range(20):
        client.delete("/api/v1/sites/1")                      # routed, no token: 401
    client.get("/api/v1/health")                              # public reads are not counted
    assert _rows(app, AuditLogEntry) == 0
    limit = app.config["AUTH_FAILURE_LIMIT"]                  # then the address is limited: 429
    assert _counts(app) == {("unrouted", 404): 1000, ("unauthenticated", 401): limit,
                            ("unauthenticated", 429): 20 - limit}
    assert _rows(app, RequestCounter) <= 2 * 3                # at most a minute boundary crossed
    listed = client.get("/api/v1/audit-log/request-counters", headers=auth("admin"))
    assert listed.status_code == 200
    assert sum(r["count"] for r in listed.json if r["kind"] == "unrouted") == 1000


def test_authenticated_mutations_are_logged_and_the_cap_holds(app, client, auth):
    app.config["AUDIT_LOG_MAX_ROWS"] = 25
    h = auth("admin")
    for n in range(60):
        assert client.post("/api/v1/sites", json={"name": f"S{n}"}, headers=h).status_code == 201
    with app.extensions["db"].session() as sess:
        paths = sess.scalars(select(AuditLogEntry.id).order_by(AuditLogEntry.id)).all()
    assert len(paths) == 25 and paths[-1] == 60 and paths[0] == 36        # the newest 25 stayed
    assert client.post("/api/v1/sites", json={"name": "x"}, headers=auth("read")).status_code == 403
    with app.extensions["db"].session() as sess:
        newest = sess.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert (newest.actor, newest.outcome) == ("token:test-read", "denied")   # a token holder's refusal is a row
    assert _rows(app, AuditLogEntry) == 25
