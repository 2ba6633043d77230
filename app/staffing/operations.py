"""The only code that changes staffing states: applications, booking requests,
confirmations, declines, cancellation requests and the cancellation of an
appointment's bookings.

Confirmations of one promoter are serialised by first writing to the
promoter's row (a row lock on PostgreSQL, the write lock on SQLite), so two
overlapping requests confirmed at the same moment cannot both succeed; the
appointment's row is locked next, so two promoters cannot both confirm it.

Booking states (``app.common.choices.BOOKING_STATUSES``):

- ``requested`` → ``confirmed`` (the promoter confirms; the other promoters' open
  requests for the same appointment become ``withdrawn`` and they are mailed) or
  ``declined`` (the promoter declines; the agency is mailed);
- ``withdrawn``: another promoter confirmed first — not ``cancelled``, which says
  that the agency or the appointment's cancellation ended the booking;
- ``confirmed``: the promoter can no longer decline it alone; "decline" records a
  cancellation request (time, reason; the agency is mailed) and the booking stays
  confirmed until the agency grants it (→ ``cancelled``) or refuses it, the
  promoter being mailed either way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.common.choices import APPOINTMENT_STATUSES, label
from app.common.links import agency_url, promoter_url
from app.common.models import utcnow
from app.common.timezone import local_now
from app.models.planning import Application, Appointment, Booking, Job
from app.models.promoter import Promoter
from app.outbox.enqueue import enqueue
from app.rules.calendar import ACTIVE_BOOKINGS
from app.rules.recipients import agency_language, agency_recipients
from app.staffing.rules import Conflict, booking_conflicts, overlapping_bookings


class StaffingError(ValueError):
    """A refused staffing step; the message is for the user."""


#: The agency gets at most one mail per application (promoter and job) in this interval.
AGENCY_MAIL_INTERVAL = dt.timedelta(hours=1)


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
    """The promoter withdraws; the agency is mailed, at most once an hour per application
    (applying sends no mail: new applications wait on the Applications screen)."""
    if application.status not in ("applied", "accepted"):
        raise StaffingError(_l("This application cannot be withdrawn."))
    application.status = "withdrawn"
    if _claim_agency_mail(session, application):
        _mail_agency(
            session,
            application.job,
            "application_withdrawn",
            promoter=application.promoter,
            job=application.job,
        )
    session.commit()
    return application


def _claim_agency_mail(session: Session, application: Application) -> bool:
    """True if no mail about this application went to the agency in the last hour, and
    notes the time. One conditional UPDATE: of several web processes only one wins."""
    now = utcnow()
    claimed = session.execute(
        update(Application)
        .where(
            Application.id == application.id,
            or_(
                Application.agency_mailed_at.is_(None),
                Application.agency_mailed_at <= now - AGENCY_MAIL_INTERVAL,
            ),
        )
        .values(agency_mailed_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


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
        if any(b.status == "confirmed" for b in appointment.bookings):
            # Confirming it would be refused: the appointment is staffed (one promoter each).
            result.refused.append(
                (
                    appointment,
                    None,
                    [Conflict("state", str(_l("A promoter has already confirmed this appointment.")), True)],
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
                promoter.language,
                promoter=promoter,
                bookings=bookings,
                link=promoter_url("/promoter/"),
            )
    session.commit()
    return result


def _lock_promoter(session: Session, promoter_id: int) -> None:
    """Serialise this promoter's confirmations: the first statement is a write."""
    session.execute(update(Promoter).where(Promoter.id == promoter_id).values(active=Promoter.active))


def _lock_appointment(session: Session, appointment_id: int) -> None:
    """Serialise the confirmations of one appointment (PostgreSQL; SQLite's write lock is held)."""
    session.execute(select(Appointment.id).where(Appointment.id == appointment_id).with_for_update())


def confirmable(appointment: Appointment, now: dt.datetime | None = None) -> None:
    """Raise :class:`StaffingError` (the reason) if no request for the appointment may be confirmed:
    it is cancelled, not planned, or already over (``now``: local time)."""
    if appointment.status == "cancelled":
        raise StaffingError(_l("This appointment has been cancelled."))
    if appointment.status != "planned":
        raise StaffingError(
            _l(
                "This appointment cannot be confirmed in its state: %(state)s.",
                state=label(APPOINTMENT_STATUSES, appointment.status),
            )
        )
    if is_over(appointment, now):
        raise StaffingError(_l("This appointment is over."))


def is_over(appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """The appointment has ended (``now``: local time, by default the configured timezone's)."""
    now = now or local_now()
    return (appointment.date, appointment.end_time) <= (now.date(), now.time().replace(tzinfo=None))


def confirm(session: Session, booking_id: int, promoter_id: int) -> Booking:
    """The promoter confirms a requested booking; refused if the appointment is cancelled or over,
    taken by another promoter, or it would double-book them. The other promoters' open requests
    for the appointment are withdrawn and those promoters mailed."""
    session.rollback()  # start a fresh transaction whose first statement is the lock
    _lock_promoter(session, promoter_id)
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.promoter_id == promoter_id)
    )
    if booking is None:
        session.rollback()
        raise StaffingError(_l("This request does not exist."))
    _lock_appointment(session, booking.appointment_id)
    session.refresh(booking)
    appointment = booking.appointment
    session.refresh(appointment)
    try:
        if booking.status == "withdrawn":
            raise StaffingError(
                _l("Another promoter has confirmed this appointment; your request was withdrawn.")
            )
        confirmable(appointment)
        if booking.status != "requested":
            raise StaffingError(_l("This request is no longer open."))
        if any(b.status == "confirmed" for b in appointment.bookings if b.id != booking.id):
            raise StaffingError(_l("Another promoter has confirmed this appointment."))
    except StaffingError:
        session.rollback()
        raise
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
    for other in appointment.bookings:
        if other.id != booking.id and other.status == "requested":
            other.status = "withdrawn"
            other.updated_at = utcnow()
            _mail_promoter(session, other, "booking_withdrawn", link=promoter_url("/promoter/requests"))
    session.commit()
    return booking


def decline(session: Session, booking_id: int, promoter_id: int, reason: str | None = None) -> Booking:
    """The promoter declines a request (the agency is mailed the reason); on a confirmed booking
    this asks the agency to cancel it instead (:func:`request_cancellation`)."""
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.promoter_id == promoter_id)
    )
    if booking is None:
        raise StaffingError(_l("This request does not exist."))
    if booking.status == "confirmed":
        return request_cancellation(session, booking, reason)
    if booking.status == "withdrawn":
        raise StaffingError(
            _l("Another promoter has confirmed this appointment; your request was withdrawn.")
        )
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


def request_cancellation(session: Session, booking: Booking, reason: str | None) -> Booking:
    """The promoter asks the agency to cancel a confirmed booking; it stays confirmed until the
    agency answers (:func:`grant_cancellation`, :func:`refuse_cancellation`)."""
    reason = (reason or "").strip()
    if booking.status != "confirmed":
        raise StaffingError(_l("Only a confirmed booking can be cancelled."))
    if booking.cancel_pending:
        raise StaffingError(_l("You have already asked the agency to cancel this booking."))
    if not reason:
        raise StaffingError(_l("Please give the agency a reason."))
    appointment = booking.appointment
    if is_over(appointment):
        raise StaffingError(_l("This appointment is over."))
    booking.cancel_requested_at = utcnow()
    booking.cancel_reason = reason
    booking.cancel_answer = None
    booking.cancel_answered_at = None
    _mail_agency(
        session,
        appointment.job,
        "booking_cancel_requested",
        promoter=booking.promoter,
        appointment=appointment,
        reason=reason,
    )
    session.commit()
    return booking


def grant_cancellation(session: Session, booking: Booking) -> Booking:
    """The agency grants the promoter's cancellation request: the booking is cancelled."""
    if not booking.cancel_pending:
        raise StaffingError(_l("There is no open cancellation request for this booking."))
    booking.status = "cancelled"
    booking.cancel_answer = "granted"
    booking.cancel_answered_at = utcnow()
    booking.updated_at = utcnow()
    _mail_promoter(session, booking, "booking_cancel_granted", link=promoter_url("/promoter/schedule"))
    session.commit()
    return booking


def refuse_cancellation(session: Session, booking: Booking) -> Booking:
    """The agency refuses the promoter's cancellation request: the booking stays confirmed."""
    if not booking.cancel_pending:
        raise StaffingError(_l("There is no open cancellation request for this booking."))
    booking.cancel_answer = "refused"
    booking.cancel_answered_at = utcnow()
    _mail_promoter(session, booking, "booking_cancel_refused", link=promoter_url("/promoter/schedule"))
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


def _mail_promoter(session: Session, booking: Booking, kind: str, /, **context) -> None:
    """A mail about ``booking`` to its promoter, in the promoter's language (none without address)."""
    promoter = booking.promoter
    if promoter.email:
        enqueue(
            session,
            kind,
            promoter.email,
            promoter.language,
            promoter=promoter,
            booking=booking,
            appointment=booking.appointment,
            **context,
        )


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
            promoter.language,
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
