"""Schemas for audits, their results and the compact site status."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import FullRegexp, Id, UTCDateTime
from api.router_configs.schemas import EvidenceSchema
from hardening.model.profiles import profile_names

OUTPUT_FORMATS = ("json", "junit", "sarif")


class AuditArgsSchema(Schema):
    profile = ma.fields.String(load_default="baseline", validate=ma.validate.OneOf(profile_names()),
                               metadata={"description": "Which checks run and with which policy"})


class AuditSchema(Schema):
    id = ma.fields.Integer()
    site_id = ma.fields.Integer()
    profile = ma.fields.String()
    state = ma.fields.String(metadata={"description": "queued | running | completed | interrupted | failed"})
    requested_by = ma.fields.String()
    rerun_of = ma.fields.Integer(allow_none=True)
    created_at = UTCDateTime()
    started_at = UTCDateTime(allow_none=True)
    finished_at = UTCDateTime(allow_none=True)
    progress = ma.fields.Dict()
    error = ma.fields.String()
    summary = ma.fields.Dict(metadata={"description": (
        "Live summary of a completed audit: score, counts, overall, drift, with the waivers in force, the "
        "pinned baseline and the previous audit as they stand at summary_as_of (the same on this audit's "
        "own page and in its site's audit list). Empty until the audit has completed.")})
    summary_as_of = UTCDateTime(allow_none=True, metadata={"description": (
        "When `summary` was computed (this response's time); null until the audit has completed.")})
    summary_at_completion = ma.fields.Dict(allow_none=True, metadata={"description": (
        "The summary as it stood when the audit completed (as of finished_at, with the waivers in force "
        "then): stored once and never recomputed; what webhooks were sent. Null until completed.")})


class AuditListArgsSchema(Schema):
    state = ma.fields.String(validate=ma.validate.OneOf(("queued", "running", "completed", "interrupted",
                                                          "failed")))


class ResultsArgsSchema(Schema):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(OUTPUT_FORMATS))
    status = ma.fields.String(validate=ma.validate.OneOf(("pass", "fail", "error", "not_applicable", "manual")))
    check_id = ma.fields.String(validate=FullRegexp(r"^[A-Z]+-[A-Z]+-\d{3}$"))


class ResultSchema(Schema):
    check_id = ma.fields.String()
    title = ma.fields.String()
    severity = ma.fields.String()
    status = ma.fields.String(metadata={"description": "The real status (also when waived)"})
    waived = ma.fields.Boolean()
    waiver = ma.fields.Dict(allow_none=True)
    device_id = ma.fields.Integer(allow_none=True)
    target = ma.fields.String()
    message = ma.fields.String()
    provenance = ma.fields.String()
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema))
    remediation = ma.fields.Dict()


class SiteStatusSchema(Schema):
    site = ma.fields.Dict()
    overall = ma.fields.String(metadata={"description": "OK | WARNING | CRITICAL | UNKNOWN"})
    nagios_code = ma.fields.Integer(metadata={"description": "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"})
    nable_code = ma.fields.Integer(metadata={"description": "1000 + nagios_code, for N-able custom failure codes"})
    score = ma.fields.Dict(allow_none=True)
    counts = ma.fields.Dict(allow_none=True)
    new_failures = ma.fields.List(ma.fields.Dict())
    last_audit = ma.fields.Dict(allow_none=True)


class BaselineArgsSchema(Schema):
    audit_id = Id(required=True)
