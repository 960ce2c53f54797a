"""The answer of POST /sites/{id}/port-forwards/verify: every router, every forward as classified, typed.

ForwardSchema lists every key hardening.model.exposure.classify_forward returns (and the `outside`
reachability verify adds); a key missing here would silently vanish from the answer, which
tests/api/test_port_forward_verify.py guards against."""
from __future__ import annotations

import marshmallow as ma

from api.extensions import Schema
from api.router_configs.schemas import FindingSchema
from firewall.model import FORWARD_KINDS
from hardening.engine.verify import REASONS
from hardening.model.exposed_services import SEVERITIES

CLASSIFICATIONS = ("expected", "unexpected", "dangerous", "disabled", "internal")
_PORTS = {"description": 'Port ranges as "lo-hi" strings ("8080", "10000-20000"); null = every port'}


def _strings(**metadata) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(), metadata=metadata)


class SourceRefSchema(Schema):
    command = ma.fields.String(metadata={"description": "The command (or file) whose output held the rule"})
    line = ma.fields.Integer(allow_none=True, metadata={"description": "1-based line in that output"})
    end_line = ma.fields.Integer(allow_none=True)
    rule_id = ma.fields.String(metadata={"description": "The rule's own number, name or config path"})
    text = ma.fields.String(metadata={"description": "The raw excerpt"})


class ForwardSchema(Schema):
    index = ma.fields.Integer(metadata={"description": "Position in the router's forwards: what a remediation's "
                                                       "forward_indices name"})
    kind = ma.fields.String(validate=ma.validate.OneOf(FORWARD_KINDS))
    proto = ma.fields.String(metadata={"description": "tcp, udp, tcp_udp, any, or other:<name>"})
    internal_ip = ma.fields.String(allow_none=True, metadata={"description": "Address (or named object) traffic "
                                                                             "is sent to"})
    external_ip = ma.fields.String(allow_none=True, metadata={"description": 'IP/prefix, "interface:<name>", or '
                                                                             'null = any local address'})
    external_if = ma.fields.String(allow_none=True, metadata={"description": "Inbound interface or zone"})
    external_ports = ma.fields.List(ma.fields.String(), allow_none=True, metadata=_PORTS)
    internal_ports = ma.fields.List(ma.fields.String(), allow_none=True,
                                    metadata={"description": "null = the same as the external ports"})
    enabled = ma.fields.Boolean()
    comment = ma.fields.String()
    source_restriction = ma.fields.List(ma.fields.String(), allow_none=True,
                                        metadata={"description": "Allowed sources (named lists resolved to "
                                                                 "their members); null = any source"})
    source_exclusions = ma.fields.List(ma.fields.String(), allow_none=True, metadata={
        "description": "Negated sources (`!10.0.0.1`): any source but these; null = none"})
    source_ref = ma.fields.Nested(SourceRefSchema)
    classification = ma.fields.String(validate=ma.validate.OneOf(CLASSIFICATIONS))
    reasons = _strings(description="Why it is classified so")
    check_ids = _strings(description="The catalog checks this live forward fails (NET-EXP-001 included)")
    targets = _strings(description="The Allworx devices it reaches")
    restricted = ma.fields.Boolean(metadata={"description": "It carries a source restriction"})
    internet_facing = ma.fields.Boolean(metadata={"description": "False when LAN-bound or LAN sources only"})
    external_addresses = _strings(description="Its external address(es)")
    allow_listed = ma.fields.String(allow_none=True, metadata={"description": "The required WAN service(s) "
                                                                              "covering it, or null"})
    advice = _strings(description="What the checks say of an allow-listed dangerous forward")
    severity = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(SEVERITIES),
                                metadata={"description": "NET-EXP-001's severity for it (by the service it "
                                                         "reaches, policy exposed_services); null = not failed"})
    services = _strings(description="The policy exposed_services it reaches (rdp, smb, ssh, ...)")
    outside = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(allow_none=True), allow_none=True,
                             metadata={"description": 'Outside probe per "tcp/3389": answered (true), no answer '
                                                      '(false), undecided (null); null = not asked'})


class LooksLikeSchema(Schema):
    platform = ma.fields.String()
    confidence = ma.fields.Float()


class RouterVerificationSchema(Schema):
    device_id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String()
    device_type = ma.fields.String(metadata={"description": "The configured platform (netmiko device_type)"})
    forwards = ma.fields.List(ma.fields.Nested(ForwardSchema), metadata={"description": "Empty when not read"})
    error = ma.fields.String(allow_none=True, metadata={"description": "Why the router could not be read"})
    reason = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(REASONS),
                              metadata={"description": "The error's class; null when the router was read"})
    looks_like = ma.fields.Nested(LooksLikeSchema, allow_none=True,
                                  metadata={"description": "For a wrong platform: what the output looks like"})


class VerifySchema(Schema):
    routers = ma.fields.List(ma.fields.Nested(RouterVerificationSchema))
    findings = ma.fields.List(ma.fields.Nested(FindingSchema))
    outside = ma.fields.Dict(allow_none=True, metadata={"description": "Outside probe results, keyed tcp/8080"})
