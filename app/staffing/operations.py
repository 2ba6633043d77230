"""The only code that changes staffing states: applications, booking requests,
confirmations, declines and the cancellation of an appointment's bookings.

Confirmations of one promoter are serialised by first writing to the
promoter's row (a row lock on PostgreSQL, the write lock on SQLite), so two
overlapping requests confirmed at the same moment cannot both succeed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.common.links import agency_url, promoter_url
from app.common.models import utcnow
from app.models.planning import Application, Appointment, Booking, Job
from app.models.promoter import Promoter
from app.outbox.enqueue import enqueue
from app.rules.calendar import ACTIVE_BOOKINGS
from app.rules.recipients import agency_language, agency_recipients
from app.staffing.rules import Conflict, booking_conflicts, overlapping_bookings


class StaffingError(ValueError):
    """A refused staffing step; the message is for the user."""


@dataclass
class RequestResult:
    created: list[Booking] = field(default_factory=list)
    refused: list[tuple[Appointment, Promoter, list[Conflict]]] = field(default_factory=list)
    already: int = 0


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


def cancel_bookings(session: Session, appointment: Appointment) -> list[Booking]:
    """Cancel the appointment's open bookings (its own cancellation is planning's); no commit.

    Returns the bookings cancelled, so that the caller can tell their promoters.
    """
    cancelled = []
    for booking in appointment.bookings:
        if booking.status in ACTIVE_BOOKINGS:
            booking.status = "cancelled"
            booking.updated_at = utcnow()
            cancelled.append(booking)
    return cancelled


# -- mail helpers -------------------------------------------------------------


def _mail_agency(session: Session, job: Job, kind: str, /, **context) -> None:
    # Positional-only: the mails themselves get a ``job`` too (application_withdrawn).
    for recipient in agency_recipients(session, job.project_id):
        enqueue(
            session,
            kind,
            recipient,
            agency_language(),
            link=agency_url("/bookingview/list/"),
            **context,
        )


# -- the agency's own steps (appended; used by the agency screens and the API) ----


def cancel_booking(session: Session, booking: Booking, user: User | None = None) -> Booking:
    """The agency takes one promoter off an appointment (requested or confirmed booking).

    The appointment stays as it is; the promoter is mailed in the same transaction.
    """
    if booking.status not in ACTIVE_BOOKINGS:
        raise StaffingError(_l("Only requested or confirmed bookings can be cancelled."))
    booking.status = "cancelled"
    booking.updated_at = utcnow()
    promoter = booking.promoter
    if promoter.email:
        enqueue(
            session,
            "booking_released",
            promoter.email,
            "de",
            promoter=promoter,
            booking=booking,
            link=promoter_url("/promoter/"),
        )
    session.commit()
    return booking


def close_job(session: Session, job: Job) -> Job:
    """No more applications for this job (``apply`` refuses them); its appointments and bookings stay."""
    if job.status == "closed":
        raise StaffingError(_l("This job is already closed."))
    job.status = "closed"
    session.commit()
    return job
