"""POST /sites/{id}/port-forwards/verify, and POST /probe when this process runs as the outside probe."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_smorest import abort
from sqlalchemy import select

from api.common import get_or_404
from api.extensions import Blueprint, Schema
from api.fields import IPAddress
from api.remediations.routes import device_errors, opener
from api.router_configs.schemas import FindingSchema
from hardening.checks.registry import run_checks
from hardening.engine import outside
from hardening.engine.analyze import ROUTER_CHECKS
from hardening.model.catalog import check_meta
from hardening.model.policy import Policy
from hardening.model.probes import answered
from hardening.model.site import RouterFacts
from hardening.remediation.engine import inventory_facts
from hardening.remediation.planner import allow_listed
from store.db import session
from store.models import Device, Site

blp = Blueprint("PortForwards", __name__, url_prefix="/api/v1", description="Live port-forward verification")


class VerifyArgsSchema(Schema):
    outside_probe = ma.fields.Boolean(load_default=True, metadata={"description": "Also test reachability from "
                                                                                  "the outside probe, if configured"})


class RouterVerificationSchema(Schema):
    device_id = ma.fields.Integer()
    name = ma.fields.String()
    forwards = ma.fields.List(ma.fields.Dict())
    error = ma.fields.String(allow_none=True)


class VerifySchema(Schema):
    routers = ma.fields.List(ma.fields.Nested(RouterVerificationSchema))
    findings = ma.fields.List(ma.fields.Nested(FindingSchema))
    outside = ma.fields.Dict(allow_none=True, metadata={"description": "Outside probe results, keyed tcp/8080"})


def _classified(config, facts, policy) -> list[dict]:
    from firewall.exposure import classify_forwards
    out = []
    for item in classify_forwards(config, facts, policy):
        service = allow_listed(config.forwards[item["index"]], facts, policy)
        if service and item["classification"] == "dangerous":
            # allow-listed: kept; what the checks still say becomes advice, not a removal candidate
            item = {**item, "classification": "expected", "advice": item["reasons"]}
        out.append({**item, "allow_listed": service})
    return out


@blp.route("/sites/<int:site_id>/port-forwards/verify", methods=["POST"])
@blp.auth_required("audit")
@blp.arguments(VerifyArgsSchema)
@blp.response(200, VerifySchema)
@blp.errors(404, 409, 502, 504)
def verify(args, site_id):
    """Read the site's routers now: every forward classified, the router checks, outside reachability"""
    site = get_or_404(Site, site_id)
    facts, policy = inventory_facts(session(), site_id), Policy()
    routers = []
    for device in session().scalars(select(Device).where(Device.site_id == site_id, Device.kind == "router")):
        try:
            with opener()(device) as drv:
                config = drv.get_config()
        except Exception as exc:
            device_errors(exc)
        facts.routers.append(RouterFacts(device.id, device.name, config, source=f"ssh:{device.address}"))
        routers.append({"device_id": device.id, "name": device.name, "forwards": _classified(config, facts, policy),
                        "error": None})
    facts.outside = _outside(site, routers) if args["outside_probe"] else None
    for router in routers:
        for fwd in router["forwards"]:
            fwd["outside"] = _reachability(facts.outside, fwd)
    results = run_checks(facts, policy, ROUTER_CHECKS)
    findings = [{"check_id": r.check_id, "status": r.status, "message": r.message, "title": check_meta(
        r.check_id)["title"], "severity": check_meta(r.check_id)["severity"],
        "evidence": [e.to_dict() for e in r.evidence]} for r in results]
    return {"routers": routers, "findings": findings, "outside": facts.outside}


def _outside(site: Site, routers: list[dict]) -> dict | None:
    cfg = current_app.config
    if not cfg.get("OUTSIDE_PROBE_URL") or not site.wan_addresses:
        return None
    checks = []
    for router in routers:
        for fwd in router["forwards"]:
            for rng in (fwd.get("external_ports") or [])[:4]:
                port = int(str(rng).split("-")[0])
                for proto in (("tcp", "udp") if fwd["proto"] in ("tcp_udp", "any") else (fwd["proto"],)):
                    if proto in ("tcp", "udp") and {"proto": proto, "port": port} not in checks:
                        checks.append({"proto": proto, "port": port})
    try:
        return outside.ask(cfg["OUTSIDE_PROBE_URL"], cfg["OUTSIDE_PROBE_TOKEN"], cfg.get("OUTSIDE_PROBE_CA") or True,
                           site.wan_addresses[0], checks[:outside.MAX_CHECKS])
    except Exception as exc:           # the probe being down is reported, never a silent "closed"
        return {"error": f"outside probe failed: {type(exc).__name__}: {exc}"[:300]}


def _reachability(results: dict | None, fwd: dict) -> dict | None:
    if not results or "error" in results:
        return None
    out = {}
    for rng in fwd.get("external_ports") or []:
        port = int(str(rng).split("-")[0])
        for proto in ("tcp", "udp"):
            if f"{proto}/{port}" in results:
                out[f"{proto}/{port}"] = answered(results[f"{proto}/{port}"])
    return out


class ProbeArgsSchema(Schema):
    target = IPAddress(required=True)
    checks = ma.fields.List(ma.fields.Nested(Schema.from_dict({
        "proto": ma.fields.String(required=True, validate=ma.validate.OneOf(("tcp", "udp"))),
        "port": ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 65535))},
        name="ProbeCheckSchema")), required=True, validate=ma.validate.Length(0, outside.MAX_CHECKS))
    icmp = ma.fields.Boolean(load_default=True)
    timeout = ma.fields.Float(load_default=1.0, validate=ma.validate.Range(0.1, 3.0))


class ProbeResultSchema(Schema):
    target = ma.fields.String()
    results = ma.fields.Dict()


@blp.route("/probe", methods=["POST"])
@blp.auth_required("audit")
@blp.arguments(ProbeArgsSchema)
@blp.response(200, ProbeResultSchema)
@blp.errors(404, 422)
def probe(args):
    """Outside probe (only in the probe role): test an allowed target from the internet side"""
    if current_app.config["ROLE"] != "probe":
        abort(404, message="this appliance does not run in the probe role")
    try:
        target = outside.allowed_target(args["target"], current_app.config.get("PROBE_ALLOWED_TARGETS") or [])
    except outside.ProbeRefused as exc:
        abort(422, message=str(exc), errors={"json": {"target": [str(exc)]}})
    return {"target": target, "results": outside.run_probes(target, args["checks"], args["icmp"], args["timeout"])}
