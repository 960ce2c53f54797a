"""Device CRUD, write-only credentials, and SSH host-key acceptance."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from api.common import commit_or_409, get_or_404
from api.devices.changes import UNSET, apply_host_key, delete_unless_busy, echoed_read_only_fields, refuse_if_busy
from api.devices.schemas import (
    READ_ONLY_FIELDS,
    CredentialsSchema,
    DeviceQueryArgsSchema,
    DeviceSchema,
    DeviceUpdateSchema,
    HostKeyAcceptSchema,
)
from api.extensions import ETAG, ID, Blueprint, link
from api.pagination import SQLPage
from store.db import session
from store.models import Device, Site
from store.secrets import set_credentials

blp = Blueprint("Devices", __name__, url_prefix="/api/v1/devices",
                description="Allworx servers, phones, Px Expanders, routers and switches")

DEVICE = "/api/v1/devices/{device_id}"
DEVICE_LINKS = {
    "GetDevice": link(DEVICE, "get", "Read the device", device_id=ID),
    "ReplaceDevice": link(DEVICE, "put", "Replace the device (If-Match: this ETag)", device_id=ID, If_Match=ETAG),
    "DeleteDevice": link(DEVICE, "delete", "Delete the device (If-Match: this ETag)", device_id=ID, If_Match=ETAG)}
NEW_DEVICE_LINKS = {**DEVICE_LINKS,
                    "SetCredentials": link(f"{DEVICE}/credentials", "put", "Store its credentials", device_id=ID),
                    "GetSite": link("/api/v1/sites/{site_id}", "get", "Its site", site_id="$response.body#/site_id")}


def _apply(device: Device, args: dict) -> None:
    creds = args.pop("credentials", None)
    apply_host_key(device, args.pop("ssh_host_key", UNSET))
    site_or_404(args["site_id"])
    for key, value in args.items():
        setattr(device, key, value)
    if creds:
        set_credentials(device, creds.pop("username", None), creds)


def site_or_404(site_id: int) -> Site:
    site = session().get(Site, site_id)
    if site is None:
        abort(404, message=f"Site {site_id} not found.", errors={"json": {"site_id": ["Unknown site."]}})
    return site


@blp.route("")
class Devices(MethodView):
    @blp.auth_required("read")
    @blp.etag
    @blp.arguments(DeviceQueryArgsSchema, location="query")
    @blp.response(200, DeviceSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """List devices, filtered by site and kind"""
        # the schema reports which credential fields are set: load them with the page, not one query per device
        stmt = select(Device).order_by(Device.id).options(selectinload(Device.credential))
        if "site_id" in args:
            stmt = stmt.where(Device.site_id == args["site_id"])
        if "kind" in args:
            stmt = stmt.where(Device.kind == args["kind"])
        return stmt

    @blp.auth_required("admin")
    @blp.etag
    @blp.arguments(DeviceSchema)
    @blp.response(201, DeviceSchema)
    @blp.links(201, **NEW_DEVICE_LINKS)
    @blp.errors(404, 409)
    def post(self, args):
        """Create a device"""
        device = Device()
        _apply(device, args)
        session().add(device)
        commit_or_409(f"Site {args['site_id']} already has a device named {args['name']!r}.", "name")
        return device


@blp.route("/<int:device_id>")
class DeviceById(MethodView):
    @blp.auth_required("read")
    @blp.etag
    @blp.response(200, DeviceSchema)
    @blp.links(200, **{k: v for k, v in DEVICE_LINKS.items() if k != "GetDevice"})
    @blp.errors(404)
    def get(self, device_id):
        """Get a device"""
        return get_or_404(Device, device_id)

    @blp.auth_required("admin")
    @blp.etag
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200, DeviceSchema)
    @blp.links(200, **DEVICE_LINKS)
    @blp.errors(404, 409, 412, 428)
    def put(self, args, device_id):
        """Replace a device (send If-Match); credentials given here are merged, the host-key pin is kept
        unless ssh_host_key is given; the read-only fields of a GET may be sent back unchanged. 409 while a
        change runs on the device"""
        device = get_or_404(Device, device_id)
        blp.check_etag(device, DeviceSchema)
        echoed_read_only_fields(request.get_json(silent=True), DeviceSchema().dump(device), READ_ONLY_FIELDS)
        _apply(device, args)
        name_taken = f"Site {args['site_id']} already has a device named {args['name']!r}."
        try:
            session().flush()
        except IntegrityError:
            session().rollback()
            abort(409, message=name_taken, errors={"json": {"name": [name_taken]}})
        refuse_if_busy(session(), device_id)
        commit_or_409(name_taken, "name")
        return device

    @blp.auth_required("admin")
    @blp.etag
    @blp.response(204)
    @blp.errors(404, 409, 412, 428)
    def delete(self, device_id):
        """Delete a device and its credentials (send If-Match); 409 while a change runs on it. Its finished
        remediations are summarised in the audit log entry of the call"""
        device = get_or_404(Device, device_id)
        blp.check_etag(device, DeviceSchema)
        delete_unless_busy(session(), device)


@blp.route("/<int:device_id>/credentials", methods=["PUT"])
@blp.auth_required("admin")
@blp.arguments(CredentialsSchema)
@blp.response(204)
@blp.errors(404)
def put_credentials(args, device_id):
    """Replace a device's credentials (write-only; fields left out are removed)"""
    device = get_or_404(Device, device_id)
    set_credentials(device, args.pop("username", ""), args, merge=False)
    session().commit()


@blp.route("/<int:device_id>/host-key/accept", methods=["POST"])
@blp.auth_required("admin")
@blp.arguments(HostKeyAcceptSchema)
@blp.response(200, DeviceSchema)
@blp.errors(404, 409)
def accept_host_key(args, device_id):
    """Accept the changed SSH host key the device presented (admin), named by the fingerprint checked on the
    device; 409 when the device presented no other key, or another one than that"""
    device = get_or_404(Device, device_id)
    presented = device.ssh_host_key_presented
    if not presented:
        abort(409, message="The device has not presented a different host key.")
    if presented.get("sha256") != args["sha256"]:
        abort(409, message=f"The device now presents another key ({presented.get('sha256')}), not "
                           f"{args['sha256']}: check that one on the device before accepting it.",
              errors={"json": {"sha256": ["Not the presented key."]}})
    device.ssh_host_key, device.ssh_host_key_presented = presented, None
    session().commit()
    return device
