"""POST /sites/{id}/port-forwards/verify, and POST /probe when this process runs as the outside probe."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_smorest import abort

from api.common import device_access, get_or_404
from api.errors import DEVICE_ERRORS, device_faults
from api.extensions import Blueprint, Schema
from api.fields import FullRegexp, IPAddress
from api.port_forwards.schemas import VerifySchema
from hardening.engine import outside
from hardening.engine.verify import verify_site
from store.db import session
from store.models import Site

blp = Blueprint("PortForwards", __name__, url_prefix="/api/v1", description="Live port-forward verification")


class VerifyArgsSchema(Schema):
    outside_probe = ma.fields.Boolean(load_default=True, metadata={"description": "Also test reachability from "
                                                                                  "the outside probe, if configured"})


@blp.route("/sites/<int:site_id>/port-forwards/verify", methods=["POST"])
@blp.auth_required("audit")
@blp.arguments(VerifyArgsSchema)
@blp.response(200, VerifySchema)
@blp.errors(404, *DEVICE_ERRORS)
def verify(args, site_id):
    """Read the site's routers now: every forward classified, the router checks, outside reachability

    A router that cannot be read is an entry with `error`, `reason` (and `looks_like` for a wrong platform)
    while the others are verified (200); only when no router could be read is the answer the fault's code."""
    site = get_or_404(Site, site_id)
    cfg = current_app.config
    probe = {"url": cfg.get("OUTSIDE_PROBE_URL"), "token": cfg.get("OUTSIDE_PROBE_TOKEN"),
             "ca": cfg.get("OUTSIDE_PROBE_CA")} if args["outside_probe"] else None
    with device_faults():
        return verify_site(session(), site, device_access().open, probe)


class ProbeCheckSchema(Schema):
    proto = ma.fields.String(required=True, validate=ma.validate.OneOf(("tcp", "udp")))
    port = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 65535))
    kind = ma.fields.String(load_default="connect", validate=ma.validate.OneOf(outside.KINDS), metadata={
        "description": "connect: TCP connect / SIP OPTIONS over UDP (answer keyed tcp/8080); pptp: a PPTP "
                       "Start-Control-Connection-Request over TCP (keyed pptp/1723, with the reply's vendor "
                       "string); http_get: one GET of `path` over TCP (keyed http_get/8080/lostPass.asp) "
                       f"answering which `markers` the page shows, never the page; at most {outside.MAX_HTTP_GETS}"})
    path = ma.fields.String(validate=FullRegexp(outside.HTTP_PATH_PATTERN), metadata={
        "description": "http_get only (required there): the absolute path, without a query"})
    markers = ma.fields.List(ma.fields.String(validate=[ma.validate.Length(1, outside.MAX_MARKER_CHARS),
                                                        FullRegexp(r"^[^\x00-\x1f\x7f]+$")]),
                             validate=ma.validate.Length(0, outside.MAX_MARKERS),
                             metadata={"description": "http_get only: phrases to look for on the page"})
    tls = ma.fields.Boolean(metadata={"description": "http_get only: fetch over TLS (certificate not verified)"})


class ProbeArgsSchema(Schema):
    target = IPAddress(required=True)
    checks = ma.fields.List(ma.fields.Nested(ProbeCheckSchema), required=True,
                            validate=ma.validate.Length(0, outside.MAX_CHECKS))
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
    wrong = outside.check_kinds(args["checks"])         # rules across fields, after the role check
    if wrong:
        index, fields = next(iter(wrong.items()))
        abort(422, message=f"checks[{index}]: " + "; ".join(f"{k}: {v}" for k, v in fields.items()),
              errors={"json": {"checks": {i: {k: [v] for k, v in f.items()} for i, f in wrong.items()}}})
    return {"target": target, "results": outside.run_probes(target, args["checks"], args["icmp"], args["timeout"])}
