"""Month and week calendars rendered on the server (no script; readable on a phone).

A month is shown as whole weeks, Monday first; a week as its seven days. The
items (appointments or bookings) come from the caller's visibility-scoped query
for exactly the grid's first to last day; this module only places them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from babel.dates import format_date, get_day_names
from flask_babel import get_locale

VIEWS = ("month", "week")


@dataclass
class Day:
    date: dt.date
    in_month: bool
    is_today: bool
    items: list = field(default_factory=list)


@dataclass
class Grid:
    view: str
    anchor: dt.date
    first: dt.date
    last: dt.date
    today: dt.date
    weeks: list[list[Day]] = field(default_factory=list)

    @property
    def days(self) -> list[Day]:
        return [day for week in self.weeks for day in week]

    @property
    def previous(self) -> dt.date:
        if self.view == "week":
            return self.anchor - dt.timedelta(days=7)
        return (self.anchor.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> dt.date:
        if self.view == "week":
            return self.anchor + dt.timedelta(days=7)
        return (self.anchor.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    @property
    def title(self) -> str:
        """ "Dezember 2026" or "01.12.2026 – 07.12.2026" in the user's language."""
        locale = str(get_locale())
        if self.view == "month":
            return format_date(self.anchor, "LLLL yyyy", locale=locale)
        first = format_date(self.first, "medium", locale=locale)
        return f"{first} – {format_date(self.last, 'medium', locale=locale)}"

    @property
    def weekday_names(self) -> list[tuple[str, str]]:
        """(short, full) names Monday to Sunday in the user's language."""
        locale = str(get_locale())
        short = get_day_names("abbreviated", locale=locale)
        wide = get_day_names("wide", locale=locale)
        return [(short[i], wide[i]) for i in range(7)]

    def day_label(self, day: Day) -> str:
        """ "Dienstag, 1. Dezember 2026" / "Tuesday, December 1, 2026"."""
        return format_date(day.date, "full", locale=str(get_locale()))


def parse_anchor(value: str | None, today: dt.date) -> dt.date:
    """The date the calendar shows; today for a missing or unreadable value."""
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        return today
    return day if dt.date(1900, 1, 1) <= day <= dt.date(2999, 12, 31) else today


def period(view: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day shown: whole weeks around the month, or the anchor's week."""
    if view == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        return monday, monday + dt.timedelta(days=6)
    first_of_month = anchor.replace(day=1)
    next_month = (first_of_month + dt.timedelta(days=32)).replace(day=1)
    first = first_of_month - dt.timedelta(days=first_of_month.weekday())
    last_of_month = next_month - dt.timedelta(days=1)
    last = last_of_month + dt.timedelta(days=6 - last_of_month.weekday())
    return first, last


def build(view: str, anchor: dt.date, today: dt.date, items: Iterable, date_of: Callable) -> Grid:
    """The grid of ``view`` around ``anchor`` with ``items`` placed on their dates."""
    view = view if view in VIEWS else "month"
    first, last = period(view, anchor)
    by_date: dict[dt.date, list] = defaultdict(list)
    for item in items:
        by_date[date_of(item)].append(item)
    grid = Grid(view, anchor, first, last, today)
    day = first
    while day <= last:
        week = []
        for _ in range(7):
            in_month = view == "week" or day.month == anchor.month
            week.append(Day(day, in_month, day == today, by_date.get(day, [])))
            day += dt.timedelta(days=1)
        grid.weeks.append(week)
    return grid
