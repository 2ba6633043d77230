"""The proposal rules: which store a contact may propose for, which slot, and the
warnings shown before proposing and before deciding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.timezone import local_today
from app.models.planning import Appointment, Job
from app.rules.calendar import days_in_week, exceeds_planned_days, holiday_name, same_day_appointments
from app.security.visibility import Scope


class ProposalError(ValueError):
    """Input that must not become a proposal; the message is for the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


class AlreadyDecided(Exception):
    """Somebody else decided this proposal first."""


@dataclass
class ProposalDraft:
    project_id: int
    location_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    note: str | None = None


def visible_job(session: Session, scope: Scope, project_id: int, location_id: int) -> Job | None:
    """The job of (project, location) if the scope may see it."""
    return session.scalar(scope.jobs().where(Job.project_id == project_id, Job.location_id == location_id))


def check_store(session: Session, scope: Scope, project_id: int | None, location_id: int | None) -> Job:
    """Step 1: the project and store exist, are visible, and belong together."""
    if not project_id:
        raise ProposalError(_l("Please choose a project."), "project")
    if not location_id:
        raise ProposalError(_l("Please choose a store."), "location")
    job = visible_job(session, scope, project_id, location_id)
    if job is None:
        raise ProposalError(_l("This store is not part of the project in your territory."), "location")
    return job


def check_slot(job: Job, date: dt.date | None, start: dt.time | None, end: dt.time | None) -> None:
    """Step 2: a date inside the project's period, not in the past, end after start."""
    if date is None:
        raise ProposalError(_l("Please enter a date."), "date")
    if date < local_today():
        raise ProposalError(_l("The date lies in the past."), "date")
    project = job.project
    if not project.start_date <= date <= project.end_date:
        raise ProposalError(
            _l(
                "The date must lie within the project's period (%(start)s – %(end)s).",
                start=format_date(project.start_date, "medium"),
                end=format_date(project.end_date, "medium"),
            ),
            "date",
        )
    if start is None or end is None:
        raise ProposalError(_l("Please enter a start and an end time."), "start_time")
    if end <= start:
        raise ProposalError(_l("The end must be after the start."), "end_time")


def warnings_for(session: Session, job: Job, date: dt.date, exclude_id: int | None = None) -> list[str]:
    """What the customer (and later the agency deciding) should know; none of it forbids the proposal.

    ``exclude_id``: the proposal itself, when the agency looks at it after it was made.
    """
    found = []
    if same_day_appointments(session, job.id, date, exclude_id):
        found.append(_("The store already has an appointment on this day."))
    if date.weekday() == 6:
        found.append(_("This day is a Sunday; most stores are closed on Sundays."))
    holiday = holiday_name(job.location.federal_state, date)
    if holiday:
        found.append(_("This day is a public holiday in the store's federal state: %(name)s.", name=holiday))
    if job.planned_days_per_week:
        days = days_in_week(session, job.id, date, exclude_id=exclude_id, including_day=True)
        if exceeds_planned_days(days, job.planned_days_per_week):
            found.append(
                _(
                    "The store's planned days for this week are already reached (%(days)d of %(planned)d).",
                    days=days - 1,
                    planned=job.planned_days_per_week,
                )
            )
    return found


def usual_hours(session: Session, job: Job) -> tuple[dt.time, dt.time] | None:
    """The job's most frequent start and end time (its usual hours), from its appointments."""
    row = session.execute(
        select(Appointment.start_time, Appointment.end_time)
        .where(Appointment.job_id == job.id, Appointment.status.in_(("planned", "done")))
        .group_by(Appointment.start_time, Appointment.end_time)
        .order_by(func.count().desc(), Appointment.start_time)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
