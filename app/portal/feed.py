"""A customer contact's private iCalendar feed of the appointments they see.

Reached without login by the secret in its URL (``Contact.feed_token``); a new
link replaces the old one, revoking sets the token to None. The events are the
contact's visible appointments (:mod:`app.security.visibility`, territory
scoped) with the display names of confirmed promoters only — the same rows and
names as the customer system's lists — built by :mod:`app.common.ical`.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common import ical
from app.common.feed_link import TOKEN_ALPHABET, ical_domain
from app.common.timezone import local_today
from app.models.crm import Contact, Location
from app.models.planning import Appointment
from app.portal import queries
from app.security.visibility import Scope, scope_for

__all__ = ["calendar", "scope_for_token", "uid_of"]

#: How far back the feed reaches (older appointments only weigh the download).
FEED_PAST = dt.timedelta(days=90)


def scope_for_token(session: Session, token: str) -> tuple[Contact, Scope] | None:
    """The contact owning ``token`` and their scope; None for an unknown or revoked token or a
    contact whose login may not use the customer system (inactive, no customer role)."""
    if not token or len(token) > 64 or not set(token) <= TOKEN_ALPHABET:
        return None
    contact = session.scalar(select(Contact).where(Contact.feed_token == token))
    if contact is None or contact.user is None:
        return None
    scope = scope_for(contact.user)
    if scope.kind != "customer":
        return None
    return contact, scope


def uid_of(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@{ical_domain()}"


def _event(row: queries.AppointmentRow) -> ical.FeedEvent:
    appointment = row.appointment
    job = appointment.job
    location = job.location
    lines = [job.title, job.project.name]
    if row.promoters:
        lines.append(_("Promoters: %(names)s", names=", ".join(row.promoters)))
    return ical.FeedEvent(
        uid=uid_of(appointment),
        date=appointment.date,
        start=appointment.start_time,
        end=appointment.end_time,
        summary=_("Promotion at %(store)s", store=location.name),
        location=f"{location.name}, {ical.address(location)}",
        description="\n".join(lines),
        status=ical.EVENT_STATUS.get(appointment.status, "CONFIRMED"),
        sequence=appointment.version,
        modified=appointment.updated_at,
    )


def calendar(session: Session, scope: Scope, contact: Contact) -> bytes:
    """The iCalendar document of the contact's visible appointments from 90 days ago on."""
    stmt = (
        queries.feed_appointments(scope)
        .where(Appointment.date >= local_today() - FEED_PAST)
        .order_by(Appointment.date, Appointment.start_time, Location.name, Appointment.id)
    )
    rows = queries.with_promoters(session, scope, list(session.scalars(stmt).unique()))
    with force_locale(contact.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        name = _("promoplan – appointments of %(name)s", name=contact.full_name)
        events = [_event(row) for row in rows]
    return ical.build(name, "Customer calendar", current_app.config["TIMEZONE"], events)
