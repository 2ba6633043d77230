"""Read models of the customer system, all built on the visibility scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.common.timezone import local_today
from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job, Project
from app.models.promoter import Promoter
from app.rules.calendar import week_of
from app.security.visibility import Scope

#: Each order ends with the id: without a total order PostgreSQL may return rows of equal
#: keys in another order for each page, so that paging skips or repeats rows.
SORTS = {
    "date": (Appointment.date, Appointment.start_time, Location.name, Appointment.id),
    "-date": (Appointment.date.desc(), Appointment.start_time.desc(), Location.name, Appointment.id),
    "store": (Location.name, Appointment.date, Appointment.start_time, Appointment.id),
    "-store": (Location.name.desc(), Appointment.date, Appointment.start_time, Appointment.id),
    "status": (Appointment.status, Appointment.date, Appointment.start_time, Appointment.id),
    "-status": (Appointment.status.desc(), Appointment.date, Appointment.start_time, Appointment.id),
}
RANGES = ("today", "this_week", "next_week", "custom", "all")


@dataclass
class AppointmentFilter:
    store: int | None = None
    job: int | None = None
    status: str | None = None
    range: str = "this_week"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "date"

    def period(self, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The dates shown; a From or To date given wins over the chosen range."""
        if self.date_from or self.date_to or self.range == "custom":
            return self.date_from, self.date_to
        if self.range == "today":
            return today, today
        if self.range == "this_week":
            return week_of(today)
        if self.range == "next_week":
            return week_of(today + dt.timedelta(days=7))
        return None, None


@dataclass
class AppointmentRow:
    appointment: Appointment
    promoters: list[str] = field(default_factory=list)

    # what the list templates show (the start page's WeekRow has the same names)
    @property
    def id(self) -> int:
        return self.appointment.id

    @property
    def date(self) -> dt.date:
        return self.appointment.date

    @property
    def start_time(self) -> dt.time:
        return self.appointment.start_time

    @property
    def end_time(self) -> dt.time:
        return self.appointment.end_time

    @property
    def status(self) -> str:
        return self.appointment.status

    @property
    def store(self) -> str:
        return self.appointment.job.location.name

    @property
    def city(self) -> str:
        return self.appointment.job.location.city


@dataclass
class WeekRow:
    """A start-page row from plain columns (no ORM objects: hundreds per page)."""

    id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    status: str
    store: str
    city: str
    promoters: list[str] = field(default_factory=list)


@dataclass
class Page:
    rows: list[AppointmentRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _appointments(scope: Scope) -> Select:
    return (
        scope.appointments()
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        # the joins above serve the sorting and the display: no second join for loading
        .options(contains_eager(Appointment.job).contains_eager(Job.location))
    )


def _status(scope: Scope):
    """The status column for filtering. Once the visible jobs are known the query must go
    from them through ``appointment (job_id, date)``; without statistics (no ANALYZE)
    SQLite prefers the (status, date) index and reads every appointment of the period
    (11,000 a week at agency scale) — ``status || ''`` keeps it off that index."""
    return Appointment.status.concat("") if scope.visible_jobs is not None else Appointment.status


def feed_appointments(scope: Scope) -> Select:
    """The scope's appointments with job and store, for calendars and the feed."""
    return _appointments(scope)


def filtered_appointments(scope: Scope, flt: AppointmentFilter, today: dt.date | None = None) -> Select:
    today = today or local_today()
    stmt = _appointments(scope)
    start, end = flt.period(today)
    if start:
        stmt = stmt.where(Appointment.date >= start)
    if end:
        stmt = stmt.where(Appointment.date <= end)
    if flt.store:
        stmt = stmt.where(Job.location_id == flt.store)
    if flt.job:
        stmt = stmt.where(Appointment.job_id == flt.job)
    if flt.status:
        stmt = stmt.where(_status(scope) == flt.status)
    return stmt.order_by(*_sort(scope, flt.sort))


#: Up to this many visible jobs a list sorted by date reads the jobs' appointments and sorts
#: them (a few thousand rows), rather than walking the date index of every appointment.
FEW_JOBS = 500


def _sort(scope: Scope, sort: str) -> tuple:
    """The ORDER BY of a list. With few visible jobs the date is sorted as an expression, so
    that the planner cannot walk ``appointment (date, …)`` from the first date on and discard
    the other customers' rows (PostgreSQL: 120,000 rows for the first page of "all")."""
    order = SORTS.get(sort, SORTS["date"])
    if scope.visible_jobs is None or len(scope.visible_jobs) > FEW_JOBS or sort not in ("date", "-date"):
        return order
    day = func.coalesce(Appointment.date, Appointment.date)
    return (day.desc() if sort == "-date" else day, *order[1:])


def _promoter_names(session: Session, scope: Scope, ids: list[int]) -> dict[int, list[str]]:
    """The display names of the promoters the scope may see (confirmed only), per appointment."""
    names: dict[int, list[str]] = defaultdict(list)
    if ids:
        # plain columns, no ORM objects: a head of sales' week has hundreds of bookings
        bookings = session.execute(
            select(Booking.appointment_id, Promoter.first_name, Promoter.last_name)
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .where(scope.condition(Booking), Booking.appointment_id.in_(ids))
            .order_by(Booking.id)
        )
        for appointment_id, first_name, last_name in bookings:
            names[appointment_id].append(f"{first_name} {last_name[:1]}.")
    return names


def with_promoters(session: Session, scope: Scope, appointments: list[Appointment]) -> list[AppointmentRow]:
    """Attach the display names of the promoters the scope may see (confirmed only)."""
    names = _promoter_names(session, scope, [a.id for a in appointments])
    return [AppointmentRow(a, names.get(a.id, [])) for a in appointments]


def page_of(session: Session, scope: Scope, stmt: Select, page: int, per_page: int = 25) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(with_promoters(session, scope, rows), total, page, per_page)


def start_page(session: Session, scope: Scope, today: dt.date | None = None) -> dict:
    """Today's assignments and this week's appointments, with counts."""
    today = today or local_today()
    monday, sunday = week_of(today)
    columns = (
        Appointment.id,
        Appointment.date,
        Appointment.start_time,
        Appointment.end_time,
        Appointment.status,
        Location.name,
        Location.city,
    )
    week = session.execute(
        scope.appointments()
        .with_only_columns(*columns)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .where(Appointment.date.between(monday, sunday))
        .where(_status(scope).in_(("planned", "done", "proposed")))
        .order_by(Appointment.date, Appointment.start_time, Location.name)
    ).all()
    names = _promoter_names(session, scope, [row.id for row in week])
    week_rows = [WeekRow(*row, promoters=names.get(row.id, [])) for row in week]
    # Today's assignments are this week's visible rows of today (one query for both lists);
    # already sorted by time and store.
    today_rows = [row for row in week_rows if row.date == today and row.status in ("planned", "done")]
    return {
        "today": today,
        "monday": monday,
        "sunday": sunday,
        "today_rows": today_rows,
        "week_rows": week_rows,
        "store_count": session.scalar(select(func.count()).select_from(scope.locations().subquery())),
    }


def visible_stores(session: Session, scope: Scope) -> list[Location]:
    """The contact's stores with their territory (shown in the list) in the same statement."""
    stmt = scope.locations().options(joinedload(Location.territory)).order_by(Location.city, Location.name)
    return list(session.scalars(stmt))


def visible_jobs(session: Session, scope: Scope, project_id: int | None = None) -> list[Job]:
    stmt = (
        scope.jobs()
        .join(Location, Location.id == Job.location_id)
        .options(joinedload(Job.location), joinedload(Job.project))
        .order_by(Location.city, Location.name)
    )
    if project_id is not None:
        stmt = stmt.where(Job.project_id == project_id)
    return list(session.scalars(stmt).unique())


def visible_projects(session: Session, scope: Scope) -> list[Project]:
    return list(session.scalars(scope.projects().order_by(Project.start_date.desc())))


def visible_project(session: Session, scope: Scope, project_id: int) -> Project | None:
    return session.scalar(scope.projects().where(Project.id == project_id))
