"""Schedule CRUD; the background leader starts the audits."""
from __future__ import annotations

import re

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.common import get_or_404
from api.extensions import ID, Blueprint, Schema, link
from api.fields import UTCDateTime
from hardening.jobs import cron
from hardening.model.profiles import profile_names
from store.audit_models import Schedule
from store.db import session
from store.models import Site, utcnow

blp = Blueprint("Schedules", __name__, url_prefix="/api/v1", description="Periodic re-audits")


CRON_PATTERN = re.compile(r"^[0-9*,/-]+( +[0-9*,/-]+){4}$")


def _valid_cron(value: str) -> None:
    if not CRON_PATTERN.fullmatch(value):       # the documented pattern: no tabs, no final newline
        raise ma.ValidationError("Five fields separated by spaces: minute hour day month weekday.")
    try:
        cron.next_run(value, utcnow())
    except cron.CronError as exc:
        raise ma.ValidationError(str(exc)) from None


class ScheduleSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    site_id = ma.fields.Integer(dump_only=True)
    cron = ma.fields.String(required=True, validate=[ma.validate.Length(9, 100), _valid_cron],
                            metadata={"description": "minute hour day month weekday, UTC (e.g. '0 3 * * *')",
                                      "pattern": CRON_PATTERN.pattern})
    profile = ma.fields.String(load_default="baseline", validate=ma.validate.OneOf(profile_names()))
    enabled = ma.fields.Boolean(load_default=True)
    next_run_at = UTCDateTime(dump_only=True, allow_none=True)
    last_run_at = UTCDateTime(dump_only=True, allow_none=True)
    last_audit_id = ma.fields.Integer(dump_only=True, allow_none=True)


@blp.route("/sites/<int:site_id>/schedules")
class SiteSchedules(MethodView):
    @blp.auth_required("read")
    @blp.response(200, ScheduleSchema(many=True))
    @blp.errors(404)
    def get(self, site_id):
        """List a site's schedules"""
        get_or_404(Site, site_id)
        return session().scalars(select(Schedule).where(Schedule.site_id == site_id).order_by(Schedule.id)).all()

    @blp.auth_required("admin")
    @blp.arguments(ScheduleSchema)
    @blp.response(201, ScheduleSchema)
    @blp.links(201, DeleteSchedule=link("/api/v1/schedules/{schedule_id}", "delete", "Delete the schedule",
                                        schedule_id=ID))
    @blp.errors(404)
    def post(self, args, site_id):
        """Schedule periodic audits of a site"""
        get_or_404(Site, site_id)
        schedule = Schedule(site_id=site_id, next_run_at=cron.next_run(args["cron"], utcnow()), **args)
        session().add(schedule)
        session().commit()
        return schedule


@blp.route("/schedules/<int:schedule_id>", methods=["DELETE"])
@blp.auth_required("admin")
@blp.response(204)
@blp.errors(404)
def delete_schedule(schedule_id):
    """Delete a schedule"""
    session().delete(get_or_404(Schedule, schedule_id))
    session().commit()


__all__ = ["blp", "abort"]
