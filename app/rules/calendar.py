"""Calendar rules: week boundaries, planned days per week and public holidays.

Used by the proposal wizard, the agency's decision screen, staffing, the
generator, the planning board and the conflicts page, so that all of them
agree on when a week is "full" and which day is a holiday.
"""

from __future__ import annotations

import datetime as dt

import holidays
from flask_babel import get_locale
from sqlalchemy import Date, DateTime, cast, func, literal_column, select
from sqlalchemy.orm import Session

from app.models.planning import Appointment

#: Appointment states that occupy a day of a store's week.
ACTIVE_APPOINTMENTS = ("planned", "proposed", "done")
#: Booking states that hold a promoter's time.
ACTIVE_BOOKINGS = ("requested", "confirmed")


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the ISO week that contains ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _holiday_language(language: str | None) -> str:
    if language is None:
        language = str(get_locale() or "de")
    return "en_US" if language.startswith("en") else "de"


def holiday_calendar(federal_state: str, start: dt.date, end: dt.date, language: str | None = None):
    """The public holidays of a German federal state in the years of a period (date → name)."""
    return holidays.country_holidays(
        "DE",
        subdiv=federal_state,
        years=range(start.year, end.year + 1),
        language=_holiday_language(language),
    )


def holiday_name(federal_state: str | None, day: dt.date, language: str | None = None) -> str | None:
    """The holiday's name in the user's language (or ``language``), or None."""
    if not federal_state:
        return None
    return holiday_calendar(federal_state, day, day, language).get(day)


def exceeds_planned_days(days: int, planned: int | None) -> bool:
    """True if ``days`` distinct days in a week (counting the one in question) are more than agreed."""
    return bool(planned) and days > planned


def days_in_week(
    session: Session, job_id: int, day: dt.date, exclude_id: int | None = None, including_day: bool = False
) -> int:
    """Distinct days with an active appointment of the job in ``day``'s week.

    ``including_day`` counts ``day`` itself even if it has no appointment yet (for a
    new appointment on that day: "would the week then have too many days?").
    """
    monday, sunday = week_of(day)
    stmt = (
        select(Appointment.date)
        .distinct()
        .where(
            Appointment.job_id == job_id,
            Appointment.date.between(monday, sunday),
            Appointment.status.in_(ACTIVE_APPOINTMENTS),
        )
    )
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    days = set(session.scalars(stmt))
    if including_day:
        days.add(day)
    return len(days)


def same_day_appointments(session: Session, job_id: int, day: dt.date, exclude_id: int | None = None) -> int:
    """How many active appointments the job already has on ``day``."""
    stmt = select(func.count(Appointment.id)).where(
        Appointment.job_id == job_id, Appointment.date == day, Appointment.status.in_(ACTIVE_APPOINTMENTS)
    )
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    return session.scalar(stmt) or 0


def week_start(session: Session, column):
    """SQL for the Monday of the ISO week of a date column (SQLite and PostgreSQL)."""
    # Literals, not bound parameters: the same expression is selected and grouped by.
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc(literal_column("'week'"), cast(column, DateTime)), Date)
    # SQLite: forward to the week's Sunday (or stay on it), then back six days.
    return func.date(column, literal_column("'weekday 0'"), literal_column("'-6 days'"), type_=Date)


def as_date(value) -> dt.date:
    """A date from what a database returns for a date expression (date, datetime or text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value
