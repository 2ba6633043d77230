"""What the cockpit shows, each in a fixed number of statements and a bounded number of rows
(counts in SQL, the first rows only), so that the start page stays fast at 1,000,000
appointments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, contains_eager

from app.common.models import utcnow
from app.models.crm import Location, Task
from app.models.planning import Appointment, Booking, ChangeRequest, Job, Project
from app.models.promoter import Promoter
from app.rules.calendar import ACTIVE_BOOKINGS, week_of
from app.staffing.rules import confirmed_booking_exists, unanswered_request

#: Rows shown per section; the count says how many there are in all.
ROWS = 10
#: "Unstaffed" looks this many days ahead.
UNSTAFFED_DAYS = 14


@dataclass
class Section:
    """The first rows of a list and how many there are in all."""

    rows: list = field(default_factory=list)
    total: int = 0


@dataclass
class TodayRow:
    appointment: Appointment
    promoters: list[tuple[str, bool]]


@dataclass
class ProjectWeek:
    project: Project
    planned: int
    done: int
    staffed: int
    cancelled: int

    @property
    def staffed_share(self) -> int:
        active = self.planned + self.done
        return round(100 * self.staffed / active) if active else 0


def _appointments_with_store():
    return (
        select(Appointment)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .options(contains_eager(Appointment.job).contains_eager(Job.location))
    )


def _today_where(day: dt.date) -> tuple:
    return (Appointment.date == day, Appointment.status.in_(("planned", "done")))


def _unstaffed_where(day: dt.date) -> tuple:
    return (
        Appointment.date.between(day, day + dt.timedelta(days=UNSTAFFED_DAYS - 1)),
        Appointment.status == "planned",
        ~confirmed_booking_exists(),
    )


def _unanswered_where(day: dt.date, now: dt.datetime) -> tuple:
    return (*unanswered_request(now), Appointment.date >= day)


def _follow_ups_where(user_id: int, day: dt.date) -> tuple:
    return (Task.assignee_id == user_id, Task.done.is_(False), Task.due_date <= day)


def _cancel_requested_where() -> tuple:
    """A promoter asked to be taken off a confirmed booking and the agency has not answered."""
    return (
        Booking.status == "confirmed",
        Booking.cancel_requested_at.is_not(None),
        Booking.cancel_answer.is_(None),
    )


def counts(session: Session, user_id: int, day: dt.date, now: dt.datetime | None = None) -> dict[str, int]:
    """Every section's count in one statement."""
    now = now or utcnow()

    def count(column, *where, join=None):
        stmt = select(func.count(column))
        if join is not None:
            stmt = stmt.join(*join)
        return stmt.where(*where).scalar_subquery()

    row = session.execute(
        select(
            count(Appointment.id, *_today_where(day)).label("today"),
            count(Appointment.id, *_unstaffed_where(day)).label("unstaffed"),
            count(
                Booking.id,
                *_unanswered_where(day, now),
                join=(Appointment, Appointment.id == Booking.appointment_id),
            ).label("unanswered"),
            count(Appointment.id, Appointment.status == "proposed").label("proposals"),
            count(Task.id, *_follow_ups_where(user_id, day)).label("follow_ups"),
            count(ChangeRequest.id, ChangeRequest.status == "pending").label("change_requests"),
            count(Booking.id, *_cancel_requested_where()).label("cancel_requests"),
        )
    ).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


def today(session: Session, day: dt.date, total: int) -> Section:
    """Today's active appointments with their confirmed or requested promoters (name, confirmed)."""
    where = _today_where(day)
    rows = session.scalars(
        _appointments_with_store().where(*where).order_by(Appointment.start_time, Location.name).limit(ROWS)
    ).all()
    names: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    if rows:
        for appointment_id, status, first, last in session.execute(
            select(Booking.appointment_id, Booking.status, Promoter.first_name, Promoter.last_name)
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .where(Booking.appointment_id.in_([a.id for a in rows]), Booking.status.in_(ACTIVE_BOOKINGS))
            .order_by(Booking.status, Promoter.last_name)
        ):
            names[appointment_id].append((f"{first} {last}", status == "confirmed"))
    return Section([TodayRow(a, names[a.id]) for a in rows], total)


def unstaffed(session: Session, day: dt.date, total: int) -> Section:
    """Planned appointments of the next days without a confirmed promoter."""
    where = _unstaffed_where(day)
    rows = session.scalars(
        _appointments_with_store()
        .where(*where)
        .order_by(Appointment.date, Appointment.start_time, Location.name)
        .limit(ROWS)
    ).all()
    return Section(list(rows), total)


def unanswered(session: Session, day: dt.date, total: int, now: dt.datetime | None = None) -> Section:
    """Requests older than 48 hours that the promoter has neither confirmed nor declined."""
    where = _unanswered_where(day, now or utcnow())
    rows = session.scalars(
        select(Booking)
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Promoter, Promoter.id == Booking.promoter_id)
        .where(*where)
        .options(
            contains_eager(Booking.appointment).contains_eager(Appointment.job).contains_eager(Job.location),
            contains_eager(Booking.promoter),
        )
        .order_by(Appointment.date, Booking.created_at)
        .limit(ROWS)
    ).all()
    return Section(list(rows), total)


def pending_proposals(session: Session, total: int) -> Section:
    where = Appointment.status == "proposed"
    rows = session.scalars(
        _appointments_with_store().where(where).order_by(Appointment.date, Appointment.start_time).limit(ROWS)
    ).all()
    return Section(list(rows), total)


def follow_ups_due(session: Session, user_id: int, day: dt.date, total: int) -> Section:
    """The user's open tasks due today or overdue (titles only)."""
    where = _follow_ups_where(user_id, day)
    rows = session.scalars(select(Task).where(*where).order_by(Task.due_date, Task.id).limit(ROWS)).all()
    return Section(list(rows), total)


def week_progress(session: Session, day: dt.date) -> list[ProjectWeek]:
    """This week's appointments per running project: planned, done, staffed, cancelled."""
    monday, sunday = week_of(day)
    staffed = case((confirmed_booking_exists(), 1), else_=0)
    counts = (
        select(
            Job.project_id,
            func.sum(case((Appointment.status == "planned", 1), else_=0)).label("planned"),
            func.sum(case((Appointment.status == "done", 1), else_=0)).label("done"),
            func.sum(case((Appointment.status.in_(("planned", "done")), staffed), else_=0)).label("staffed"),
            func.sum(case((Appointment.status == "cancelled", 1), else_=0)).label("cancelled"),
        )
        .join(Job, Job.id == Appointment.job_id)
        .where(Appointment.date.between(monday, sunday))
        .group_by(Job.project_id)
        .subquery()
    )
    rows = session.execute(
        select(Project, counts.c.planned, counts.c.done, counts.c.staffed, counts.c.cancelled)
        .join(counts, counts.c.project_id == Project.id)
        .order_by(Project.name)
        .limit(50)
    ).all()
    return [
        ProjectWeek(project, int(p or 0), int(d or 0), int(s or 0), int(c or 0))
        for project, p, d, s, c in rows
    ]
