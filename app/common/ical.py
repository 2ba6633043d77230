"""One iCalendar builder for every calendar feed (promoter and customer).

Times: appointments are stored as local wall-clock times in the configured
TIMEZONE. Events carry them with a TZID and one VTIMEZONE in the standard
recurring form (a STANDARD and a DAYLIGHT part, each with an RRULE such as
"last Sunday of October"), derived from the zone's current rules; so it holds
for every date of the feed, and every client (Thunderbird's ical.js, Apple,
Google, Outlook) reads the same UTC instant as the app.

Changes: each event keeps its UID; SEQUENCE is the appointment's version (it
grows with every change of the appointment: date, time, status), plus one when
the booking itself was withdrawn; cancelled appointments stay in the feed with
STATUS:CANCELLED so subscribed calendars remove or strike them.
"""

from __future__ import annotations

import calendar as month_days
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

#: How appointment states read in a calendar.
EVENT_STATUS = {
    "planned": "CONFIRMED",
    "done": "CONFIRMED",
    "proposed": "TENTATIVE",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
}


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    date: dt.date
    start: dt.time
    end: dt.time
    summary: str
    location: str
    description: str
    status: str  # CONFIRMED | TENTATIVE | CANCELLED
    sequence: int
    modified: dt.datetime  # naive UTC, as stored


def _utc(value: dt.datetime) -> dt.datetime:
    """Stored timestamps are naive UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _transitions(
    zone: ZoneInfo, year: int
) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta, bool, str]]:
    """The zone's offset changes in ``year``: (local wall time before the change, offset
    before, offset after, daylight after, name after). Hourly steps suffice for whole-hour rules."""
    found = []
    moment = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    before = moment.astimezone(zone)
    while moment < end:
        moment += dt.timedelta(hours=1)
        after = moment.astimezone(zone)
        if after.utcoffset() != before.utcoffset():
            wall = (moment.replace(tzinfo=None) + before.utcoffset()).replace(minute=0)
            found.append(
                (wall, before.utcoffset(), after.utcoffset(), bool(after.dst()), after.tzname() or "")
            )
        before = after
    return found


def _yearly_rule(wall: dt.datetime) -> vRecur:
    """The RRULE of a change on "the n-th (or last) weekday of a month"."""
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[wall.weekday()]
    last_day = month_days.monthrange(wall.year, wall.month)[1]
    nth = -1 if wall.day + 7 > last_day else (wall.day - 1) // 7 + 1
    return vRecur({"FREQ": "YEARLY", "BYMONTH": wall.month, "BYDAY": f"{nth}{weekday}"})


def vtimezone(tzid: str, year: int | None = None) -> Timezone:
    """A standard VTIMEZONE for ``tzid`` (e.g. Europe/Berlin) from its current rules."""
    zone = ZoneInfo(tzid)
    year = year or dt.date.today().year
    tz = Timezone()
    tz.add("tzid", tzid)
    changes = _transitions(zone, year)
    if not changes:
        offset = dt.datetime(year, 1, 1, tzinfo=zone).utcoffset()
        part = TimezoneStandard()
        part.add("tzname", dt.datetime(year, 1, 1, tzinfo=zone).tzname())
        part.add("dtstart", dt.datetime(1970, 1, 1))
        part.add("tzoffsetfrom", offset)
        part.add("tzoffsetto", offset)
        tz.add_component(part)
        return tz
    for wall, before, after, daylight, name in changes:
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.add("tzname", name)
        rule = _yearly_rule(wall)
        # The first occurrence of the rule in 1970 (RFC 5545: DTSTART is the rule's first onset).
        first = dt.datetime(1970, wall.month, 1, wall.hour, wall.minute)
        while True:
            if _yearly_rule(first) == rule:
                break
            first += dt.timedelta(days=1)
        part.add("dtstart", first)
        part.add("rrule", rule)
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        tz.add_component(part)
    return tz


def build(name: str, product: str, tzid: str, events: Iterable[FeedEvent]) -> bytes:
    """The iCalendar document of ``events`` (local times in ``tzid``)."""
    zone = ZoneInfo(tzid)
    cal = Calendar()
    cal.add("prodid", f"-//promoplan//{product}//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tzid)
    cal.add_component(vtimezone(tzid))
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", _utc(item.modified))
        event.add("last-modified", _utc(item.modified))
        event.add("sequence", item.sequence)
        event.add("dtstart", dt.datetime.combine(item.date, item.start, tzinfo=zone))
        event.add("dtend", dt.datetime.combine(item.date, item.end, tzinfo=zone))
        event.add("summary", item.summary)
        event.add("location", item.location)
        event.add("description", item.description)
        event.add("status", item.status)
        event.add("transp", "TRANSPARENT" if item.status == "CANCELLED" else "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()


def address(location) -> str:
    """A store's address on one line."""
    return ", ".join(part for part in (location.street, f"{location.postcode} {location.city}") if part)
