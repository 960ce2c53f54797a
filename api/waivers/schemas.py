"""Waiver schemas."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import Id, UTCDateTime
from hardening.model.catalog import catalog
from hardening.model.waivers import STATES


class WaiverSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    site_id = ma.fields.Integer(dump_only=True)
    check_id = ma.fields.String(required=True, validate=ma.validate.OneOf(list(catalog())))
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf(("site", "device")))
    device_id = Id(allow_none=True, load_default=None,
                   metadata={"description": "With scope 'device': a device the check reports in the site's "
                                            "latest completed audit that ran it"})
    justification = ma.fields.String(required=True, validate=ma.validate.Length(10, 4000),
                                     metadata={"description": "Why the risk is accepted (required)"})
    approver = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    risk = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))
    expires_at = UTCDateTime(allow_none=True, load_default=None,
                             metadata={"description": "UTC, in the future and at most the policy's waiver_max_days "
                                                      "(365 by default) ahead; omitted or null: that maximum. After "
                                                      "it the waiver stops applying and says so"})
    state = ma.fields.String(dump_only=True, validate=ma.validate.OneOf(STATES),
                             metadata={"description": "At the time of the answer: active (applies), expired "
                                                      "(expires_at has passed) or revoked"})
    created_by = ma.fields.String(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    revoked_at = UTCDateTime(dump_only=True, allow_none=True)

    @ma.validates_schema
    def _device_for_device_scope(self, data, **kwargs):
        if data.get("scope") == "device" and data.get("device_id") is None:
            raise ma.ValidationError("Required when scope is 'device'.", "device_id")
        if data.get("scope") == "site" and data.get("device_id") is not None:
            raise ma.ValidationError("Must be null when scope is 'site'.", "device_id")


class WaiverQuerySchema(Schema):
    state = ma.fields.String(validate=ma.validate.OneOf(STATES),
                             metadata={"description": "Only the waivers in this state now"})
