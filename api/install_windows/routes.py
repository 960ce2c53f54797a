"""Open, list and close Plug 'n' Play install windows (remediate scope to change them)."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.auth import actor_name
from api.common import device_access, get_or_404
from api.errors import DEVICE_ERRORS, device_faults
from api.extensions import ID, Blueprint, Schema, link
from api.fields import UTCDateTime
from hardening.jobs import install_window
from store.audit_models import InstallWindow
from store.db import session
from store.models import Site

blp = Blueprint("InstallWindows", __name__, url_prefix="/api/v1",
                description="Time-boxed Plug 'n' Play install windows")


class OpenWindowArgsSchema(Schema):
    minutes = ma.fields.Integer(required=True, strict=True,
                                validate=ma.validate.Range(1, install_window.MAX_MINUTES))
    scope = ma.fields.String(load_default="lan", validate=ma.validate.OneOf(tuple(install_window.SETTINGS)),
                             metadata={"description": "lan, wan (remote phones) or both"})


class InstallWindowSchema(Schema):
    id = ma.fields.Integer()
    site_id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "open | closed"})
    opened_by = ma.fields.String()
    opened_at = UTCDateTime()
    closes_at = UTCDateTime()
    closed_at = UTCDateTime(allow_none=True)
    detail = ma.fields.Dict()


@blp.route("/sites/<int:site_id>/install-windows")
class SiteInstallWindows(MethodView):
    @blp.auth_required("read")
    @blp.response(200, InstallWindowSchema(many=True))
    @blp.errors(404)
    def get(self, site_id):
        """List a site's install windows"""
        get_or_404(Site, site_id)
        return session().scalars(select(InstallWindow).where(InstallWindow.site_id == site_id)
                                 .order_by(InstallWindow.id.desc())).all()

    @blp.auth_required("remediate")
    @blp.arguments(OpenWindowArgsSchema)
    @blp.response(201, InstallWindowSchema)
    @blp.links(201, CloseWindow=link("/api/v1/install-windows/{window_id}/close", "post", "Close it", window_id=ID))
    @blp.errors(404, *DEVICE_ERRORS)
    def post(self, args, site_id):
        """Allow Plug 'n' Play phone creates for N minutes; they are disabled again by themselves"""
        get_or_404(Site, site_id)
        try:
            with device_faults():
                return install_window.open_window(session(), site_id, args["minutes"], args["scope"], actor_name(),
                                                  device_access().driver)
        except install_window.WindowError as exc:
            abort(409, message=str(exc))


@blp.route("/install-windows/<int:window_id>/close", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, InstallWindowSchema)
@blp.errors(404, *DEVICE_ERRORS)
def close_window(window_id):
    """Close an install window now (disable Plug 'n' Play phone creates again)"""
    window = get_or_404(InstallWindow, window_id)
    if window.state != "open":
        abort(409, message=f"install window {window_id} is {window.state}")
    try:
        with device_faults():
            install_window.close_now(session(), window, device_access().driver)
    except install_window.WindowError as exc:          # the server did not read back "off"
        abort(502, message=f"could not close the window on the server: {exc}")
    return window
