"""Queries of the planning board: appointments with their staffing state.

An appointment's staffing state is

- ``booked``: it has a confirmed booking,
- ``requested``: it has requested bookings only,
- ``open``: it has no requested or confirmed booking.

The board counts planned and done appointments (``BOARD_STATES``); customer
proposals awaiting a decision are shown in the detail views but not counted.
Counts come from GROUP BY queries, never from one query per cell.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job, Project
from app.rules.calendar import as_date, week_of, week_start

STATES = ("booked", "requested", "open")
BOARD_STATES = ("planned", "done")
SHOWN_STATES = ("planned", "done", "proposed")


def state_subquery(*criteria):
    """One row per appointment (id, job_id, date, status, state) matching ``criteria``."""
    confirmed = func.max(case((Booking.status == "confirmed", 1), else_=0))
    requested = func.max(case((Booking.status == "requested", 1), else_=0))
    return (
        select(
            Appointment.id,
            Appointment.job_id,
            Appointment.date,
            Appointment.status,
            case((confirmed == 1, "booked"), (requested == 1, "requested"), else_="open").label("state"),
        )
        .outerjoin(Booking, Booking.appointment_id == Appointment.id)
        .where(*criteria)
        .group_by(Appointment.id, Appointment.job_id, Appointment.date, Appointment.status)
        .subquery()
    )


def project_weeks(project: Project, limit: int = 60) -> list[dt.date]:
    """Mondays of the weeks of the project's period (at most ``limit``)."""
    monday = week_of(project.start_date)[0]
    weeks = []
    while monday <= project.end_date and len(weeks) < limit:
        weeks.append(monday)
        monday += dt.timedelta(weeks=1)
    return weeks


def overview_counts(
    session: Session, project_id: int, first: dt.date, last: dt.date
) -> dict[tuple[int, dt.date], Counter]:
    """(job id, Monday) -> Counter of states, for the project's jobs (one GROUP BY query).

    The query must go from the project's jobs through ``appointment (job_id, date)``; without
    statistics (no ANALYZE) SQLite preferred the (status, date) index and read every
    appointment of the project's period, all projects' (1.2 s at 1,000,000 appointments) —
    ``status || ''`` keeps it off that index (as the customer's lists do).
    """
    per = state_subquery(
        Appointment.job_id.in_(select(Job.id).where(Job.project_id == project_id)),
        Appointment.date.between(first, last),
        Appointment.status.concat("").in_(BOARD_STATES),
    )
    monday = week_start(session, per.c.date)
    counts: dict[tuple[int, dt.date], Counter] = defaultdict(Counter)
    for job_id, week, state, count in session.execute(
        select(per.c.job_id, monday, per.c.state, func.count()).group_by(per.c.job_id, monday, per.c.state)
    ):
        counts[job_id, as_date(week)][state] += count
    return counts


def project_jobs(session: Session, project_id: int) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .join(Location, Location.id == Job.location_id)
            .where(Job.project_id == project_id)
            .options(joinedload(Job.location))
            .order_by(Location.name, Job.title)
        )
    )


def appointments_with_state(
    session: Session,
    first: dt.date,
    last: dt.date,
    *,
    job_id: int | None = None,
    location_id: int | None = None,
) -> list[tuple[Appointment, str]]:
    """The shown appointments of a job (or of every job at a store) with their state, by day."""
    criteria = [Appointment.date.between(first, last), Appointment.status.in_(SHOWN_STATES)]
    if job_id is not None:
        criteria.append(Appointment.job_id == job_id)
    if location_id is not None:
        criteria.append(Appointment.job_id.in_(select(Job.id).where(Job.location_id == location_id)))
    per = state_subquery(*criteria)
    rows = session.execute(
        select(Appointment, per.c.state)
        .join(per, per.c.id == Appointment.id)
        .options(
            joinedload(Appointment.job).joinedload(Job.location),
            selectinload(Appointment.bookings).joinedload(Booking.promoter),
        )
        .order_by(Appointment.date, Appointment.start_time, Appointment.id)
    ).unique()
    return [(appointment, state) for appointment, state in rows]


def default_project(session: Session, today: dt.date) -> Project | None:
    """The project running today with the most jobs, else the latest one."""
    jobs = select(func.count(Job.id)).where(Job.project_id == Project.id).scalar_subquery()
    running = session.scalar(
        select(Project)
        .where(Project.start_date <= today, Project.end_date >= today)
        .order_by(jobs.desc(), Project.start_date.desc(), Project.id)
        .limit(1)
    )
    return running or session.scalar(select(Project).order_by(Project.start_date.desc()).limit(1))
