"""The proposal rules: which store a contact may propose for, which slot, and the
warnings shown before proposing and before deciding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.common.choices import APPOINTMENT_STATUSES, BOOKING_STATUSES, label
from app.common.timezone import local_today
from app.models.planning import Appointment, Booking, ChangeRequest, Job
from app.rules.calendar import (
    ACTIVE_APPOINTMENTS,
    ACTIVE_BOOKINGS,
    exceeds_planned_days,
    holiday_name,
    week_of,
)
from app.security.visibility import Scope
from app.staffing.rules import Conflict


class ProposalError(ValueError):
    """Input that must not become a proposal; the message is for the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


class AlreadyDecided(Exception):
    """Somebody else decided this proposal (or change request) first."""


class NotVisible(Exception):
    """The appointment is not in the contact's territory (or does not exist): a 404."""


PENDING_CHANGE = _l("A change of this appointment is already waiting for the agency's decision.")


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


@dataclass
class ChangeDraft:
    """What a contact asks of an existing appointment."""

    kind: str  # cancel | move
    reason: str | None
    date: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None


def can_request_change(appointment: Appointment) -> bool:
    """Only planned appointments from today on can be asked to be cancelled or moved."""
    return appointment.status == "planned" and appointment.date >= local_today()


def check_change(session: Session, appointment: Appointment, draft: ChangeDraft) -> None:
    """A change request the agency can act on: planned, future, a reason, a valid new slot."""
    if not can_request_change(appointment):
        raise ProposalError(_l("Only planned appointments from today on can be cancelled or moved."))
    if draft.kind not in ("cancel", "move"):
        raise ProposalError(_l("Please choose whether to cancel or move the appointment."), "kind")
    if draft.kind == "move":
        check_slot(appointment.job, draft.date, draft.start_time, draft.end_time)
        if (draft.date, draft.start_time, draft.end_time) == (
            appointment.date,
            appointment.start_time,
            appointment.end_time,
        ):
            raise ProposalError(_l("The new date and time are the same as now."), "date")
    if not (draft.reason or "").strip():
        raise ProposalError(_l("Please give a reason."), "reason")
    pending = session.scalar(
        select(func.count(ChangeRequest.id)).where(
            ChangeRequest.appointment_id == appointment.id, ChangeRequest.status == "pending"
        )
    )
    if pending:
        raise ProposalError(PENDING_CHANGE)


def warnings_for(session: Session, job: Job, date: dt.date, exclude_id: int | None = None) -> list[str]:
    """What the customer (and later the agency deciding) should know; none of it forbids the proposal.

    ``exclude_id``: the proposal itself, when the agency looks at it after it was made.
    """
    monday, sunday = week_of(date)
    stmt = select(Appointment.date).where(
        Appointment.job_id == job.id,
        Appointment.date.between(monday, sunday),
        Appointment.status.in_(ACTIVE_APPOINTMENTS),
    )
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    return warnings_from(job, date, list(session.scalars(stmt)))


def warnings_from(job: Job, date: dt.date, week_dates: list[dt.date]) -> list[str]:
    """:func:`warnings_for` without the database: ``week_dates`` are the dates of the job's
    other active appointments in ``date``'s week (one entry per appointment)."""
    found = []
    if date in week_dates:
        found.append(_("The store already has an appointment on this day."))
    if date.weekday() == 6:
        found.append(_("This day is a Sunday; most stores are closed on Sundays."))
    holiday = holiday_name(job.location.federal_state, date)
    if holiday:
        found.append(_("This day is a public holiday in the store's federal state: %(name)s.", name=holiday))
    if job.planned_days_per_week:
        days = len(set(week_dates) | {date})
        if exceeds_planned_days(days, job.planned_days_per_week):
            found.append(
                _(
                    "The store's planned days for this week are already reached (%(days)d of %(planned)d).",
                    days=days - 1,
                    planned=job.planned_days_per_week,
                )
            )
    return found


@dataclass(frozen=True)
class Slot:
    """A day and time of a job to check before deciding: a proposal, or where a move would go."""

    job: Job
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    #: the appointment itself (the proposal, or the one to be moved)
    exclude_id: int | None = None


@dataclass
class SlotCheck:
    """What the agency should know before deciding about a slot."""

    warnings: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def duplicate_conflict(other: Appointment) -> Conflict:
    return Conflict(
        "duplicate",
        _(
            "Duplicate: the store already has an appointment (%(state)s) on this day at %(start)s–%(end)s.",
            state=label(APPOINTMENT_STATUSES, other.status),
            start=other.start_time.strftime("%H:%M"),
            end=other.end_time.strftime("%H:%M"),
        ),
        True,
    )


def booked_conflict(booking: Booking) -> Conflict:
    appointment = booking.appointment
    return Conflict(
        "booking",
        _(
            "%(promoter)s (%(state)s) already works at this store on this day, %(start)s–%(end)s.",
            promoter=booking.promoter.full_name,
            state=label(BOOKING_STATUSES, booking.status),
            start=appointment.start_time.strftime("%H:%M"),
            end=appointment.end_time.strftime("%H:%M"),
        ),
        False,
    )


def check_slots(session: Session, slots: list[Slot]) -> list[SlotCheck]:
    """Warnings (as :func:`warnings_for`) and conflicts for many slots in two queries.

    Conflicts: the store's other active appointments that day whose time overlaps
    (a duplicate), and the promoters requested or booked at the store that day.
    """
    if not slots:
        return []
    first = min(week_of(s.date)[0] for s in slots)
    last = max(week_of(s.date)[1] for s in slots)
    others = session.scalars(
        select(Appointment)
        .where(
            Appointment.job_id.in_({s.job.id for s in slots}),
            Appointment.date.between(first, last),
            Appointment.status.in_(ACTIVE_APPOINTMENTS),
        )
        .options(selectinload(Appointment.bookings).joinedload(Booking.promoter))
        .order_by(Appointment.date, Appointment.start_time, Appointment.id)
    ).all()
    checks = []
    for slot in slots:
        monday, sunday = week_of(slot.date)
        mine = [a for a in others if a.job_id == slot.job.id and a.id != slot.exclude_id]
        check = SlotCheck(
            warnings_from(slot.job, slot.date, [a.date for a in mine if monday <= a.date <= sunday])
        )
        for other in (a for a in mine if a.date == slot.date):
            if other.start_time < slot.end_time and other.end_time > slot.start_time:
                check.conflicts.append(duplicate_conflict(other))
            for booking in other.bookings:
                if booking.status in ACTIVE_BOOKINGS:
                    check.conflicts.append(booked_conflict(booking))
        checks.append(check)
    return checks


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
