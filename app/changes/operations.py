"""Telling people about a change of an appointment (called by the operations that change it).

Who hears of it:
- the promoters requested for or booked on it (for a cancellation: those whose booking was
  cancelled with it) — always at once, in their language, with a promoter-system link;
- the customer contacts who see it (:func:`app.security.visibility.contacts_seeing`), each
  as they chose (``Contact.change_mail``): at once, in the daily summary or in the weekly
  mail (:mod:`app.digests.compose`), in their language, with a customer-system link.

Every change is recorded (:class:`AppointmentChange`) with one :class:`ChangeNotice` per
contact; a notice is marked sent in the transaction that queues its mail, so nothing is
told twice and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.changes.models import AppointmentChange, ChangeNotice
from app.common.links import customer_url, promoter_url
from app.common.models import utcnow
from app.models.crm import Contact
from app.models.planning import Appointment, Booking
from app.outbox.enqueue import enqueue
from app.rules.calendar import ACTIVE_BOOKINGS
from app.security.visibility import contacts_seeing

ChangeKind = Literal["cancelled", "moved", "planned"]


@dataclass(frozen=True)
class Before:
    """The appointment's date and times before a move."""

    date: dt.date
    start_time: dt.time
    end_time: dt.time


def customer_link(change: AppointmentChange) -> str:
    """The customer system's list of the store on the changed day."""
    day = change.date.isoformat()
    location_id = change.appointment.job.location_id
    return customer_url(f"/portal/appointments?store={location_id}&date_from={day}&date_to={day}")


def _record(appointment: Appointment, kind: ChangeKind, before: Before | None) -> AppointmentChange:
    return AppointmentChange(
        appointment=appointment,
        kind=kind,
        date=appointment.date,
        start_time=appointment.start_time,
        end_time=appointment.end_time,
        before_date=before.date if before else None,
        before_start_time=before.start_time if before else None,
        before_end_time=before.end_time if before else None,
    )


def appointment_changed(
    session: Session,
    appointment: Appointment,
    kind: ChangeKind,
    before: Before | None = None,
    bookings: Iterable[Booking] | None = None,
) -> AppointmentChange:
    """Record the change and write the mails it causes into the outbox (no commit).

    ``bookings``: the promoters' bookings the change concerns; by default the appointment's
    open ones (requested or confirmed). A cancellation passes the bookings it cancelled.
    """
    change = _record(appointment, kind, before)
    session.add(change)
    session.flush()
    if bookings is None:
        bookings = [b for b in appointment.bookings if b.status in ACTIVE_BOOKINGS]
    _tell_promoters(session, change, bookings)
    _tell_contacts(session, appointment.job_id, [change])
    return change


def appointments_planned(session: Session, appointments: list[Appointment]) -> list[AppointmentChange]:
    """Many new appointments of one job at once (the generator): recorded one by one, but
    a contact who wants changes at once gets one mail listing them all (no commit)."""
    if not appointments:
        return []
    changes = [_record(appointment, "planned", None) for appointment in appointments]
    session.add_all(changes)
    session.flush()
    _tell_contacts(session, appointments[0].job_id, changes)
    return changes


def _tell_promoters(session: Session, change: AppointmentChange, bookings: Iterable[Booking]) -> None:
    for booking in bookings:
        promoter = booking.promoter
        if not promoter.email or not promoter.active:
            continue
        enqueue(
            session,
            "appointment_change",
            promoter.email,
            promoter.language,
            change=change,
            name=promoter.full_name,
            for_promoter=True,
            booking_cancelled=change.kind == "cancelled",
            link=promoter_url("/promoter/schedule"),
        )


def _tell_contacts(session: Session, job_id: int, changes: list[AppointmentChange]) -> None:
    """Notices for every contact who sees the job; mail now to those who want it at once."""
    contacts = session.scalars(contacts_seeing(job_id).where(Contact.email.is_not(None))).all()
    for contact in contacts:
        if contact.change_mail == "weekly" and contact.digest_opt_out:
            continue  # no weekly mail wanted: the contact chose to hear of changes nowhere
        notices = [ChangeNotice(change=change, contact=contact) for change in changes]
        session.add_all(notices)
        if contact.change_mail != "immediate":
            continue
        settings_link = customer_url("/portal/settings")
        if len(changes) == 1:
            message = enqueue(
                session,
                "appointment_change",
                contact.email,
                contact.language,
                change=changes[0],
                name=contact.full_name,
                for_promoter=False,
                booking_cancelled=False,
                link=customer_link(changes[0]),
                settings_link=settings_link,
            )
        else:
            message = enqueue(
                session,
                "change_summary",
                contact.email,
                contact.language,
                contact=contact,
                changes=changes,
                link=customer_url("/portal/appointments?range=all"),
                settings_link=settings_link,
            )
        session.flush()
        mark_sent(notices, message.id)


def pending_notices(session: Session, contact_id: int) -> list[ChangeNotice]:
    """The contact's changes not yet told, oldest first."""
    return list(
        session.scalars(
            select(ChangeNotice)
            .join(AppointmentChange, AppointmentChange.id == ChangeNotice.change_id)
            .where(ChangeNotice.contact_id == contact_id, ChangeNotice.sent_at.is_(None))
            .order_by(AppointmentChange.created_at, AppointmentChange.id)
        )
    )


def mark_sent(notices: Iterable[ChangeNotice], message_id: int | None) -> None:
    now = utcnow()
    for notice in notices:
        notice.sent_at = now
        notice.outbox_message_id = message_id
