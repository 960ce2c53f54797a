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


class ChannelHealthSchema(Schema):
    state = ma.fields.String(metadata={"description": "ok | failed | not_contacted"})
    reason = ma.fields.String(allow_none=True, metadata={"description": (
        "Why it failed (or was not run), in short: connection refused, timed out, authentication failed, "
        "host key changed, egress refused, ...; null when ok")})
    detail = ma.fields.String(allow_none=True, metadata={"description": "The driver's own message (no secrets)"})


class DeviceHealthSchema(Schema):
    device_id = ma.fields.Integer(allow_none=True, metadata={"description": "Null for the site's outside probe"})
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "The device kind, or `site` for the outside probe"})
    address = ma.fields.String(allow_none=True)
    reached = ma.fields.Boolean(allow_none=True, metadata={"description": (
        "True: at least one channel the audit asked for answered; false: every one failed; null: no "
        "selected check needed the device, so it was not contacted")})
    channels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ChannelHealthSchema),
                              metadata={"description": (
                                  "snmp, web, probes, credential_test (Allworx devices), ssh (routers), "
                                  "outside_probe (the site)")})
    reason = ma.fields.String(allow_none=True, metadata={"description": "The worst channel failure, or null"})


class ScoreSchema(Schema):
    raw = ma.fields.Float(allow_none=True, metadata={"description": (
        "Hardening index 0-100 over the decided checks; null when withheld or when nothing of weight was decided")})
    waived = ma.fields.Float(allow_none=True, metadata={"description": "The index with waived checks as passed"})
    weights = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    note = ma.fields.String(metadata={"description": "Why raw is null when no decided result carries weight"})
    withheld = ma.fields.String(metadata={"description": (
        "Present when the score is withheld: a device the audit needed was not reached, or a weighted check "
        "is error (named with the device and the reason)")})


class ProblemSchema(Schema):
    severity = ma.fields.String(metadata={"description": "The check's severity, or `error` for a device problem"})
    check_id = ma.fields.String(allow_none=True)
    device_id = ma.fields.Integer(allow_none=True)
    text = ma.fields.String(metadata={"description": "One line, e.g. 'router gw: authentication failed'"})
    kind = ma.fields.String(metadata={"description": "fail | device | error"})


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
    health = ma.fields.List(ma.fields.Nested(DeviceHealthSchema), allow_none=True, metadata={"description": (
        "Per inventory device (then the site's outside probe, when the audit asked it): whether the audit "
        "reached it, on which channels, and why not. Null until the audit has gathered, and for audits "
        "recorded before health was kept.")})
    summary = ma.fields.Dict(metadata={"description": (
        "Live summary of a completed audit: score (raw and waived null with `withheld` when the evidence "
        "cannot carry one), counts, overall (UNKNOWN when the score is withheld, the site has no devices or "
        "nothing of weight was decided), health, problems (worst first, errors included), drift, with the "
        "waivers in force, the "
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
    score = ma.fields.Nested(ScoreSchema, allow_none=True)
    counts = ma.fields.Dict(allow_none=True)
    new_failures = ma.fields.List(ma.fields.Dict())
    unchanged_failures = ma.fields.List(ma.fields.Dict())
    health = ma.fields.List(ma.fields.Nested(DeviceHealthSchema), allow_none=True)
    problems = ma.fields.List(ma.fields.Nested(ProblemSchema), metadata={"description": (
        "What is wrong, worst first: unwaived failures by severity, devices and channels not read, errors")})
    unknown_reason = ma.fields.String(allow_none=True, metadata={"description": "Why overall is UNKNOWN"})
    last_audit = ma.fields.Dict(allow_none=True)


class BaselineArgsSchema(Schema):
    audit_id = Id(required=True)
