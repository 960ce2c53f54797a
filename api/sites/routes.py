"""Site CRUD with ETags and pagination."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.common import commit_or_409, get_or_404
from api.extensions import ETAG, ID, Blueprint, link
from api.pagination import SQLPage
from api.sites.schemas import SiteQueryArgsSchema, SiteSchema
from hardening.jobs import schedules
from store.db import session
from store.models import Device, Site

blp = Blueprint("Sites", __name__, url_prefix="/api/v1/sites", description="Customer sites")

SITE = "/api/v1/sites/{site_id}"
SITE_LINKS = {"GetSite": link(SITE, "get", "Read the site", site_id=ID),
              "ReplaceSite": link(SITE, "put", "Replace the site (If-Match: this ETag)", site_id=ID, If_Match=ETAG),
              "DeleteSite": link(SITE, "delete", "Delete the site (If-Match: this ETag)", site_id=ID, If_Match=ETAG)}
NEW_SITE_LINKS = {
    **SITE_LINKS,
    "AddDevice": link("/api/v1/devices", "post", "Add a device to the site", request_body={"site_id": ID}),
    "StartAudit": link(f"{SITE}/audits", "post", "Audit the site", site_id=ID),
    "AddSchedule": link(f"{SITE}/schedules", "post", "Schedule audits of the site", site_id=ID),
    "AddWaiver": link(f"{SITE}/waivers", "post", "Waive a check for the site", site_id=ID),
    "SiteStatus": link(f"{SITE}/status", "get", "The site's RMM status", site_id=ID)}


@blp.route("")
class Sites(MethodView):
    @blp.auth_required("read")
    @blp.etag
    @blp.arguments(SiteQueryArgsSchema, location="query")
    @blp.response(200, SiteSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """List sites"""
        stmt = select(Site).order_by(Site.id)
        if "name" in args:
            stmt = stmt.where(Site.name == args["name"])
        return stmt

    @blp.auth_required("admin")
    @blp.etag
    @blp.arguments(SiteSchema)
    @blp.response(201, SiteSchema)
    @blp.links(201, **NEW_SITE_LINKS)
    @blp.errors(409)
    def post(self, args):
        """Create a site"""
        site = Site(**args)
        session().add(site)
        commit_or_409(f"A site named {args['name']!r} already exists.", "name")
        return site


@blp.route("/<int:site_id>")
class SiteById(MethodView):
    @blp.auth_required("read")
    @blp.etag
    @blp.response(200, SiteSchema)
    @blp.links(200, **{k: v for k, v in SITE_LINKS.items() if k != "GetSite"})
    @blp.errors(404)
    def get(self, site_id):
        """Get a site"""
        return get_or_404(Site, site_id)

    @blp.auth_required("admin")
    @blp.etag
    @blp.arguments(SiteSchema)
    @blp.response(200, SiteSchema)
    @blp.links(200, **SITE_LINKS)
    @blp.errors(404, 409, 412, 428)
    def put(self, args, site_id):
        """Replace a site (send If-Match with its ETag)"""
        site = get_or_404(Site, site_id)
        blp.check_etag(site, SiteSchema)
        rezoned = args["timezone"] != site.timezone
        for key, value in args.items():
            setattr(site, key, value)
        if rezoned:                      # its schedules now run on other clocks: plan their next runs again
            schedules.replan_site(session(), site)
        commit_or_409(f"A site named {args['name']!r} already exists.", "name")
        return site

    @blp.auth_required("admin")
    @blp.etag
    @blp.response(204)
    @blp.errors(404, 409, 412, 428)
    def delete(self, site_id):
        """Delete a site that has no devices (send If-Match)"""
        site = get_or_404(Site, site_id)
        blp.check_etag(site, SiteSchema)
        if session().scalar(select(Device.id).where(Device.site_id == site_id).limit(1)) is not None:
            abort(409, message="The site still has devices; delete them first.")
        session().delete(site)
        session().commit()
