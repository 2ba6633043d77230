"""The promoter's private iCalendar feed (Kalender-Abo) of their confirmed appointments.

The feed is reached without login, by the secret in its URL
(``Promoter.feed_token``); a new link replaces the old one, revoking sets the
token to None. The events come from the promoter's visibility scope
(:mod:`app.security.visibility`), never from a query of its own.

Times: appointments are stored as local wall-clock times in the configured
TIMEZONE; the events carry them as timezone-aware DTSTART/DTEND with TZID and a
VTIMEZONE, so calendar apps show the right time in summer and in winter.
"""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.planning.models import Appointment, Booking
from app.promoter import queries
from app.promoter.models import Promoter
from app.security.visibility import Scope, scope_for

#: Only tokens of this shape are looked up (secrets.token_urlsafe(32) gives 43 characters).
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def scope_for_token(session: Session, token: str) -> tuple[Promoter, Scope] | None:
    """The promoter owning ``token`` and their scope; None for an unknown or revoked token,
    an inactive promoter or a promoter whose login may not use the promoter system."""
    if not token or len(token) > 64 or not set(token) <= TOKEN_ALPHABET:
        return None
    promoter = session.scalar(select(Promoter).where(Promoter.feed_token == token, Promoter.active.is_(True)))
    if promoter is None or promoter.user is None:
        return None
    scope = scope_for(promoter.user)
    if scope.kind != "promoter":
        return None
    return promoter, scope


def _address(location) -> str:
    return ", ".join(part for part in (location.street, f"{location.postcode} {location.city}") if part)


def uid_of(booking: Booking) -> str:
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "promoplan.local"
    return f"booking-{booking.id}@{domain}"


def calendar(session: Session, scope: Scope, promoter: Promoter) -> bytes:
    """The iCalendar document of the scope's confirmed appointments."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    bookings = list(
        session.scalars(
            queries.confirmed(scope).order_by(Appointment.date, Appointment.start_time, Booking.id)
        ).unique()
    )
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        name = _("promoplan – appointments of %(name)s", name=promoter.full_name)
        cal = Calendar()
        cal.add("prodid", "-//promoplan//Promoter calendar//DE")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", current_app.config["TIMEZONE"])
        for booking in bookings:
            appointment = booking.appointment
            job = appointment.job
            location = job.location
            event = Event()
            event.add("uid", uid_of(booking))
            event.add("dtstamp", _utc(booking.updated_at))
            event.add("last-modified", _utc(booking.updated_at))
            event.add("dtstart", dt.datetime.combine(appointment.date, appointment.start_time, tzinfo=zone))
            event.add("dtend", dt.datetime.combine(appointment.date, appointment.end_time, tzinfo=zone))
            event.add("summary", _("Promotion at %(store)s", store=location.name))
            event.add("location", f"{location.name}, {_address(location)}")
            event.add("description", f"{job.title}\n{job.project.name}")
            event.add("status", "CONFIRMED")
            event.add("transp", "OPAQUE")
            cal.add_component(event)
        if bookings:
            first = bookings[0].appointment.date
            last = max(b.appointment.date for b in bookings)
            cal.add_missing_timezones(
                first_date=dt.date(first.year, 1, 1), last_date=dt.date(last.year + 1, 1, 1)
            )
    return cal.to_ical()


def _utc(value: dt.datetime) -> dt.datetime:
    """Stored timestamps are naive UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
