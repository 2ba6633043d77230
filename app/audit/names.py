"""Names instead of record numbers in the summaries of bookings, applications and reports.

The recorder writes those summaries with record numbers ("promoter 30 @ appointment 2594");
the audit trail reads the names when it shows them, for a whole page in a fixed number of
statements (at most three, whatever the page holds). Names read now follow the records: an
anonymised promoter reads "anonymised" in every entry, and no name is copied into the trail.
Entries recorded before this reading existed resolve the same way (their text holds the ids).

An entry is named from the ids its own text holds, never from another entry of the same record
number: SQLite hands the number of a deleted row to the next one, so one number can stand for
several bookings over time. A report is named only while its row is still the one recorded
(same appointment, or same job and week); otherwise the entry keeps its recorded text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import g
from flask_babel import gettext as _
from sqlalchemy import Date, String, cast, literal, null, select, union_all

from app.common.formatting import format_day
from app.extensions import db

#: "booking 12: promoter 30 @ appointment 2594" — what app.audit.recorder.summary_of writes.
_SUMMARY = re.compile(r"(booking|application|report) (\d+): (.*)", re.DOTALL)
_BOOKING = re.compile(r"promoter (\d+) @ appointment (\d+)")
_APPLICATION = re.compile(r"promoter (\d+) @ job (\d+)")
_DAY_REPORT = re.compile(r"day report, appointment (\d+)")
_WEEK_REPORT = re.compile(r"weekly report, job (\d+), week (\S+)")

#: (entity, record number, the recorded text after "booking 12: ") — one summary.
Key = tuple[str, int, str]


def _parsed(summary: str | None) -> Key | None:
    match = _SUMMARY.fullmatch(summary or "")
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


def _store(name: str | None, city: str | None) -> str:
    name, city = name or "", city or ""
    return name if not city or city.lower() in name.lower() else f"{name} {city}".strip()


def _resolve(summaries: Iterable[str | None]) -> dict[Key, str | None]:
    """Each summary's key -> the summary in words, or None where the records are gone (or,
    for a report, are no longer the ones recorded)."""
    from app.models.crm import Location
    from app.models.planning import Appointment, Job
    from app.models.promoter import Promoter
    from app.models.reporting import Report

    wanted: dict[Key, tuple | None] = {}
    report_keys: list[Key] = []
    reports: set[int] = set()
    for summary in summaries:
        parsed = _parsed(summary)
        if parsed is None:
            continue
        entity, pk, rest = parsed
        if entity == "report":
            report_keys.append(parsed)
            reports.add(pk)
        else:
            match = (_BOOKING if entity == "booking" else _APPLICATION).fullmatch(rest)
            wanted[parsed] = (int(match.group(1)), int(match.group(2))) if match else None
    report_rows = {}
    if reports:
        report_rows = {
            row.id: row
            for row in db.session.execute(
                select(
                    Report.id,
                    Report.kind,
                    Report.promoter_id,
                    Report.appointment_id,
                    Report.job_id,
                    Report.week_start,
                ).where(Report.id.in_(reports))
            )
        }
    promoter_ids = {ids[0] for ids in wanted.values() if ids} | {r.promoter_id for r in report_rows.values()}
    appointment_ids = {ids[1] for (entity, *_), ids in wanted.items() if ids and entity == "booking"}
    appointment_ids |= {r.appointment_id for r in report_rows.values() if r.appointment_id}
    job_ids = {ids[1] for (entity, *_), ids in wanted.items() if ids and entity == "application"}
    job_ids |= {r.job_id for r in report_rows.values() if r.kind == "week"}

    names, appointments, jobs = {}, {}, {}
    if promoter_ids:
        names = {
            row.id: f"{row.first_name} {row.last_name}".strip()
            for row in db.session.execute(
                select(Promoter.id, Promoter.first_name, Promoter.last_name).where(
                    Promoter.id.in_(promoter_ids)
                )
            )
        }
    # The appointments (with their stores) and the jobs in one statement.
    places = []
    if appointment_ids:
        places.append(
            select(literal("a").label("kind"), Appointment.id, Appointment.date, Location.name, Location.city)
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .where(Appointment.id.in_(appointment_ids))
        )
    if job_ids:
        places.append(
            select(
                literal("j").label("kind"),
                Job.id,
                cast(null(), Date).label("date"),
                Job.title.label("name"),
                cast(null(), String).label("city"),
            ).where(Job.id.in_(job_ids))
        )
    if places:
        for row in db.session.execute(union_all(*places) if len(places) > 1 else places[0]):
            kind, pk, day, name, city = row
            if kind == "a":
                appointments[pk] = f"{format_day(day)} {_store(name, city)}".strip()
            else:
                jobs[pk] = name

    resolved: dict[Key, str | None] = {}
    for key, ids in wanted.items():
        target = (appointments if key[0] == "booking" else jobs).get(ids[1]) if ids else None
        name = names.get(ids[0]) if ids else None
        resolved[key] = f"{name} · {target}" if name and target else None
    for key in report_keys:
        row = report_rows.get(key[1])
        name = names.get(row.promoter_id) if row else None
        if row is None or not name or not _still_recorded(row, key[2]):
            resolved[key] = None
        elif row.kind == "week":
            week = _("Week of %(day)s", day=format_day(row.week_start))
            resolved[key] = f"{name} · {_('Weekly report')} {jobs.get(row.job_id, '')}, {week}"
        else:
            where = appointments.get(row.appointment_id, "")
            resolved[key] = f"{name} · {_('Day report')} {where}".strip()
    return resolved


def _still_recorded(row, text: str) -> bool:
    """The report row is the one the entry's text describes (not a later report that got
    the number of a deleted one)."""
    if row.kind == "week":
        match = _WEEK_REPORT.fullmatch(text)
        return bool(match) and (match.group(1), match.group(2)) == (str(row.job_id), str(row.week_start))
    match = _DAY_REPORT.fullmatch(text)
    return bool(match) and match.group(1) == str(row.appointment_id)


def remember(summaries: Iterable[str | None]) -> None:
    """Resolve the summaries of one page at once (before it is rendered)."""
    known = g.setdefault("audit_names", {})
    known.update(_resolve(s for s in summaries if (p := _parsed(s)) and p not in known))


def in_words(summary: str | None) -> str | None:
    """The summary of a booking, application or report in words, or None (not one of them, or
    its records are gone)."""
    parsed = _parsed(summary)
    if parsed is None:
        return None
    known = g.setdefault("audit_names", {})
    if parsed not in known:
        remember([summary])
    return known.get(parsed)
