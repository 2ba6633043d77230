"""Staffing conflict rules: one set of predicates, used one row at a time here and
for many rows at once by :mod:`app.staffing.conflicts` (the request and conflicts pages).

- ``overlap``: the promoter already has a requested or confirmed booking whose
  time overlaps on the same day (:func:`times_overlap`) — confirming is refused,
  requesting is refused when the other booking is confirmed;
- ``unavailable``: the promoter marked the day as unavailable
  (:func:`absence_covers`) — requesting and confirming are refused;
- ``week_full``: the store's planned days per week are exceeded
  (:func:`app.rules.calendar.exceeds_planned_days`) — a warning;
- ``holiday``: the day is a public holiday in the store's federal state — a warning;
- ``duplicate``: another active appointment of the same job overlaps on the same
  day (:func:`duplicates`), e.g. an accepted proposal repeating a planned one — a warning.

Each predicate has a Python form (for rows in memory) and an SQL form (``*_sql``,
for queries) that state the same rule; ``tests/test_staffing_edges.py`` compares
the single checks with the batch pages on random data.

Confirmations of one promoter are serialised by first writing to the
promoter's row (a row lock on PostgreSQL, the write lock on SQLite), so two
overlapping requests confirmed at the same moment cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job
from app.models.promoter import Unavailability
from app.rules.calendar import (
    ACTIVE_APPOINTMENTS,
    ACTIVE_BOOKINGS,
    days_in_week,
    exceeds_planned_days,
    holiday_name,
)

# -- the predicates -------------------------------------------------------------------


def times_overlap(a, b) -> bool:
    """Two appointments (anything with date, start_time, end_time) overlap: same day, and each
    starts before the other ends (10–12 and 12–14 do not overlap)."""
    return a.date == b.date and a.start_time < b.end_time and b.start_time < a.end_time


def times_overlap_sql(a, b):
    """:func:`times_overlap` in SQL; ``a`` and ``b`` are appointment aliases (or one of them a row)."""
    return and_(a.date == b.date, a.start_time < b.end_time, b.start_time < a.end_time)


def absence_covers(absence, day: dt.date) -> bool:
    """The unavailability period (first and last day included) covers ``day``."""
    return absence.start_date <= day <= absence.end_date


def absence_covers_sql(absence, day):
    """:func:`absence_covers` in SQL (``day`` a date column or value)."""
    return and_(absence.start_date <= day, absence.end_date >= day)


def duplicates(a, b) -> bool:
    """Two different appointments of the same job overlap (both must be active)."""
    return a.id != b.id and a.job_id == b.job_id and times_overlap(a, b)


def duplicates_sql(a, b):
    """:func:`duplicates` in SQL, each pair once (``a`` the older one)."""
    return and_(a.job_id == b.job_id, a.id < b.id, times_overlap_sql(a, b))


def exceeds_planned_days_sql(days, planned):
    """:func:`app.rules.calendar.exceeds_planned_days` in SQL: more distinct days than agreed
    (only where ``planned`` is set)."""
    return and_(planned.is_not(None), days > planned)


@dataclass(frozen=True)
class Conflict:
    kind: str  # overlap | unavailable | week_full | holiday | duplicate | state | applicant
    message: str
    blocking: bool

    def __str__(self) -> str:
        return self.message


# -- conflicts --------------------------------------------------------------


def overlapping_bookings(
    session: Session, promoter_id: int, appointment: Appointment, states=ACTIVE_BOOKINGS
) -> list[Booking]:
    """The promoter's other bookings whose time overlaps this appointment's."""
    other = aliased(Appointment)
    return list(
        session.scalars(
            select(Booking)
            .join(other, other.id == Booking.appointment_id)
            .where(
                Booking.promoter_id == promoter_id,
                Booking.status.in_(states),
                Booking.appointment_id != appointment.id,
                times_overlap_sql(other, appointment),
                other.status.in_(ACTIVE_APPOINTMENTS),
            )
            .options(joinedload(Booking.appointment).joinedload(Appointment.job).joinedload(Job.location))
        ).unique()
    )


def is_unavailable(session: Session, promoter_id: int, day: dt.date) -> Unavailability | None:
    return session.scalar(
        select(Unavailability)
        .where(Unavailability.promoter_id == promoter_id, absence_covers_sql(Unavailability, day))
        .order_by(Unavailability.id)
        .limit(1)
    )


def duplicate_appointments(session: Session, appointment: Appointment) -> list[Appointment]:
    """Other active appointments of the same job that overlap this one."""
    other = aliased(Appointment)
    return list(
        session.scalars(
            select(other)
            .where(
                other.job_id == appointment.job_id,
                other.id != appointment.id,
                other.status.in_(ACTIVE_APPOINTMENTS),
                times_overlap_sql(other, appointment),
            )
            .order_by(other.start_time, other.id)
        )
    )


def holiday_conflict(federal_state: str, name: str) -> Conflict:
    return Conflict(
        "holiday", str(_l("Public holiday in %(state)s: %(name)s", state=federal_state, name=name)), False
    )


def week_full_conflict(days: int, planned: int) -> Conflict:
    return Conflict(
        "week_full",
        str(_l("%(days)d days planned this week, %(planned)d agreed", days=days, planned=planned)),
        False,
    )


def duplicate_conflict(other: Appointment) -> Conflict:
    """``other`` is the overlapping appointment of the same job."""
    return Conflict(
        "duplicate",
        str(
            _l(
                "Another appointment of this store on the same day: %(start)s–%(end)s",
                start=other.start_time.strftime("%H:%M"),
                end=other.end_time.strftime("%H:%M"),
            )
        ),
        False,
    )


def unavailable_conflict(absent: Unavailability) -> Conflict:
    return Conflict("unavailable", str(_l("Unavailable on this day (%(period)s)", period=absent)), True)


def overlap_conflict(other: Booking, confirming: bool = False) -> Conflict:
    """``other`` is the promoter's overlapping booking (with its appointment, job and location)."""
    blocking = confirming or other.status == "confirmed"
    return Conflict(
        "overlap",
        str(
            _l(
                "Overlaps with %(state)s booking at %(store)s, %(start)s–%(end)s",
                state=_state_word(other.status),
                store=other.appointment.job.location.name,
                start=other.appointment.start_time.strftime("%H:%M"),
                end=other.appointment.end_time.strftime("%H:%M"),
            )
        ),
        blocking and other.status == "confirmed",
    )


def appointment_conflicts(session: Session, appointment: Appointment) -> list[Conflict]:
    """Warnings about the appointment itself: holiday, store's week full, duplicates."""
    found = []
    if appointment.status in ACTIVE_APPOINTMENTS:
        found += [duplicate_conflict(other) for other in duplicate_appointments(session, appointment)]
    job = appointment.job
    name = holiday_name(job.location.federal_state, appointment.date)
    if name:
        found.append(holiday_conflict(job.location.federal_state, name))
    if job.planned_days_per_week:
        days = days_in_week(session, job.id, appointment.date)
        if exceeds_planned_days(days, job.planned_days_per_week):
            found.append(week_full_conflict(days, job.planned_days_per_week))
    return found


def booking_conflicts(
    session: Session, promoter_id: int, appointment: Appointment, confirming: bool = False
) -> list[Conflict]:
    """Why this promoter should not (or cannot) work this appointment."""
    found = []
    absent = is_unavailable(session, promoter_id, appointment.date)
    if absent is not None:
        found.append(unavailable_conflict(absent))
    for other in overlapping_bookings(session, promoter_id, appointment):
        found.append(overlap_conflict(other, confirming))
    return found


def booking_conflicts_of(
    session: Session, bookings: list[Booking], confirming: bool = False
) -> dict[int, list[Conflict]]:
    """:func:`booking_conflicts` for many bookings at once, in two queries (booking id → conflicts).

    The bookings need their appointment loaded.
    """
    found: dict[int, list[Conflict]] = {b.id: [] for b in bookings}
    if not bookings:
        return found
    promoter_ids = {b.promoter_id for b in bookings}
    days = {b.appointment.date for b in bookings}
    absences = session.scalars(
        select(Unavailability)
        .where(
            Unavailability.promoter_id.in_(promoter_ids),
            Unavailability.start_date <= max(days),
            Unavailability.end_date >= min(days),
        )
        .order_by(Unavailability.id)
    ).all()
    candidates = session.scalars(
        select(Booking)
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .where(
            Booking.promoter_id.in_(promoter_ids),
            Booking.status.in_(ACTIVE_BOOKINGS),
            Appointment.date.in_(days),
            Appointment.status.in_(ACTIVE_APPOINTMENTS),
        )
        .options(
            contains_eager(Booking.appointment).contains_eager(Appointment.job).contains_eager(Job.location)
        )
        .order_by(Booking.id)
    ).all()
    for booking in bookings:
        appointment = booking.appointment
        absent = next(
            (
                a
                for a in absences
                if a.promoter_id == booking.promoter_id and absence_covers(a, appointment.date)
            ),
            None,
        )
        if absent is not None:
            found[booking.id].append(unavailable_conflict(absent))
        for candidate in candidates:
            theirs = candidate.appointment
            if (
                candidate.promoter_id == booking.promoter_id
                and theirs.id != appointment.id
                and times_overlap(theirs, appointment)
            ):
                found[booking.id].append(overlap_conflict(candidate, confirming))
    return found


def _state_word(status: str) -> str:
    return str({"requested": _l("a requested"), "confirmed": _l("a confirmed")}.get(status, status))


def confirmed_booking_exists():
    """SQL: the appointment (``Appointment``) has a confirmed promoter — "staffed"."""
    return (
        select(Booking.id)
        .where(Booking.appointment_id == Appointment.id, Booking.status == "confirmed")
        .exists()
    )


#: A request is "unanswered" after this long (the cockpit and the booking list's filter).
UNANSWERED_AFTER = dt.timedelta(hours=48)


def unanswered_request(now: dt.datetime) -> tuple:
    """A request the promoter has neither confirmed nor declined for ``UNANSWERED_AFTER``
    (the cockpit's count and the booking list's quick filter)."""
    return (Booking.status == "requested", Booking.created_at < now - UNANSWERED_AFTER)
