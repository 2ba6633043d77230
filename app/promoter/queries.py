"""Read models of the promoter system, all built on the visibility scope.

Every query starts from :class:`app.security.visibility.Scope` (kind "promoter")
and only narrows it further in SQL; nothing is filtered after the query.

Conditions on the appointment's date and status use :data:`appointment_day` and :data:`appointment_state`
(the columns wrapped in COALESCE): without statistics (no ANALYZE) SQLite otherwise
walks the appointments' date index over every promoter's days (2 s at 1,000,000
appointments) instead of starting from the promoter's few hundred bookings
(``ix_booking_promoter_status``; well under 1 ms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.common.sql import unindexed_on_sqlite
from app.models.crm import Location
from app.models.planning import Application, Appointment, Booking, Job, Project
from app.models.promoter import Unavailability
from app.models.reporting import QuestionnaireVersion, Report
from app.reporting.definitions import day_questionnaire_column
from app.security.visibility import Scope
from app.staffing.rules import Conflict, booking_conflicts_of

#: Appointment states a booking is shown in the schedule and the calendar feed for.
SCHEDULED_APPOINTMENTS = ("planned", "done")
#: The appointment's date and status for conditions, hidden from SQLite's index choice.
appointment_day = unindexed_on_sqlite(Appointment.date)
appointment_state = unindexed_on_sqlite(Appointment.status)


@dataclass
class RequestRow:
    booking: Booking
    conflicts: list[Conflict]


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def months(self) -> list[tuple[dt.date, list[Booking]]]:
        """The page's bookings grouped by month, in the page's order."""
        return [
            (month, list(rows))
            for month, rows in groupby(self.rows, key=lambda b: b.appointment.date.replace(day=1))
        ]


def _bookings(scope: Scope) -> Select:
    """The scope's bookings with their appointment, job and store (for lists)."""
    return (
        scope.bookings()
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Project, Project.id == Job.project_id)
        # Reuse the joins above; joinedload on top of them joined every table twice.
        .options(
            contains_eager(Booking.appointment)
            .contains_eager(Appointment.job)
            .options(contains_eager(Job.location), contains_eager(Job.project))
        )
    )


def open_requests(session: Session, scope: Scope, today: dt.date) -> list[RequestRow]:
    """Requested bookings from today on, each with what speaks against confirming it."""
    bookings = session.scalars(
        _bookings(scope)
        .where(Booking.status == "requested", appointment_day >= today, appointment_state == "planned")
        .order_by(Appointment.date, Appointment.start_time, Location.name)
    ).all()
    conflicts = booking_conflicts_of(session, list(bookings), confirming=True)
    return [RequestRow(b, conflicts[b.id]) for b in bookings]


def open_requests_by_id(session: Session, scope: Scope, ids: list[int]) -> list[Booking]:
    """The scope's bookings among ``ids`` (a batch) that were requests when the page was shown:
    still requested, or since withdrawn or cancelled (the batch then says why), by date."""
    if not ids:
        return []
    return list(
        session.scalars(
            _bookings(scope)
            .where(Booking.id.in_(ids), Booking.status.in_(("requested", "withdrawn", "cancelled")))
            .order_by(Appointment.date, Appointment.start_time, Location.name)
        ).unique()
    )


def confirmed(scope: Scope) -> Select:
    """Confirmed bookings of scheduled appointments (schedule, start page, feed)."""
    return _bookings(scope).where(
        Booking.status == "confirmed", appointment_state.in_(SCHEDULED_APPOINTMENTS)
    )


def feed_bookings(scope: Scope) -> Select:
    """The calendar feed's bookings: confirmed ones of scheduled appointments, and those that
    were confirmed or cancelled with their appointment, or withdrawn by the agency (shown as
    cancelled events so subscribed calendars drop them)."""
    return _bookings(scope).where(
        or_(
            and_(Booking.status == "confirmed", appointment_state.in_(SCHEDULED_APPOINTMENTS)),
            and_(Booking.status.in_(("confirmed", "cancelled")), appointment_state == "cancelled"),
            and_(Booking.status == "cancelled", appointment_state.in_(SCHEDULED_APPOINTMENTS)),
        )
    )


def upcoming(session: Session, scope: Scope, today: dt.date, limit: int = 10) -> list[Booking]:
    return list(
        session.scalars(
            confirmed(scope)
            .where(appointment_day >= today)
            .order_by(Appointment.date, Appointment.start_time)
            .limit(limit)
        ).unique()
    )


def schedule_page(
    session: Session, scope: Scope, today: dt.date, past: bool, page: int, per_page: int = 40
) -> Page:
    """Confirmed bookings, coming (date ascending) or past (date descending), one page."""
    stmt = confirmed(scope)
    if past:
        stmt = stmt.where(appointment_day < today).order_by(
            Appointment.date.desc(), Appointment.start_time.desc()
        )
    else:
        stmt = stmt.where(appointment_day >= today).order_by(Appointment.date, Appointment.start_time)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(rows, total, page, per_page)


def open_job_cities(session: Session, scope: Scope) -> list[str]:
    """The cities with jobs open for applications (the job list's city filter)."""
    return list(
        session.scalars(
            select(Location.city)
            .join(Job, Job.location_id == Location.id)
            .where(scope.condition(Job), Job.status == "open")
            .distinct()
            .order_by(Location.city)
        )
    )


def open_jobs(
    session: Session, scope: Scope, city: str | None = None, postcodes: list[str] | None = None
) -> list[tuple[Job, Application | None]]:
    """Jobs open for applications, each with this promoter's application (if any);
    optionally only in ``city`` or at stores with one of ``postcodes``."""
    return [(job, application) for job, application in session.execute(_open_jobs(scope, city, postcodes))]


def open_jobs_page(session: Session, scope: Scope, page: int, per_page: int, city: str | None = None) -> Page:
    """One page of :func:`open_jobs` (by city and store), with the number of all."""
    stmt = _open_jobs(scope, city, None)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page([(job, application) for job, application in rows], total, page, per_page)


def _open_jobs(scope: Scope, city: str | None, postcodes: list[str] | None) -> Select:
    stmt = (
        select(Job, Application)
        .where(scope.condition(Job), Job.status == "open")
        .join(Location, Location.id == Job.location_id)
        .join(Project, Project.id == Job.project_id)
        .outerjoin(
            Application,
            and_(Application.job_id == Job.id, scope.condition(Application)),
        )
        .options(contains_eager(Job.location), contains_eager(Job.project))
        .order_by(Location.city, Location.name, Job.id)
    )
    if city:
        stmt = stmt.where(Location.city == city)
    if postcodes is not None:
        stmt = stmt.where(Location.postcode.in_(postcodes))
    return stmt


def applications(session: Session, scope: Scope) -> list[Application]:
    return list(
        session.scalars(
            scope.rows(Application)
            .join(Job, Job.id == Application.job_id)
            .join(Location, Location.id == Job.location_id)
            .options(joinedload(Application.job).joinedload(Job.location))
            .order_by(Application.created_at.desc(), Application.id.desc())
        ).unique()
    )


def visible_job(session: Session, scope: Scope, job_id: int) -> Job | None:
    return session.scalar(scope.jobs().where(Job.id == job_id))


def visible_application(session: Session, scope: Scope, application_id: int) -> Application | None:
    return session.scalar(scope.rows(Application).where(Application.id == application_id))


def visible_booking(session: Session, scope: Scope, booking_id: int) -> Booking | None:
    return session.scalar(scope.bookings().where(Booking.id == booking_id))


def unavailabilities(session: Session, scope: Scope) -> list[Unavailability]:
    return list(
        session.scalars(
            scope.rows(Unavailability).order_by(Unavailability.start_date.desc(), Unavailability.id.desc())
        )
    )


def visible_unavailability(session: Session, scope: Scope, unavailability_id: int) -> Unavailability | None:
    return session.scalar(scope.rows(Unavailability).where(Unavailability.id == unavailability_id))


def confirmed_in(session: Session, scope: Scope, start: dt.date, end: dt.date) -> list[Booking]:
    """Confirmed bookings of scheduled appointments from ``start`` to ``end`` (the calendar)."""
    return list(
        session.scalars(
            confirmed(scope)
            .where(appointment_day.between(start, end))
            .order_by(Appointment.date, Appointment.start_time, Location.name)
        ).unique()
    )


def confirmed_between(session: Session, scope: Scope, start: dt.date, end: dt.date) -> int:
    """How many confirmed bookings fall into a period (a warning when marking it unavailable)."""
    stmt = confirmed(scope).where(appointment_day.between(start, end))
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


# ---------------------------------------------------------------- reports (campaign reporting)

#: Weekly reports are offered for this many weeks back (the current week included).
REPORT_WEEKS = 8
#: Submitted and approved reports per page.
REPORTS_PER_PAGE = 20


@dataclass
class DayReportRow:
    booking: Booking
    report: Report | None


@dataclass
class WeekReportRow:
    job: Job
    week_start: dt.date
    report: Report | None

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)


def _published(questionnaire_id) -> ColumnElement[bool]:
    return exists().where(
        QuestionnaireVersion.questionnaire_id == questionnaire_id,
        QuestionnaireVersion.published_at.is_not(None),
    )


def _started(now: dt.datetime) -> ColumnElement[bool]:
    today, clock = now.date(), now.time().replace(tzinfo=None)
    return or_(appointment_day < today, and_(appointment_day == today, Appointment.start_time <= clock))


def reportable_bookings(scope: Scope, now: dt.datetime) -> Select:
    """Confirmed bookings of appointments that have started and ask for a day report."""
    return confirmed(scope).where(_started(now), _published(day_questionnaire_column()))


def due_day_reports(session: Session, scope: Scope, now: dt.datetime) -> list[DayReportRow]:
    """Started appointments the promoter is booked on (confirmed) whose day report is still to
    write, a draft, or returned for correction; oldest first."""
    stmt = (
        reportable_bookings(scope, now)
        .outerjoin(Report, and_(Report.appointment_id == Appointment.id, scope.condition(Report)))
        .where(or_(Report.id.is_(None), Report.status.in_(("draft", "returned"))))
        .add_columns(Report)
        .order_by(Appointment.date, Appointment.start_time, Location.name)
    )
    return [DayReportRow(booking, report) for booking, report in session.execute(stmt).unique()]


def due_week_reports(session: Session, scope: Scope, today: dt.date) -> list[WeekReportRow]:
    """Jobs and weeks (begun, of the last ``REPORT_WEEKS``) in which the promoter had a confirmed
    appointment and the job asks for a weekly report not yet submitted."""
    monday = today - dt.timedelta(days=today.weekday())
    first = monday - dt.timedelta(weeks=REPORT_WEEKS - 1)
    week_questionnaire = func.coalesce(Job.week_questionnaire_id, Project.week_questionnaire_id)
    days = session.execute(
        select(Job.id, Appointment.date)
        .select_from(Booking)
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .where(
            scope.condition(Booking),
            Booking.status == "confirmed",
            appointment_state.in_(SCHEDULED_APPOINTMENTS),
            appointment_day.between(first, today),
            _published(week_questionnaire),
        )
        .distinct()
    )
    weeks = sorted({(job_id, day - dt.timedelta(days=day.weekday())) for job_id, day in days})
    if not weeks:
        return []
    job_ids = {job_id for job_id, _week in weeks}
    jobs = {
        job.id: job
        for job in session.scalars(
            _booked_jobs(scope)
            .where(Job.id.in_(job_ids))
            .options(joinedload(Job.location), joinedload(Job.project))
        ).unique()
    }
    reports = {
        (report.job_id, report.week_start): report
        for report in session.scalars(
            scope.reports().where(
                Report.kind == "week", Report.job_id.in_(job_ids), Report.week_start >= first
            )
        )
    }
    rows = []
    for job_id, week in weeks:
        report = reports.get((job_id, week))
        if job_id in jobs and (report is None or report.status in ("draft", "returned")):
            rows.append(WeekReportRow(jobs[job_id], week, report))
    return rows


def due_report_count(session: Session, scope: Scope, now: dt.datetime) -> int:
    """How many reports are due (the menu's badge)."""
    return len(due_day_reports(session, scope, now)) + len(due_week_reports(session, scope, now.date()))


def done_reports_page(session: Session, scope: Scope, page: int, per_page: int = REPORTS_PER_PAGE) -> Page:
    """Submitted and approved reports, latest first, one page."""
    stmt = scope.reports().where(Report.status.in_(("submitted", "approved")))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = list(
        session.scalars(
            stmt.options(
                joinedload(Report.appointment),
                joinedload(Report.job).options(joinedload(Job.location), joinedload(Job.project)),
            )
            .order_by(Report.submitted_at.desc(), Report.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).unique()
    )
    return Page(rows, total, page, per_page)


def report_links(
    session: Session, scope: Scope, now: dt.datetime, appointment_ids: list[int]
) -> dict[int, str]:
    """Of ``appointment_ids``: those the promoter can report on now → the report's state
    ("" when none has been started)."""
    if not appointment_ids:
        return {}
    stmt = (
        select(Appointment.id, Report.status)
        .select_from(Booking)
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .outerjoin(Report, and_(Report.appointment_id == Appointment.id, scope.condition(Report)))
        .where(
            scope.condition(Booking),
            Booking.status == "confirmed",
            appointment_state.in_(SCHEDULED_APPOINTMENTS),
            Appointment.id.in_(appointment_ids),
            _started(now),
            _published(day_questionnaire_column()),
        )
    )
    return {appointment_id: status or "" for appointment_id, status in session.execute(stmt)}


def _booked_jobs(scope: Scope) -> Select:
    """Jobs in which the scope's promoter has a booking (seen through their bookings)."""
    booked = (
        select(Appointment.job_id)
        .join(Booking, Booking.appointment_id == Appointment.id)
        .where(scope.condition(Booking))
    )
    return select(Job).where(Job.id.in_(booked))


def booked_job(session: Session, scope: Scope, job_id: int) -> Job | None:
    return session.scalar(_booked_jobs(scope).where(Job.id == job_id))


def visible_report(session: Session, scope: Scope, report_id: int) -> Report | None:
    return session.scalar(scope.reports().where(Report.id == report_id))


def visible_appointment(session: Session, scope: Scope, appointment_id: int) -> Appointment | None:
    return session.scalar(scope.appointments().where(Appointment.id == appointment_id))
