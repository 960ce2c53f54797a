"""Schemas for POST /router-configs/analyze."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import IPAddress, Network
from firewall.parsers import PLATFORMS

MAX_TEXT = 4 * 1024 * 1024


class AnalyzeArgsSchema(Schema):
    platform = ma.fields.String(validate=ma.validate.OneOf(PLATFORMS), allow_none=True, load_default=None,
                                metadata={"description": "netmiko device_type; detected when left out"})
    config = ma.fields.String(validate=ma.validate.Length(1, MAX_TEXT),
                              metadata={"description": "One configuration or command output"})
    outputs = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(0, 200)),
                             values=ma.fields.String(validate=ma.validate.Length(max=MAX_TEXT)),
                             validate=ma.validate.Length(1, 32),
                             metadata={"description": "Command -> its output, e.g. {\"nft -j list ruleset\": ...}"})
    server_lan_ip = IPAddress(allow_none=True, load_default=None)
    server_wan_ip = IPAddress(allow_none=True, load_default=None)
    phone_ips = ma.fields.List(IPAddress(), load_default=list, validate=ma.validate.Length(max=1000))
    px_ips = ma.fields.List(IPAddress(), load_default=list, validate=ma.validate.Length(max=100))
    allowed_sip_sources = ma.fields.List(Network(), load_default=list, validate=ma.validate.Length(max=64))

    @ma.validates_schema
    def _one_input(self, data, **kwargs):
        if ("config" in data) == ("outputs" in data):
            raise ma.ValidationError("Give exactly one of 'config' or 'outputs'.", "config")


class DetectionSchema(Schema):
    platform = ma.fields.String()
    confidence = ma.fields.Float(metadata={"description": "0..1; 1.0 when the platform was named"})
    detected = ma.fields.Boolean()


class EvidenceSchema(Schema):
    detail = ma.fields.String()
    excerpt = ma.fields.String()
    source = ma.fields.String()
    provenance = ma.fields.String()


class FindingSchema(Schema):
    check_id = ma.fields.String()
    title = ma.fields.String()
    severity = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pass | fail | error | not_applicable | manual"})
    message = ma.fields.String()
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema))


class AnalysisSchema(Schema):
    detection = ma.fields.Nested(DetectionSchema)
    platform = ma.fields.String()
    forwards = ma.fields.List(ma.fields.Dict(), metadata={"description": "Every forward, classified"})
    vlans = ma.fields.List(ma.fields.Dict())
    findings = ma.fields.List(ma.fields.Nested(FindingSchema))
    warnings = ma.fields.List(ma.fields.Dict(), metadata={"description": "Lines not understood, with numbers"})
    unparsed = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "Constructs the parser saw but did not fully understand (command, line, text, construct, "
                       "reason) and the check_ids each one keeps from passing"})
