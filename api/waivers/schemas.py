"""Waiver schemas."""
import marshmallow as ma

from api.extensions import Schema
from api.fields import Id, UTCDateTime
from hardening.model.catalog import catalog


class WaiverSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    site_id = ma.fields.Integer(dump_only=True)
    check_id = ma.fields.String(required=True, validate=ma.validate.OneOf(list(catalog())))
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf(("site", "device")))
    device_id = Id(allow_none=True, load_default=None)
    justification = ma.fields.String(required=True, validate=ma.validate.Length(10, 4000),
                                     metadata={"description": "Why the risk is accepted (required)"})
    approver = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    risk = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))
    expires_at = UTCDateTime(allow_none=True, load_default=None,
                             metadata={"description": "UTC; after it the waiver stops applying and says so"})
    created_by = ma.fields.String(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    revoked_at = UTCDateTime(dump_only=True, allow_none=True)

    @ma.validates_schema
    def _device_for_device_scope(self, data, **kwargs):
        if data.get("scope") == "device" and data.get("device_id") is None:
            raise ma.ValidationError("Required when scope is 'device'.", "device_id")
        if data.get("scope") == "site" and data.get("device_id") is not None:
            raise ma.ValidationError("Must be null when scope is 'site'.", "device_id")
