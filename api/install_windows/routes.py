"""Open, list and close Plug 'n' Play install windows (remediate scope to change them)."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.auth import actor_name
from api.common import get_or_404
from api.extensions import ID, Blueprint, Schema, link
from api.fields import UTCDateTime
from device_drivers import egress
from device_drivers.exceptions import DriverError
from hardening.engine.inputs import device_spec
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


def _checked_spec(device):
    egress.check(device.address, current_app.config["EGRESS_ALLOWED_NETWORKS"])
    return device_spec(device, current_app.extensions["secret_box"])


def _driver_abort(exc: DriverError) -> None:
    abort(502, message=f"the Allworx server could not be changed: {exc}")


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
    @blp.errors(404, 409, 502)
    def post(self, args, site_id):
        """Allow Plug 'n' Play phone creates for N minutes; they are disabled again by themselves"""
        get_or_404(Site, site_id)
        try:
            return install_window.open_window(session(), site_id, args["minutes"], args["scope"], actor_name(),
                                              _checked_spec)
        except install_window.WindowError as exc:
            abort(409, message=str(exc))
        except DriverError as exc:
            _driver_abort(exc)


@blp.route("/install-windows/<int:window_id>/close", methods=["POST"])
@blp.auth_required("remediate")
@blp.response(200, InstallWindowSchema)
@blp.errors(404, 409, 502)
def close_window(window_id):
    """Close an install window now (disable Plug 'n' Play phone creates again)"""
    window = get_or_404(InstallWindow, window_id)
    if window.state != "open":
        abort(409, message=f"install window {window_id} is {window.state}")
    try:
        install_window.close_now(session(), window, _checked_spec)
    except (install_window.WindowError, DriverError) as exc:
        abort(502, message=f"could not close the window on the server: {exc}")
    return window
