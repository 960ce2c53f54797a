"""GET /health: the process is up and the database answers."""
from __future__ import annotations

import marshmallow as ma
from sqlalchemy import text

from api.extensions import Blueprint, Schema
from store.db import session

blp = Blueprint("Health", __name__, url_prefix="/api/v1/health", description="Liveness (no auth)")


class HealthSchema(Schema):
    status = ma.fields.String(metadata={"description": "ok or degraded"})
    database = ma.fields.String(metadata={"description": "ok, or the error reaching it"})
    role = ma.fields.String(metadata={"description": "appliance or probe"})


@blp.route("")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="Database unreachable")
def health():
    """Report liveness and database reachability"""
    from flask import current_app
    try:
        session().execute(text("SELECT 1"))
        return {"status": "ok", "database": "ok", "role": current_app.config["ROLE"]}
    except Exception as exc:  # any DB failure is a degraded health answer, never a 500
        return {"status": "degraded", "database": type(exc).__name__,
                "role": current_app.config["ROLE"]}, 503
