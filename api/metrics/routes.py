"""GET /metrics: the latest completed audit of every site, in Prometheus text format."""
from __future__ import annotations

from flask import Response
from sqlalchemy import select

from api.extensions import Blueprint
from hardening.engine import summaries
from hardening.outputs import prometheus
from store.db import session
from store.models import Site, utcnow

blp = Blueprint("Metrics", __name__, url_prefix="", description="Prometheus metrics")


@blp.route("/metrics")
@blp.auth_required("read")
@blp.response(200, {"type": "string"}, content_type="text/plain; version=0.0.4")
def metrics():
    """Per-site hardening index, failing checks and last audit time (Prometheus text format)"""
    entries, now = [], utcnow()
    for site in session().scalars(select(Site).order_by(Site.id)):
        audit = summaries.latest_completed(session(), site.id)
        summary = summaries.audit_summary(session(), audit, now) if audit else None
        entries.append({"site": site.name, "summary": summary,
                        "finished_ts": audit.finished_at.timestamp() if audit else None})
    return Response(prometheus.render(entries), mimetype="text/plain", content_type="text/plain; version=0.0.4")
