"""Schemas for API tokens: the plaintext token is dumped once, at creation."""
import marshmallow as ma

from api.auth import SCOPES
from api.extensions import Schema
from api.fields import UTCDateTime, name_field


class TokenSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = name_field(required=True)
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf(SCOPES),
                             metadata={"description": "read < audit < remediate < admin"})
    prefix = ma.fields.String(dump_only=True, metadata={"description": "First characters, to tell tokens apart"})
    created_at = UTCDateTime(dump_only=True)
    last_used_at = UTCDateTime(dump_only=True, allow_none=True)
    revoked_at = UTCDateTime(dump_only=True, allow_none=True)


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(dump_only=True, metadata={"description": "The token; shown only in this response"})
