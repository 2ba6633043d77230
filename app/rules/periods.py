"""The periods of the agency lists' quick filters ("from today", "this week", …)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from app.rules.calendar import week_of

#: The periods of the quick filters; "upcoming" (from today on) is the default.
PERIOD_CHOICES = [
    ("upcoming", _l("From today")),
    ("today", _l("Today")),
    ("this_week", _l("This week")),
    ("next_week", _l("Next week")),
    ("custom", _l("Custom")),
    ("all", _l("All dates")),
]
PERIODS = tuple(code for code, _label in PERIOD_CHOICES)


def period_bounds(
    period: str, date_from: dt.date | None, date_to: dt.date | None, today: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day shown (None: open); From or To, when given, replace the period."""
    if date_from or date_to or period == "custom":
        return date_from, date_to
    if period == "upcoming":
        return today, None
    if period == "today":
        return today, today
    if period == "this_week":
        return week_of(today)
    if period == "next_week":
        return week_of(today + dt.timedelta(days=7))
    return None, None
