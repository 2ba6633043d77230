"""The promoter's private iCalendar feed (Kalender-Abo) of their confirmed appointments;
appointments cancelled later stay in it as cancelled events.

The feed is reached without login, by the secret in its URL
(``Promoter.feed_token``); a new link replaces the old one, revoking sets the
token to None. The events come from the promoter's visibility scope
(:mod:`app.security.visibility`), never from a query of its own.

The document is built by :mod:`app.common.ical` (times, VTIMEZONE, UIDs and
SEQUENCE), the same builder as the customer feed's.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common import ical
from app.common.feed_link import TOKEN_ALPHABET, ical_domain
from app.models.planning import Appointment, Booking
from app.models.promoter import Promoter
from app.promoter import queries
from app.security.visibility import Scope, scope_for


#: Only tokens of this shape are looked up (secrets.token_urlsafe(32) gives 43 characters).
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


def uid_of(booking: Booking) -> str:
    return f"booking-{booking.id}@{ical_domain()}"


def _event(booking: Booking) -> ical.FeedEvent:
    appointment = booking.appointment
    job = appointment.job
    location = job.location
    withdrawn = booking.status != "confirmed" and appointment.status != "cancelled"
    cancelled = withdrawn or appointment.status == "cancelled"
    return ical.FeedEvent(
        uid=uid_of(booking),
        date=appointment.date,
        start=appointment.start_time,
        end=appointment.end_time,
        summary=_("Promotion at %(store)s", store=location.name),
        location=f"{location.name}, {ical.address(location)}",
        description=f"{job.title}\n{job.project.name}",
        status="CANCELLED" if cancelled else "CONFIRMED",
        sequence=appointment.version + (1 if withdrawn else 0),
        modified=max(booking.updated_at, appointment.updated_at),
    )


def calendar(session: Session, scope: Scope, promoter: Promoter) -> bytes:
    """The iCalendar document of the scope's confirmed appointments (and the cancelled ones)."""
    bookings = list(
        session.scalars(
            queries.feed_bookings(scope).order_by(Appointment.date, Appointment.start_time, Booking.id)
        ).unique()
    )
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        name = _("promoplan – appointments of %(name)s", name=promoter.full_name)
        events = [_event(b) for b in bookings]
    return ical.build(name, "Promoter calendar", current_app.config["TIMEZONE"], events)
