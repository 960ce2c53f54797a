"""Remediation schemas."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import UTCDateTime


class PlanArgsSchema(Schema):
    device_id = ma.fields.Integer(required=True, strict=True, metadata={"description": "The router to change"})
    forward_indices = ma.fields.List(ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 100000)),
                                     allow_none=True, load_default=None, validate=ma.validate.Length(1, 500),
                                     metadata={"description": "Forwards to remove (indexes from verify); "
                                                              "default: every dangerous one"})
    confirm_timeout_seconds = ma.fields.Integer(load_default=300, strict=True, validate=ma.validate.Range(30, 3600),
                                                metadata={"description": "Rolled back unless confirmed in time"})


class RemediationSchema(Schema):
    id = ma.fields.Integer()
    site_id = ma.fields.Integer()
    device_id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "planned | refused | applying | awaiting_confirmation | "
                                                      "confirmed | rolled_back | failed"})
    plan = ma.fields.Dict(metadata={"description": "commands, removals, refused, diff (before/after/removed)"})
    verification = ma.fields.Dict()
    confirm_timeout_seconds = ma.fields.Integer()
    confirm_deadline = UTCDateTime(allow_none=True)
    error = ma.fields.String()
    created_by = ma.fields.String()
    created_at = UTCDateTime()
