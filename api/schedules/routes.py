"""Schedule CRUD, pause and resume; the background leader starts the audits (hardening.jobs.schedules)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.common import get_or_404
from api.extensions import ID, Blueprint, link
from api.schedules.schemas import CRON_PATTERN, ScheduleSchema
from hardening.jobs import cron, schedules
from store.audit_models import Schedule
from store.db import session
from store.models import Site

blp = Blueprint("Schedules", __name__, url_prefix="/api/v1", description="Periodic re-audits")

ONE = "/api/v1/schedules/{schedule_id}"
LINKS = {"GetSchedule": link(ONE, "get", "Read the schedule", schedule_id=ID),
         "EditSchedule": link(ONE, "put", "Change its cron, profile or enabled", schedule_id=ID),
         "PauseSchedule": link(ONE + "/pause", "post", "Pause the schedule", schedule_id=ID),
         "ResumeSchedule": link(ONE + "/resume", "post", "Resume the schedule", schedule_id=ID),
         "DeleteSchedule": link(ONE, "delete", "Delete the schedule", schedule_id=ID)}


def _shown(schedule: Schedule) -> dict:
    return schedules.answer(schedule, session().get(Site, schedule.site_id).timezone)


def _planned(change, *args) -> None:
    """Run a change that plans the next slot; a stored cron or zone that cannot run is a 409, not a 500."""
    try:
        change(*args)
    except cron.CronError as exc:
        session().rollback()
        abort(409, message=f"The schedule cannot be planned: {exc}")


@blp.route("/sites/<int:site_id>/schedules")
class SiteSchedules(MethodView):
    @blp.auth_required("read")
    @blp.response(200, ScheduleSchema(many=True))
    @blp.errors(404)
    def get(self, site_id):
        """List a site's schedules, each with its next run (UTC and local)"""
        site = get_or_404(Site, site_id)
        found = session().scalars(select(Schedule).where(Schedule.site_id == site_id).order_by(Schedule.id))
        return [schedules.answer(s, site.timezone) for s in found]

    @blp.auth_required("admin")
    @blp.arguments(ScheduleSchema)
    @blp.response(201, ScheduleSchema)
    @blp.links(201, **LINKS)
    @blp.errors(404, 409)
    def post(self, args, site_id):
        """Schedule periodic audits of a site (on the site's clocks)"""
        site = get_or_404(Site, site_id)
        try:
            schedule = schedules.create(session(), site, args)
        except cron.CronError as exc:         # only a stored zone this tzdata lacks gets here
            abort(409, message=f"The schedule cannot be planned: {exc}")
        session().commit()
        return _shown(schedule)


@blp.route("/schedules/<int:schedule_id>")
class ScheduleById(MethodView):
    @blp.auth_required("read")
    @blp.response(200, ScheduleSchema)
    @blp.errors(404)
    def get(self, schedule_id):
        """Get a schedule and when it runs next"""
        return _shown(get_or_404(Schedule, schedule_id))

    @blp.auth_required("admin")
    @blp.arguments(ScheduleSchema)
    @blp.response(200, ScheduleSchema)
    @blp.links(200, **{k: v for k, v in LINKS.items() if k != "EditSchedule"})
    @blp.errors(404, 409)
    def put(self, args, schedule_id):
        """Replace a schedule's cron, profile and enabled (omitted: baseline, enabled); the next run is planned again"""
        schedule = get_or_404(Schedule, schedule_id)
        _planned(schedules.edit, schedule, session().get(Site, schedule.site_id), args)
        session().commit()
        return _shown(schedule)

    @blp.auth_required("admin")
    @blp.response(204)
    @blp.errors(404)
    def delete(self, schedule_id):
        """Delete a schedule"""
        session().delete(get_or_404(Schedule, schedule_id))
        session().commit()


def _switch(schedule_id: int, enabled: bool) -> dict:
    schedule = get_or_404(Schedule, schedule_id)
    _planned(schedules.set_enabled, schedule, session().get(Site, schedule.site_id), enabled)
    session().commit()
    return _shown(schedule)


@blp.route("/schedules/<int:schedule_id>/pause", methods=["POST"])
@blp.auth_required("admin")
@blp.response(200, ScheduleSchema)
@blp.links(200, ResumeSchedule=LINKS["ResumeSchedule"], GetSchedule=LINKS["GetSchedule"])
@blp.errors(404, 409)
def pause(schedule_id):
    """Pause a schedule: it never runs until resumed (pausing a paused one changes nothing)"""
    return _switch(schedule_id, False)


@blp.route("/schedules/<int:schedule_id>/resume", methods=["POST"])
@blp.auth_required("admin")
@blp.response(200, ScheduleSchema)
@blp.links(200, PauseSchedule=LINKS["PauseSchedule"], GetSchedule=LINKS["GetSchedule"])
@blp.errors(404, 409)
def resume(schedule_id):
    """Resume a schedule at its next slot after now (runs missed while paused are not made up)"""
    return _switch(schedule_id, True)


__all__ = ["blp", "abort", "CRON_PATTERN"]
