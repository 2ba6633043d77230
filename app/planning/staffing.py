"""Staffing services: applications, requests, confirmations, conflicts.

Conflict rules (checked here, on the server, and shown where planners and
promoters work):

- ``overlap``: the promoter already has a requested or confirmed booking whose
  time overlaps on the same day — confirming is refused, requesting is refused
  when the other booking is confirmed;
- ``unavailable``: the promoter marked the day as unavailable — requesting and
  confirming are refused;
- ``week_full``: the store's planned days per week are exceeded — a warning;
- ``holiday``: the day is a public holiday in the store's federal state — a warning.

Confirmations of one promoter are serialised by first writing to the
promoter's row (a row lock on PostgreSQL, the write lock on SQLite), so two
overlapping requests confirmed at the same moment cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import holidays
from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.common.links import agency_url
from app.common.models import utcnow
from app.common.timezone import week_of
from app.crm.models import Location
from app.notify.outbox import enqueue
from app.planning.models import Application, Appointment, Booking, Job, project_manager
from app.promoter.models import Promoter, Unavailability

ACTIVE_BOOKINGS = ("requested", "confirmed")
ACTIVE_APPOINTMENTS = ("planned", "proposed", "done")


class StaffingError(ValueError):
    """A refused staffing step; the message is for the user."""


@dataclass(frozen=True)
class Conflict:
    kind: str  # overlap | unavailable | week_full | holiday
    message: str
    blocking: bool

    def __str__(self) -> str:
        return self.message


@dataclass
class RequestResult:
    created: list[Booking] = field(default_factory=list)
    refused: list[tuple[Appointment, Promoter, list[Conflict]]] = field(default_factory=list)
    already: int = 0


# -- conflicts --------------------------------------------------------------


def overlapping_bookings(
    session: Session, promoter_id: int, appointment: Appointment, states=ACTIVE_BOOKINGS
) -> list[Booking]:
    """The promoter's other bookings whose time overlaps this appointment's."""
    other = Appointment.__table__.alias("other")
    return list(
        session.scalars(
            select(Booking)
            .join(other, other.c.id == Booking.appointment_id)
            .where(
                Booking.promoter_id == promoter_id,
                Booking.status.in_(states),
                Booking.appointment_id != appointment.id,
                other.c.date == appointment.date,
                other.c.start_time < appointment.end_time,
                other.c.end_time > appointment.start_time,
                other.c.status.in_(ACTIVE_APPOINTMENTS),
            )
            .options(joinedload(Booking.appointment).joinedload(Appointment.job).joinedload(Job.location))
        ).unique()
    )


def is_unavailable(session: Session, promoter_id: int, day: dt.date) -> Unavailability | None:
    return session.scalar(
        select(Unavailability).where(
            Unavailability.promoter_id == promoter_id,
            Unavailability.start_date <= day,
            Unavailability.end_date >= day,
        )
    )


def holiday_name(federal_state: str, day: dt.date) -> str | None:
    language = "en_US" if str(get_locale()) == "en" else "de"
    return holidays.country_holidays("DE", subdiv=federal_state, years=day.year, language=language).get(day)


def days_in_week(session: Session, job_id: int, day: dt.date, exclude_id: int | None = None) -> int:
    monday, sunday = week_of(day)
    stmt = select(func.count(func.distinct(Appointment.date))).where(
        Appointment.job_id == job_id,
        Appointment.date.between(monday, sunday),
        Appointment.status.in_(ACTIVE_APPOINTMENTS),
    )
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    return session.scalar(stmt) or 0


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
    """Warnings about the appointment itself: holiday, store's week full."""
    found = []
    job = appointment.job
    name = holiday_name(job.location.federal_state, appointment.date)
    if name:
        found.append(holiday_conflict(job.location.federal_state, name))
    if job.planned_days_per_week:
        days = days_in_week(session, job.id, appointment.date)
        if days > job.planned_days_per_week:
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
                if a.promoter_id == booking.promoter_id and a.start_date <= appointment.date <= a.end_date
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
                and theirs.date == appointment.date
                and theirs.start_time < appointment.end_time
                and theirs.end_time > appointment.start_time
            ):
                found[booking.id].append(overlap_conflict(candidate, confirming))
    return found


def _state_word(status: str) -> str:
    return str({"requested": _l("a requested"), "confirmed": _l("a confirmed")}.get(status, status))


# -- applications -----------------------------------------------------------


def open_job(session: Session, job: Job) -> None:
    if job.status == "closed":
        raise StaffingError(_l("A closed job cannot be opened again."))
    job.status = "open"
    session.commit()


def decide_application(session: Session, application: Application, accept: bool) -> Application:
    if application.status == "withdrawn":
        raise StaffingError(_l("The promoter has withdrawn this application."))
    application.status = "accepted" if accept else "rejected"
    session.commit()
    return application


def apply(session: Session, promoter: Promoter, job: Job) -> Application:
    if job.status != "open":
        raise StaffingError(_l("This job is not open for applications."))
    application = session.scalar(
        select(Application).where(Application.promoter_id == promoter.id, Application.job_id == job.id)
    )
    if application is None:
        application = Application(promoter=promoter, job=job, status="applied")
        session.add(application)
    elif application.status == "withdrawn":
        application.status = "applied"
    else:
        raise StaffingError(_l("You have already applied for this job."))
    session.commit()
    return application


def withdraw(session: Session, application: Application) -> Application:
    if application.status not in ("applied", "accepted"):
        raise StaffingError(_l("This application cannot be withdrawn."))
    application.status = "withdrawn"
    _mail_agency(
        session,
        application.job,
        "application_withdrawn",
        promoter=application.promoter,
        job=application.job,
    )
    session.commit()
    return application


# -- bookings ---------------------------------------------------------------


def request_promoters(
    session: Session, appointments: list[Appointment], promoters: list[Promoter], user: User | None = None
) -> RequestResult:
    """Request each promoter for each appointment; one mail per promoter for the batch.

    Only accepted applicants of the appointment's job may be requested; a
    blocking conflict (unavailable, overlap with a confirmed booking) refuses
    that pair. Existing bookings are left as they are (a declined or cancelled
    one is requested again).
    """
    result = RequestResult()
    by_promoter: dict[int, list[Booking]] = defaultdict(list)
    for appointment in sorted(appointments, key=lambda a: (a.date, a.start_time)):
        if appointment.status not in ("planned",):
            result.refused.append(
                (
                    appointment,
                    None,
                    [Conflict("state", str(_l("Only planned appointments can be staffed.")), True)],
                )
            )
            continue
        for promoter in promoters:
            accepted = session.scalar(
                select(Application.id).where(
                    Application.promoter_id == promoter.id,
                    Application.job_id == appointment.job_id,
                    Application.status == "accepted",
                )
            )
            if accepted is None:
                result.refused.append(
                    (
                        appointment,
                        promoter,
                        [Conflict("applicant", str(_l("Not an accepted applicant of this job")), True)],
                    )
                )
                continue
            conflicts = [c for c in booking_conflicts(session, promoter.id, appointment) if c.blocking]
            if conflicts:
                result.refused.append((appointment, promoter, conflicts))
                continue
            booking = session.scalar(
                select(Booking).where(
                    Booking.appointment_id == appointment.id, Booking.promoter_id == promoter.id
                )
            )
            if booking is not None and booking.status in ACTIVE_BOOKINGS:
                result.already += 1
                continue
            if booking is None:
                booking = Booking(appointment=appointment, promoter=promoter, status="requested")
                session.add(booking)
            else:
                booking.status = "requested"
            result.created.append(booking)
            by_promoter[promoter.id].append(booking)
    session.flush()
    for bookings in by_promoter.values():
        promoter = bookings[0].promoter
        if promoter.email:
            enqueue(
                session,
                "booking_requests",
                promoter.email,
                "de",
                promoter=promoter,
                bookings=bookings,
                link=promoter_url("/promoter/"),
            )
    session.commit()
    return result


def _lock_promoter(session: Session, promoter_id: int) -> None:
    """Serialise this promoter's confirmations: the first statement is a write."""
    session.execute(update(Promoter).where(Promoter.id == promoter_id).values(active=Promoter.active))


def confirm(session: Session, booking_id: int, promoter_id: int) -> Booking:
    """The promoter confirms a requested booking; refused if it would double-book them."""
    session.rollback()  # start a fresh transaction whose first statement is the lock
    _lock_promoter(session, promoter_id)
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.promoter_id == promoter_id)
    )
    if booking is None:
        session.rollback()
        raise StaffingError(_l("This request does not exist."))
    if booking.status != "requested":
        session.rollback()
        raise StaffingError(_l("This request is no longer open."))
    appointment = booking.appointment
    clashes = [c for c in booking_conflicts(session, promoter_id, appointment, confirming=True) if c.blocking]
    confirmed_overlaps = overlapping_bookings(session, promoter_id, appointment, states=("confirmed",))
    if clashes or confirmed_overlaps:
        reasons = "; ".join(str(c) for c in clashes) or str(
            _l(
                "Overlaps with a confirmed booking at %(store)s",
                store=confirmed_overlaps[0].appointment.job.location.name,
            )
        )
        session.rollback()
        raise StaffingError(_l("Cannot confirm: %(reasons)s", reasons=reasons))
    booking.status = "confirmed"
    booking.updated_at = utcnow()
    session.commit()
    return booking


def decline(session: Session, booking_id: int, promoter_id: int, reason: str | None = None) -> Booking:
    """The promoter declines a request (or a confirmed booking); the agency is mailed the reason."""
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.promoter_id == promoter_id)
    )
    if booking is None:
        raise StaffingError(_l("This request does not exist."))
    if booking.status not in ACTIVE_BOOKINGS:
        raise StaffingError(_l("This request is no longer open."))
    booking.status = "declined"
    booking.decline_reason = (reason or "").strip() or None
    _mail_agency(
        session,
        booking.appointment.job,
        "booking_declined",
        promoter=booking.promoter,
        appointment=booking.appointment,
        reason=booking.decline_reason,
    )
    session.commit()
    return booking


def cancel_appointment(session: Session, appointment: Appointment, user: User | None = None) -> Appointment:
    """Cancel an appointment and its open bookings."""
    if appointment.status in ("cancelled", "done"):
        raise StaffingError(_l("This appointment cannot be cancelled any more."))
    appointment.status = "cancelled"
    appointment.updated_by = user
    for booking in appointment.bookings:
        if booking.status in ACTIVE_BOOKINGS:
            booking.status = "cancelled"
    session.commit()
    return appointment


# -- mail helpers -------------------------------------------------------------


def promoter_url(path: str) -> str:
    host = current_app.config.get("PROMOTER_HOST")
    if host:
        return f"{current_app.config['URL_SCHEME']}://{host}{path}"
    return current_app.config["BASE_URL"] + path


def _mail_agency(session: Session, job: Job, kind: str, /, **context) -> None:
    # Positional-only: the mails themselves get a ``job`` too (application_withdrawn).
    recipients = list(
        session.scalars(
            select(User.email)
            .join(project_manager, and_(project_manager.c.user_id == User.id))
            .where(
                project_manager.c.project_id == job.project_id, User.active.is_(True), User.email.is_not(None)
            )
        )
    )
    fallback = current_app.config.get("AGENCY_NOTIFY_EMAIL")
    for recipient in recipients or ([fallback] if fallback else []):
        enqueue(
            session,
            kind,
            recipient,
            current_app.config["BABEL_DEFAULT_LOCALE"],
            link=agency_url("/bookingview/list/"),
            **context,
        )
