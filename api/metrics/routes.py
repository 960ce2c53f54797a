"""GET /metrics: the latest completed audit of every site, in Prometheus text format (prometheus_client)."""
from __future__ import annotations

from flask import Response

from api.extensions import Blueprint
from hardening.outputs import prometheus
from store.db import session
from store.models import utcnow

blp = Blueprint("Metrics", __name__, url_prefix="", description="Prometheus metrics")


@blp.route("/metrics")
@blp.auth_required("read")
@blp.response(200, {"type": "string"}, content_type="text/plain; version=0.0.4")
def metrics():
    """Per-site state, hardening index, withheld score, failing checks, audit age and device reachability

    Read from the database on every scrape (every worker answers the same). Alert rules for these
    metrics ship in hardening/data/prometheus/alerts.yml."""
    body, content_type = prometheus.exposition(session(), utcnow())
    return Response(body, content_type=content_type)
