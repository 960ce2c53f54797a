"""Webhook CRUD and the delivery log. The signing secret is write-only and stored encrypted."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from api.common import get_or_404
from api.extensions import ID, Blueprint, Schema, link
from api.fields import Id, UTCDateTime
from api.pagination import SQLPage
from hardening.jobs import webhooks
from store.audit_models import Webhook, WebhookDelivery
from store.db import session
from store.models import Site
from store.secrets import secret_box

blp = Blueprint("Webhooks", __name__, url_prefix="/api/v1/webhooks", description=(
    "Signed event notifications after audits: POSTed JSON with X-AWXH-Event, X-AWXH-Delivery, X-AWXH-Timestamp "
    "and X-AWXH-Signature = sha256=hex(HMAC-SHA256(secret, timestamp + '.' + body)); links are absolute "
    "(PUBLIC_BASE_URL)"))


def _safe_url(value: str) -> None:
    try:
        webhooks.check_target(value, current_app.config.get("WEBHOOK_ALLOWED_NETWORKS") or [])
    except webhooks.UnsafeTarget as exc:
        raise ma.ValidationError(str(exc)) from None


class WebhookSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    url = ma.fields.String(required=True, validate=[ma.validate.Length(10, 2000), _safe_url])
    events = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(webhooks.EVENTS)), required=True,
                            validate=ma.validate.Length(1, len(webhooks.EVENTS)), metadata={"description": (
                                "new_failures: checks newly failing (compared with the last audit that decided "
                                "them) and failures that gained evidence; new_errors: checks that can no longer "
                                "be decided, with the device and reason; resolved: failures now passing and "
                                "errors cleared; audit_error: the audit did not complete. Payloads: README.md, "
                                "Webhooks")})
    site_id = Id(allow_none=True, load_default=None,
                 metadata={"description": "Only this site's events; null = every site"})
    secret = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(16, 256),
                              metadata={"description": "HMAC-SHA256 key for X-AWXH-Signature (write-only)"})
    enabled = ma.fields.Boolean(load_default=True)
    created_at = UTCDateTime(dump_only=True)


class DeliverySchema(Schema):
    id = ma.fields.Integer()
    webhook_id = ma.fields.Integer()
    event = ma.fields.String()
    state = ma.fields.String(metadata={"description": "pending | delivered | failed"})
    attempts = ma.fields.Integer()
    next_attempt_at = UTCDateTime()
    last_status_code = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String()
    created_at = UTCDateTime()
    delivered_at = UTCDateTime(allow_none=True)


@blp.route("")
class Webhooks(MethodView):
    @blp.auth_required("admin")
    @blp.response(200, WebhookSchema(many=True))
    def get(self):
        """List webhooks (never their secrets)"""
        return session().scalars(select(Webhook).order_by(Webhook.id)).all()

    @blp.auth_required("admin")
    @blp.arguments(WebhookSchema)
    @blp.response(201, WebhookSchema)
    @blp.links(201, DeleteWebhook=link("/api/v1/webhooks/{webhook_id}", "delete", "Delete the webhook", webhook_id=ID),
               Deliveries=link("/api/v1/webhooks/{webhook_id}/deliveries", "get", "Its delivery log", webhook_id=ID))
    @blp.errors(404)
    def post(self, args):
        """Register a webhook"""
        if args["site_id"] is not None:
            get_or_404(Site, args["site_id"])
        secret = args.pop("secret")
        hook = Webhook(secret_enc=secret_box().encrypt({"secret": secret}), **args)
        session().add(hook)
        session().commit()
        return hook


@blp.route("/<int:webhook_id>", methods=["DELETE"])
@blp.auth_required("admin")
@blp.response(204)
@blp.errors(404)
def delete_webhook(webhook_id):
    """Delete a webhook and its delivery log"""
    session().delete(get_or_404(Webhook, webhook_id))
    session().commit()


class NoFilterArgsSchema(Schema):
    """Only the pagination parameters: any other query parameter (a typo) is a 422, not ignored."""


@blp.route("/<int:webhook_id>/deliveries")
@blp.auth_required("admin")
@blp.arguments(NoFilterArgsSchema, location="query")
@blp.response(200, DeliverySchema(many=True))
@blp.paginate(SQLPage)
@blp.errors(404)
def deliveries(_args, webhook_id):
    """The delivery log of a webhook, newest first"""
    get_or_404(Webhook, webhook_id)
    return select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id).order_by(
        WebhookDelivery.id.desc())
