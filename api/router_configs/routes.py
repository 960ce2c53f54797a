"""POST /router-configs/analyze: which forwards a configuration has, and which are dangerous."""
from __future__ import annotations

from flask_smorest import abort

from api.extensions import Blueprint
from api.router_configs.schemas import AnalysisSchema, AnalyzeArgsSchema
from firewall.model import ParseError
from hardening.engine.analyze import parse_and_analyze

blp = Blueprint("RouterConfigs", __name__, url_prefix="/api/v1/router-configs",
                description="Offline router configuration analysis")


@blp.route("/analyze", methods=["POST"])
@blp.auth_required("audit")
@blp.arguments(AnalyzeArgsSchema)
@blp.response(200, AnalysisSchema)
def analyze(args):
    """Analyze a router configuration (text or command outputs)"""
    source = args.pop("config", None) or args.pop("outputs")
    platform = args.pop("platform")
    try:
        return parse_and_analyze(source, platform, **args)
    except ParseError as exc:
        field = "config" if isinstance(source, str) else "outputs"
        abort(422, message=str(exc), errors={"json": {field: [str(exc)]}})
