"""Waiver endpoints. Waivers are never deleted: revoking keeps them for the audit trail."""
from __future__ import annotations

from datetime import timezone

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.auth import actor_name
from api.common import get_or_404
from api.extensions import ID, Blueprint, link
from api.waivers.schemas import WaiverSchema
from store.audit_models import Waiver
from store.db import session
from store.models import Device, Site, utcnow

blp = Blueprint("Waivers", __name__, url_prefix="/api/v1", description="Accepted risks (waivers)")


@blp.route("/sites/<int:site_id>/waivers")
class SiteWaivers(MethodView):
    @blp.auth_required("read")
    @blp.response(200, WaiverSchema(many=True))
    @blp.errors(404)
    def get(self, site_id):
        """List a site's waivers, revoked and expired ones included"""
        get_or_404(Site, site_id)
        return session().scalars(select(Waiver).where(Waiver.site_id == site_id).order_by(Waiver.id)).all()

    @blp.auth_required("admin")
    @blp.arguments(WaiverSchema)
    @blp.response(201, WaiverSchema)
    @blp.links(201, RevokeWaiver=link("/api/v1/waivers/{waiver_id}", "delete", "Revoke the waiver", waiver_id=ID),
               SiteWaivers=link("/api/v1/sites/{site_id}/waivers", "get", "The site's waivers",
                                site_id="$response.body#/site_id"))
    @blp.errors(404)
    def post(self, args, site_id):
        """Accept a risk for a check on the site or one of its devices"""
        get_or_404(Site, site_id)
        if args["device_id"] is not None:
            device = session().get(Device, args["device_id"]) if args["device_id"] < 2**63 else None
            if device is None or device.site_id != site_id:
                abort(404, message=f"device {args['device_id']} of site {site_id} not found",
                      errors={"json": {"device_id": ["Unknown device for this site."]}})
        if args["expires_at"] is not None and args["expires_at"].tzinfo is not None:
            args["expires_at"] = args["expires_at"].astimezone(timezone.utc).replace(tzinfo=None)
        waiver = Waiver(site_id=site_id, created_by=actor_name(), **args)
        session().add(waiver)
        session().commit()
        return waiver


@blp.route("/waivers/<int:waiver_id>", methods=["DELETE"])
@blp.auth_required("admin")
@blp.response(204)
@blp.errors(404)
def revoke(waiver_id):
    """Revoke a waiver (it stops applying at once; the record stays)"""
    waiver = get_or_404(Waiver, waiver_id)
    if waiver.revoked_at is None:
        waiver.revoked_at = utcnow()
        session().commit()
