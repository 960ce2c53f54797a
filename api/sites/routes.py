"""Site CRUD with ETags and pagination."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.common import commit_or_409, get_or_404
from api.extensions import Blueprint
from api.pagination import SQLPage
from api.sites.schemas import SiteQueryArgsSchema, SiteSchema
from store.db import session
from store.models import Device, Site

blp = Blueprint("Sites", __name__, url_prefix="/api/v1/sites", description="Customer sites")


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
    @blp.errors(404)
    def get(self, site_id):
        """Get a site"""
        return get_or_404(Site, site_id)

    @blp.auth_required("admin")
    @blp.etag
    @blp.arguments(SiteSchema)
    @blp.response(200, SiteSchema)
    @blp.errors(404, 409, 412, 428)
    def put(self, args, site_id):
        """Replace a site (send If-Match with its ETag)"""
        site = get_or_404(Site, site_id)
        blp.check_etag(site, SiteSchema)
        for key, value in args.items():
            setattr(site, key, value)
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
