"""Remediation endpoints: every write is planned first and rolled back unless confirmed."""
from __future__ import annotations

from flask import current_app
from flask_smorest import abort

from api.auth import actor_name
from api.common import get_or_404
from api.extensions import ID, Blueprint, link
from api.remediations.schemas import PlanArgsSchema, RemediationSchema
from device_drivers import egress
from device_drivers.exceptions import DeviceTimeout, DriverError, HostKeyMismatch
from hardening.remediation import allworx, engine
from hardening.remediation.access import open_router
from hardening.remediation.locks import LockHeld
from store.audit_models import Remediation
from store.db import get_db, session
from store.models import Device

blp = Blueprint("Remediations", __name__, url_prefix="/api/v1/remediations",
                description="Plan, apply, confirm or roll back router changes")


def opener():
    box = current_app.extensions["secret_box"]
    options = current_app.config.get("ROUTER_DRIVER_OPTIONS") or {}
    allowed = current_app.config["EGRESS_ALLOWED_NETWORKS"]
    return lambda device: open_router(device, box, session(), egress_allowed=allowed, **options)


def device_errors(exc: Exception):
    """Device faults as documented HTTP errors, with the reason."""
    if isinstance(exc, egress.EgressRefused):
        abort(422, message=str(exc), errors={"json": {"device_id": [str(exc)]}})
    if isinstance(exc, HostKeyMismatch):
        abort(409, message=str(exc))
    if isinstance(exc, DeviceTimeout):
        abort(504, message=str(exc))
    if isinstance(exc, DriverError):
        abort(502, message=str(exc))
    if isinstance(exc, (engine.RemediationError, LockHeld)):
        abort(409, message=str(exc))
    raise exc


@blp.route("", methods=["POST"])
@blp.auth_required("remediate")
@blp.arguments(PlanArgsSchema)
@blp.response(201, RemediationSchema)
@blp.links(201, **{name: link(f"/api/v1/remediations/{{remediation_id}}{suffix}", method, text, remediation_id=ID)
                   for name, suffix, method, text in (("GetRemediation", "", "get", "Follow it"),
                                                      ("Apply", "/apply", "post", "Apply the plan"),
                                                      ("Confirm", "/confirm", "post", "Keep the change"),
                                                      ("Rollback", "/rollback", "post", "Undo the change"))})
@blp.errors(404, 409, 422, 502, 504)
def plan(args):
    """Plan a change: the exact commands and the before/after forward table (nothing is touched)"""
    device = get_or_404(Device, args["device_id"])
    if device.kind not in ("router", "allworx_server"):
        abort(422, message="remediation plans are for routers and Allworx servers",
              errors={"json": {"device_id": ["Not a router or Allworx server."]}})
    try:
        if device.kind == "allworx_server":
            return allworx.create(session(), device, allworx_driver, timeout=args["confirm_timeout_seconds"],
                                  actor=actor_name())
        return engine.create(session(), device, opener(), indices=args["forward_indices"],
                             timeout=args["confirm_timeout_seconds"], actor=actor_name(),
                             appliance_ip=current_app.config.get("APPLIANCE_ADDRESS"))
    except ValueError as exc:
        abort(422, message=str(exc), errors={"json": {"forward_indices": [str(exc)]}})
    except RuntimeError as exc:
        abort(502, message=str(exc))
    except Exception as exc:
        device_errors(exc)


@blp.route("/<int:remediation_id>")
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404)
def status(remediation_id):
    """A remediation's state, plan and verification"""
    return get_or_404(Remediation, remediation_id)


def allworx_driver(device: Device):
    from device_drivers import driver_class
    from hardening.engine.inputs import device_spec
    egress.check(device.address, current_app.config["EGRESS_ALLOWED_NETWORKS"])
    spec = device_spec(device, current_app.extensions["secret_box"])
    entry = {"kind": spec.kind, "name": spec.name, "device_id": spec.device_id, "address": spec.address,
             "ports": spec.ports, "snmp": spec.snmp, "credentials": spec.credentials}
    return driver_class("allworx_server").from_inventory(entry)


def _transition(remediation_id: int, step: str):
    row = get_or_404(Remediation, remediation_id)
    generated = {}
    box = current_app.extensions["secret_box"]
    try:
        if row.plan.get("kind") == "allworx":
            if step == "apply":
                _row, generated = allworx.apply(get_db(), remediation_id, allworx_driver, box)
            elif step == "confirm":
                allworx.confirm(get_db(), remediation_id)
            else:
                allworx.rollback(get_db(), remediation_id, allworx_driver, box)
        else:
            getattr(engine, step)(get_db(), remediation_id, opener())
    except Exception as exc:
        device_errors(exc)
    session().expire_all()
    result = session().get(Remediation, remediation_id)
    result.generated = generated          # shown in this response only; stored encrypted as credentials
    return result


@blp.route("/<int:remediation_id>/apply", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404, 409, 502, 504)
def apply(remediation_id):
    """Apply under the device lock: backup, apply atomically, verify; then await confirmation"""
    return _transition(remediation_id, "apply")


@blp.route("/<int:remediation_id>/confirm", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404, 409, 502, 504)
def confirm(remediation_id):
    """Keep the change (cancels the automatic rollback)"""
    return _transition(remediation_id, "confirm")


@blp.route("/<int:remediation_id>/rollback", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, RemediationSchema)
@blp.errors(404, 409, 502, 504)
def rollback(remediation_id):
    """Restore the exact previous configuration"""
    return _transition(remediation_id, "rollback")
