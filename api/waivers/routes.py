"""Waiver endpoints. Waivers are never edited or deleted: revoking keeps them for the audit trail.

A new waiver must expire in the future and within the policy's waiver_max_days (422 on expires_at),
must name a device the check reports (422 on device_id, listing the devices it does report), and must
not repeat one in force for the same check and target (409). Every answer shows its `state` now."""
from __future__ import annotations

from datetime import timezone

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import func, select

from api.auth import actor_name
from api.common import get_or_404
from api.extensions import ID, Blueprint, link
from api.waivers.schemas import WaiverQuerySchema, WaiverSchema
from hardening.model import waivers
from hardening.model.policy import Policy
from store.audit_models import Audit, AuditResult, Waiver
from store.db import session
from store.models import Device, Site, utcnow

blp = Blueprint("Waivers", __name__, url_prefix="/api/v1", description="Accepted risks (waivers)")

COLUMNS = ("id", "site_id", "check_id", "scope", "device_id", "justification", "approver", "risk", "expires_at",
           "created_by", "created_at", "revoked_at")
ONE = "/api/v1/waivers/{waiver_id}"


def _shown(waiver: Waiver, now) -> dict:
    return {**{c: getattr(waiver, c) for c in COLUMNS},
            "state": waivers.state(waiver.expires_at, waiver.revoked_at, now)}


def _reported(site_id: int, check_id: str) -> tuple[bool, int | None, list[dict]]:
    """(the site has a completed audit, the latest completed one that ran the check, its targets)."""
    completed = (Audit.site_id == site_id, Audit.state == "completed")
    audited = session().scalar(select(Audit.id).where(*completed).limit(1)) is not None
    audit_id = session().scalar(select(func.max(Audit.id)).join(AuditResult, AuditResult.audit_id == Audit.id)
                                .where(*completed, AuditResult.check_id == check_id))
    if audit_id is None:
        return audited, None, []
    rows = session().execute(select(AuditResult.device_id, AuditResult.target).distinct()
                             .where(AuditResult.audit_id == audit_id, AuditResult.check_id == check_id)
                             .order_by(AuditResult.device_id, AuditResult.target)).all()
    return audited, audit_id, [{"device_id": d, "target": t} for d, t in rows]


def _refuse_unreported(site_id: int, args: dict) -> None:
    audited, audit_id, reported = _reported(site_id, args["check_id"])
    why = waivers.target_problem(args["check_id"], args["device_id"], audited, audit_id, reported)
    if why is not None:
        abort(422, message=why, errors={"json": {"device_id": [why]},
                                        "reported": {"audit_id": audit_id, "targets": reported}})


def _refuse_duplicate(site_id: int, args: dict, now) -> None:
    standing = session().scalars(select(Waiver).where(Waiver.site_id == site_id, Waiver.check_id == args["check_id"],
                                                      Waiver.revoked_at.is_(None))).all()
    same = waivers.duplicate_of(args, [_shown(w, now) for w in standing], now)
    if same is not None:
        message = (f"Waiver {same['id']} already waives {args['check_id']} for this "
                   f"{'device' if args['scope'] == 'device' else 'site'} until "
                   f"{same['expires_at'].isoformat() + 'Z' if same['expires_at'] else 'revoked'}; revoke it first "
                   f"to replace it.")
        abort(409, message=message, errors={"json": {"check_id": [message]}, "existing_waiver_id": same["id"]})


@blp.route("/sites/<int:site_id>/waivers")
class SiteWaivers(MethodView):
    @blp.auth_required("read")
    @blp.arguments(WaiverQuerySchema, location="query")
    @blp.response(200, WaiverSchema(many=True))
    @blp.errors(404)
    def get(self, args, site_id):
        """List a site's waivers, revoked and expired ones included, each with its state now"""
        get_or_404(Site, site_id)
        now = utcnow()
        shown = [_shown(w, now) for w in session().scalars(select(Waiver).where(Waiver.site_id == site_id)
                                                            .order_by(Waiver.id))]
        return [w for w in shown if w["state"] == args["state"]] if "state" in args else shown

    @blp.auth_required("admin")
    @blp.arguments(WaiverSchema)
    @blp.response(201, WaiverSchema)
    @blp.links(201, GetWaiver=link(ONE, "get", "Read the waiver and its state", waiver_id=ID),
               RevokeWaiver=link(ONE, "delete", "Revoke the waiver", waiver_id=ID),
               SiteWaivers=link("/api/v1/sites/{site_id}/waivers", "get", "The site's waivers",
                                site_id="$response.body#/site_id"))
    @blp.errors(404, 409)
    def post(self, args, site_id):
        """Accept a risk for a check on the site or one of the devices it reports"""
        get_or_404(Site, site_id)
        if args["device_id"] is not None:
            device = session().get(Device, args["device_id"]) if args["device_id"] < 2**63 else None
            if device is None or device.site_id != site_id:
                abort(404, message=f"device {args['device_id']} of site {site_id} not found",
                      errors={"json": {"device_id": ["Unknown device for this site."]}})
        now = utcnow()
        if args["expires_at"] is not None and args["expires_at"].tzinfo is not None:
            args["expires_at"] = args["expires_at"].astimezone(timezone.utc).replace(tzinfo=None)
        args["expires_at"], why = waivers.expiry(args["expires_at"], now, waivers.max_days(Policy()))
        if why is not None:
            abort(422, message=why, errors={"json": {"expires_at": [why]}})
        _refuse_unreported(site_id, args)
        _refuse_duplicate(site_id, args, now)
        waiver = Waiver(site_id=site_id, created_by=actor_name(), created_at=now, **args)
        session().add(waiver)
        session().commit()
        return _shown(waiver, now)


@blp.route("/waivers/<int:waiver_id>")
class WaiverById(MethodView):
    @blp.auth_required("read")
    @blp.response(200, WaiverSchema)
    @blp.errors(404)
    def get(self, waiver_id):
        """Get a waiver and its state now"""
        return _shown(get_or_404(Waiver, waiver_id), utcnow())

    @blp.auth_required("admin")
    @blp.response(204)
    @blp.errors(404)
    def delete(self, waiver_id):
        """Revoke a waiver (it stops applying at once; the record stays, in state revoked)"""
        waiver = get_or_404(Waiver, waiver_id)
        if waiver.revoked_at is None:
            waiver.revoked_at = utcnow()
            session().commit()
