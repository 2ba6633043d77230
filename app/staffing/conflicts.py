"""The conflict rules of :mod:`app.staffing.rules`, for many rows at once.

The request page checks every (appointment, promoter) pair of a batch and the
conflicts page every booking of the coming weeks; both use a fixed number of
queries here instead of one or two per row. The rules are the predicates of
:mod:`app.staffing.rules` (Python form for rows in memory, ``*_sql`` form in
queries), and its ``*_conflict`` helpers build the texts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import String, and_, case, cast, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from app.common.choices import FEDERAL_STATES
from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job
from app.models.promoter import Promoter, Unavailability
from app.rules.calendar import (
    ACTIVE_APPOINTMENTS,
    ACTIVE_BOOKINGS,
    as_date,
    exceeds_planned_days,
    holiday_calendar,
    week_of,
    week_start,
)
from app.staffing.rules import (
    Conflict,
    absence_covers,
    absence_covers_sql,
    duplicate_conflict,
    duplicates,
    duplicates_sql,
    exceeds_planned_days_sql,
    holiday_conflict,
    overlap_conflict,
    times_overlap,
    times_overlap_sql,
    unavailable_conflict,
    week_full_conflict,
)

# -- the request page: pairs and appointments of one batch ----------------------------


def pair_conflicts(
    session: Session, appointments: list[Appointment], promoter_ids
) -> dict[tuple[int, int], list[Conflict]]:
    """(appointment id, promoter id) -> conflicts, as ``staffing.booking_conflicts`` finds them."""
    promoter_ids = list(set(promoter_ids))
    found: dict[tuple[int, int], list[Conflict]] = defaultdict(list)
    if not appointments or not promoter_ids:
        return found
    dates = {a.date for a in appointments}
    first, last = min(dates), max(dates)
    absences = session.scalars(
        select(Unavailability)
        .where(
            Unavailability.promoter_id.in_(promoter_ids),
            Unavailability.start_date <= last,
            Unavailability.end_date >= first,
        )
        .order_by(Unavailability.id)
    ).all()
    other = aliased(Appointment)
    bookings = (
        session.scalars(
            select(Booking)
            .join(other, other.id == Booking.appointment_id)
            .where(
                Booking.promoter_id.in_(promoter_ids),
                Booking.status.in_(ACTIVE_BOOKINGS),
                other.date.in_(dates),
                other.status.in_(ACTIVE_APPOINTMENTS),
            )
            .options(joinedload(Booking.appointment).joinedload(Appointment.job).joinedload(Job.location))
        )
        .unique()
        .all()
    )
    busy: dict[tuple[int, dt.date], list[Booking]] = defaultdict(list)
    for booking in bookings:
        busy[booking.promoter_id, booking.appointment.date].append(booking)
    for appointment in appointments:
        for promoter_id in promoter_ids:
            key = (appointment.id, promoter_id)
            absent = next(
                (u for u in absences if u.promoter_id == promoter_id and absence_covers(u, appointment.date)),
                None,
            )
            if absent is not None:
                found[key].append(unavailable_conflict(absent))
            for booking in busy[promoter_id, appointment.date]:
                theirs = booking.appointment
                if theirs.id != appointment.id and times_overlap(theirs, appointment):
                    found[key].append(overlap_conflict(booking))
    return found


def appointment_warnings(
    session: Session, appointments: list[Appointment], language: str = "de"
) -> dict[int, list[Conflict]]:
    """Appointment id -> duplicate, holiday and week-full warnings, as
    ``staffing.appointment_conflicts``."""
    found: dict[int, list[Conflict]] = defaultdict(list)
    if not appointments:
        return found
    first = week_of(min(a.date for a in appointments))[0]
    last = week_of(max(a.date for a in appointments))[1]
    job_ids = {a.job_id for a in appointments}
    monday = week_start(session, Appointment.date)
    days = {
        (job_id, as_date(week)): count
        for job_id, week, count in session.execute(
            select(Appointment.job_id, monday, func.count(func.distinct(Appointment.date)))
            .where(
                Appointment.job_id.in_(job_ids),
                Appointment.date.between(first, last),
                Appointment.status.in_(ACTIVE_APPOINTMENTS),
            )
            .group_by(Appointment.job_id, monday)
        )
    }
    same_days = session.scalars(
        select(Appointment)
        .where(
            Appointment.job_id.in_(job_ids),
            Appointment.date.in_({a.date for a in appointments}),
            Appointment.status.in_(ACTIVE_APPOINTMENTS),
        )
        .order_by(Appointment.start_time, Appointment.id)
    ).all()
    calendars = {}
    for appointment in appointments:
        job = appointment.job
        if appointment.status in ACTIVE_APPOINTMENTS:
            found[appointment.id] += [
                duplicate_conflict(other) for other in same_days if duplicates(other, appointment)
            ]
        state = job.location.federal_state
        if state and state not in calendars:
            calendars[state] = holiday_calendar(state, first, last, language)
        name = calendars[state].get(appointment.date) if state else None
        if name:
            found[appointment.id].append(holiday_conflict(state, name))
        count = days.get((job.id, week_of(appointment.date)[0]), 0)
        if exceeds_planned_days(count, job.planned_days_per_week):
            found[appointment.id].append(week_full_conflict(count, job.planned_days_per_week))
    return found


# -- the conflicts page: everything of the coming weeks -------------------------------


@dataclass
class FoundConflict:
    """One conflict of the conflicts page: what, where, and why."""

    kind: str
    day: dt.date
    conflict: Conflict
    appointment: Appointment | None = None
    promoter: Promoter | None = None
    other: Appointment | None = None
    job: Job | None = None


def _project_jobs(project_id: int):
    return select(Job.id).where(Job.project_id == project_id)


def _active_appointment_filter(start: dt.date, end: dt.date, project_id: int | None, table=Appointment):
    criteria = [table.date.between(start, end), table.status.in_(ACTIVE_APPOINTMENTS)]
    if project_id:
        criteria.append(table.job_id.in_(_project_jobs(project_id)))
    return criteria


#: Up to this many (job, day)s with several appointments are named in the duplicates' query.
CROWDED_DAYS = 500


class Found(list):
    """The conflicts of one kind, perhaps only the first ``limit`` of them; ``total`` counts all."""

    def __init__(self, items=(), total: int | None = None):
        super().__init__(items)
        self.total = len(self) if total is None else total


def booking_conflicts(
    session: Session, start: dt.date, end: dt.date, project_id: int | None = None, limit: int | None = None
) -> dict[str, Found]:
    """Overlapping bookings of one promoter ("overlap": pairs on one day whose times overlap)
    and bookings on a day their promoter is unavailable ("unavailable"), requested or
    confirmed, between ``start`` and ``end``: the first ``limit`` of each (None: all), with
    ``.total`` counting all.

    The period's active bookings (a CTE, gone through once) are joined with themselves on
    (promoter, date) — only a promoter's bookings of the same day are compared — and with the
    absences; both kinds' ids, places and counts come from one statement (window functions),
    then the shown rows are loaded.
    """
    active = (
        select(
            Booking.id.label("booking_id"),
            Booking.promoter_id,
            Appointment.job_id,
            Appointment.date,
            Appointment.start_time,
            Appointment.end_time,
        )
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .where(*_active_appointment_filter(start, end, None), Booking.status.in_(ACTIVE_BOOKINGS))
        .cte("active_booking")
    )
    x1, x2, own = active.alias("x1"), active.alias("x2"), active.alias("own")
    overlaps = (
        select(
            literal("overlap").label("kind"),
            x1.c.booking_id.label("first"),
            x2.c.booking_id.label("second"),
            x1.c.date,
            x1.c.start_time,
        )
        .join(
            x2,
            and_(
                x2.c.promoter_id == x1.c.promoter_id,
                x2.c.date == x1.c.date,
                x2.c.booking_id > x1.c.booking_id,
            ),
        )
        .where(times_overlap_sql(x1.c, x2.c))
    )
    away = (
        select(literal("unavailable"), own.c.booking_id, Unavailability.id, own.c.date, own.c.start_time)
        .select_from(own)
        .join(
            Unavailability,
            (Unavailability.promoter_id == own.c.promoter_id)
            & absence_covers_sql(Unavailability, own.c.date),
        )
    )
    if project_id:
        jobs = _project_jobs(project_id)
        overlaps = overlaps.where(or_(x1.c.job_id.in_(jobs), x2.c.job_id.in_(jobs)))
        away = away.where(own.c.job_id.in_(jobs))
    both = union_all(overlaps, away).subquery("found")
    ranked = select(
        both.c.kind,
        both.c.first,
        both.c.second,
        func.count().over(partition_by=both.c.kind).label("total"),
        func.row_number()
        .over(
            partition_by=both.c.kind, order_by=(both.c.date, both.c.start_time, both.c.first, both.c.second)
        )
        .label("place"),
    ).subquery("ranked")
    stmt = select(ranked.c.kind, ranked.c.first, ranked.c.second, ranked.c.total).order_by(
        ranked.c.kind, ranked.c.place
    )
    if limit is not None:
        stmt = stmt.where(ranked.c.place <= max(limit, 1))  # one row even for limit 0: the count
    shown: dict[str, list[tuple[int, int]]] = {"overlap": [], "unavailable": []}
    totals = dict.fromkeys(shown, 0)
    for kind, first, second, total in session.execute(stmt):
        totals[kind] = total
        if limit is None or len(shown[kind]) < limit:
            shown[kind].append((first, second))
    booking_ids = {i for pair in shown["overlap"] for i in pair} | {b for b, _ in shown["unavailable"]}
    bookings = (
        {
            b.id: b
            for b in session.scalars(
                select(Booking)
                .where(Booking.id.in_(booking_ids))
                .options(
                    joinedload(Booking.appointment).joinedload(Appointment.job).joinedload(Job.location),
                    joinedload(Booking.promoter),
                )
            )
        }
        if booking_ids
        else {}
    )
    absence_ids = {u for _, u in shown["unavailable"]}
    absences = (
        {u.id: u for u in session.scalars(select(Unavailability).where(Unavailability.id.in_(absence_ids)))}
        if absence_ids
        else {}
    )
    return {
        "overlap": Found(
            (
                FoundConflict(
                    "overlap",
                    bookings[first].appointment.date,
                    overlap_conflict(bookings[second]),
                    appointment=bookings[first].appointment,
                    promoter=bookings[first].promoter,
                    other=bookings[second].appointment,
                )
                for first, second in shown["overlap"]
            ),
            totals["overlap"],
        ),
        "unavailable": Found(
            (
                FoundConflict(
                    "unavailable",
                    bookings[booking_id].appointment.date,
                    unavailable_conflict(absences[absence_id]),
                    appointment=bookings[booking_id].appointment,
                    promoter=bookings[booking_id].promoter,
                )
                for booking_id, absence_id in shown["unavailable"]
            ),
            totals["unavailable"],
        ),
    }


def overlapping_pairs(
    session: Session, start: dt.date, end: dt.date, project_id: int | None = None, limit: int | None = None
) -> Found:
    """The overlapping bookings of :func:`booking_conflicts`."""
    return booking_conflicts(session, start, end, project_id, limit)["overlap"]


def bookings_on_unavailable_days(
    session: Session, start: dt.date, end: dt.date, project_id: int | None = None, limit: int | None = None
) -> Found:
    """The bookings on unavailable days of :func:`booking_conflicts`."""
    return booking_conflicts(session, start, end, project_id, limit)["unavailable"]


def _count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def _page(session: Session, stmt, limit: int | None) -> tuple[list, int]:
    """The rows of ``stmt`` (all, or the first ``limit``) and how many there are in all, in one
    statement: a window count on the rows, so the period is gone through once, not twice."""
    if limit is None:
        rows = session.execute(stmt).all()
        return rows, len(rows)
    page = session.execute(stmt.add_columns(func.count().over().label("total")).limit(max(limit, 1))).all()
    return [tuple(row)[:-1] for row in page[:limit]], (page[0].total if page else 0)


@dataclass
class JobDays:
    """What one pass over the period's active appointments (in whole weeks) grouped by job and
    day finds: the weeks in which a job has more days than agreed (job id, Monday, days), and
    the (job id, day)s of the period with more than one appointment (None: more than
    :data:`CROWDED_DAYS` of them)."""

    full_weeks: list[tuple[int, dt.date, int]]
    crowded: list[tuple[int, dt.date]] | None


def job_days(session: Session, start: dt.date, end: dt.date, project_id: int | None = None) -> JobDays:
    """The full weeks and crowded days between ``start`` and ``end`` in one statement.

    Grouped by (job, day), then by (job, week): only weeks that are full or hold a crowded
    day come back, with their crowded days as one text (usually a handful of rows).
    """
    first, last = week_of(start)[0], week_of(end)[1]
    per_day = (
        select(Appointment.job_id, Appointment.date, func.count().label("appointments"))
        .where(*_active_appointment_filter(first, last, project_id))
        .group_by(Appointment.job_id, Appointment.date)
        .subquery()
    )
    monday = week_start(session, per_day.c.date)
    days = func.count()
    crowded_days = func.aggregate_strings(
        case((per_day.c.appointments > 1, cast(per_day.c.date, String))), literal(",")
    )
    rows = session.execute(
        select(per_day.c.job_id, monday, days, Job.planned_days_per_week, crowded_days)
        .join(Job, Job.id == per_day.c.job_id)
        .group_by(per_day.c.job_id, monday, Job.planned_days_per_week)
        .having(
            or_(
                exceeds_planned_days_sql(days, Job.planned_days_per_week),
                func.max(per_day.c.appointments) > 1,
            )
        )
    ).all()
    full, crowded = [], []
    for job_id, week, count, planned, dates in rows:
        if exceeds_planned_days(count, planned):
            full.append((job_id, as_date(week), count))
        days_of_week = map(as_date, dates.split(",")) if dates else ()
        crowded += [(job_id, day) for day in days_of_week if start <= day <= end]
    return JobDays(full, crowded if len(crowded) <= CROWDED_DAYS else None)


def full_weeks(
    session: Session,
    start: dt.date,
    end: dt.date,
    project_id: int | None = None,
    grouped: JobDays | None = None,
) -> list[FoundConflict]:
    """Weeks in which a job has more active days than agreed (from :func:`job_days`)."""
    grouped = grouped or job_days(session, start, end, project_id)
    weeks = grouped.full_weeks
    if not weeks:
        return []
    jobs = {
        job.id: job
        for job in session.scalars(
            select(Job).where(Job.id.in_({r[0] for r in weeks})).options(joinedload(Job.location))
        )
    }
    found = [
        FoundConflict(
            "week_full",
            week,
            week_full_conflict(count, jobs[job_id].planned_days_per_week),
            job=jobs[job_id],
        )
        for job_id, week, count in weeks
    ]
    return sorted(found, key=lambda f: (f.day, f.job.title))


def holiday_appointments(
    session: Session,
    start: dt.date,
    end: dt.date,
    project_id: int | None = None,
    language: str = "de",
    limit: int | None = None,
) -> Found:
    """Active appointments on a public holiday of their store's federal state (the first
    ``limit``; ``.total`` counts all)."""
    calendars = {state: holiday_calendar(state, start, end, language) for state in FEDERAL_STATES}
    by_state = {
        state: [day for day in calendar if start <= day <= end] for state, calendar in calendars.items()
    }
    criteria = [
        (Location.federal_state == state) & Appointment.date.in_(days)
        for state, days in by_state.items()
        if days
    ]
    if not criteria:
        return Found()
    # the holidays' days named on their own too, so the date index finds the few days' rows
    # instead of every appointment of the period being checked against each state's days
    holidays = sorted({day for days in by_state.values() for day in days})
    stmt = (
        select(Appointment)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .where(
            *_active_appointment_filter(start, end, project_id),
            Appointment.date.in_(holidays),
            or_(*criteria),
        )
        .order_by(Appointment.date, Appointment.start_time, Appointment.id)
        .options(contains_eager(Appointment.job).contains_eager(Job.location))
    )
    rows, total = _page(session, stmt, limit)
    return Found(
        (
            FoundConflict(
                "holiday",
                a.date,
                holiday_conflict(
                    a.job.location.federal_state, calendars[a.job.location.federal_state][a.date]
                ),
                appointment=a,
            )
            for (a,) in rows
        ),
        total,
    )


def duplicate_appointments(
    session: Session,
    start: dt.date,
    end: dt.date,
    project_id: int | None = None,
    limit: int | None = None,
    grouped: JobDays | None = None,
) -> Found:
    """Two active appointments of one job overlapping on one day, each pair once (the first
    ``limit``; ``.total`` counts all)."""
    a1, a2 = aliased(Appointment), aliased(Appointment)
    # Only the (job, day)s with more than one active appointment can hold a pair: they come
    # from the grouping the full weeks need as well (usually there are none, and nothing else
    # runs), then the pairs of those days only — instead of an index probe per appointment of
    # the period (4 weeks at 1,000,000 appointments: 1.2 s → 0.2 s on SQLite).
    grouped = grouped or job_days(session, start, end, project_id)
    crowded = grouped.crowded
    if crowded == []:
        return Found()
    base = (
        select(a1.id, a2.id.label("other_id"))
        .join(a2, duplicates_sql(a1, a2))
        .where(*_active_appointment_filter(start, end, project_id, a1), a2.status.in_(ACTIVE_APPOINTMENTS))
    )
    if crowded is not None:
        base = base.where(tuple_(a1.job_id, a1.date).in_(crowded))
    total = _count(session, base) if limit is not None else None
    stmt = (
        base.with_only_columns(a1, a2)
        .order_by(a1.date, a1.start_time, a1.id, a2.id)
        .options(
            joinedload(a1.job).joinedload(Job.location),
            joinedload(a2.job).joinedload(Job.location),
        )
    )
    rows = session.execute(stmt if limit is None else stmt.limit(limit)).all()
    return Found(
        (
            FoundConflict(
                "duplicate", first.date, duplicate_conflict(second), appointment=first, other=second
            )
            for first, second in rows
        ),
        total,
    )


def current_conflicts(
    session: Session,
    start: dt.date,
    end: dt.date,
    project_id: int | None = None,
    language: str = "de",
    limit: int | None = None,
) -> dict[str, list[FoundConflict]]:
    """Every conflict between ``start`` and ``end``, by kind: of each kind the first ``limit``
    (None: all), with ``.total`` counting all (full weeks are few: always all)."""
    grouped = job_days(session, start, end, project_id)
    return {
        **booking_conflicts(session, start, end, project_id, limit),
        "week_full": full_weeks(session, start, end, project_id, grouped),
        "holiday": holiday_appointments(session, start, end, project_id, language, limit),
        "duplicate": duplicate_appointments(session, start, end, project_id, limit, grouped),
    }


def conflict_count(session: Session, start: dt.date, end: dt.date, language: str = "de") -> int:
    """How many conflicts lie between ``start`` and ``end`` (the cockpit's badge): the
    overlapping pairs are only counted, not loaded."""
    found = current_conflicts(session, start, end, None, language, limit=0)
    return sum(getattr(rows, "total", len(rows)) for rows in found.values())
