"""Remediation endpoints: every write is planned first and rolled back unless confirmed."""
from __future__ import annotations

from flask import current_app
from flask_smorest import abort

from api.auth import actor_name
from api.common import device_access, get_or_404
from api.errors import DEVICE_ERRORS, device_faults
from api.extensions import ID, Blueprint, link
from api.remediations.schemas import PlanArgsSchema, RemediationSchema
from hardening.remediation import flows
from hardening.remediation.engine import PlanConflict
from store.audit_models import Remediation
from store.db import get_db, session
from store.models import Device

blp = Blueprint("Remediations", __name__, url_prefix="/api/v1/remediations",
                description="Plan, apply, confirm or roll back router changes")


@blp.route("", methods=["POST"])
@blp.auth_required("remediate")
@blp.arguments(PlanArgsSchema)
@blp.response(201, RemediationSchema)
@blp.links(201, **{name: link(f"/api/v1/remediations/{{remediation_id}}{suffix}", method, text, remediation_id=ID)
                   for name, suffix, method, text in (("GetRemediation", "", "get", "Follow it"),
                                                      ("Apply", "/apply", "post", "Apply the plan"),
                                                      ("Confirm", "/confirm", "post", "Keep the change"),
                                                      ("Rollback", "/rollback", "post", "Undo the change"))})
@blp.errors(404, *DEVICE_ERRORS)
def plan(args):
    """Plan a change: the exact commands and the before/after forward table (nothing is touched)"""
    device = get_or_404(Device, args["device_id"])
    if device.kind not in flows.KINDS:
        abort(422, message="remediation plans are for routers and Allworx servers",
              errors={"json": {"device_id": ["Not a router or Allworx server."]}})
    try:
        with device_faults():
            return flows.plan(session(), device, device_access(), indices=args["forward_indices"],
                              timeout=args["confirm_timeout_seconds"], actor=actor_name(),
                              appliance_ip=current_app.config.get("APPLIANCE_ADDRESS"), settings=args.get("settings"),
                              plan_ttl=int(current_app.config["REMEDIATION_PLAN_TTL_SECONDS"]))
    except ValueError as exc:
        abort(422, message=str(exc), errors={"json": {"forward_indices": [str(exc)]}})
    except RuntimeError as exc:
        abort(502, message=str(exc))


@blp.route("/<int:remediation_id>")
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404)
def status(remediation_id):
    """A remediation's state, plan and verification"""
    return get_or_404(Remediation, remediation_id)


def _transition(remediation_id: int, step: str):
    get_or_404(Remediation, remediation_id)
    with device_faults():
        try:
            _row, generated = flows.step(get_db(), remediation_id, step, device_access())
        except PlanConflict as exc:          # the router is not where the plan left it: say how
            abort(409, message=str(exc), errors={"diff": exc.diff})
    session().expire_all()
    result = session().get(Remediation, remediation_id)
    result.generated = generated          # shown in this response only; stored encrypted as credentials
    return result


@blp.route("/<int:remediation_id>/apply", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404, *DEVICE_ERRORS)
def apply(remediation_id):
    """Apply under the device lock: re-read the router, refuse (409 with the diff) when what the plan acts on
    changed or the plan expired; apply by content in one transaction, verify; then await confirmation"""
    return _transition(remediation_id, "apply")


@blp.route("/<int:remediation_id>/confirm", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404, *DEVICE_ERRORS)
def confirm(remediation_id):
    """Keep the change: the router's revert timer is disarmed and the change checked still there, else the
    remediation is `reverted` with the reason (also when the confirm window has closed)"""
    return _transition(remediation_id, "confirm")


@blp.route("/<int:remediation_id>/rollback", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404, *DEVICE_ERRORS)
def rollback(remediation_id):
    """Undo exactly this change: its rules put back in place, later changes left alone (409 with the diff
    when the router changed in a way that conflicts)"""
    return _transition(remediation_id, "rollback")
