"""Names instead of record numbers in the summaries of bookings, applications and reports.

The recorder writes those summaries with record numbers ("promoter 30 @ appointment 2594");
the audit trail reads the names when it shows them, for a whole page in a fixed number of
statements (at most three, whatever the page holds). Names read now follow the records: an
anonymised promoter reads "anonymised" in every entry, and no name is copied into the trail.
Entries recorded before this reading existed resolve the same way (their text holds the ids).
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

Key = tuple[str, int]


def _parsed(summary: str | None) -> tuple[str, int, str] | None:
    match = _SUMMARY.fullmatch(summary or "")
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


def _store(name: str | None, city: str | None) -> str:
    name, city = name or "", city or ""
    return name if not city or city.lower() in name.lower() else f"{name} {city}".strip()


def _resolve(summaries: Iterable[str | None]) -> dict[Key, str | None]:
    """(entity, id) -> the summary in words, or None where the records are gone."""
    from app.models.crm import Location
    from app.models.planning import Appointment, Job
    from app.models.promoter import Promoter
    from app.models.reporting import Report

    wanted: dict[Key, tuple] = {}
    reports: set[int] = set()
    for summary in summaries:
        parsed = _parsed(summary)
        if parsed is None:
            continue
        entity, pk, rest = parsed
        if entity == "report":
            reports.add(pk)
        else:
            match = (_BOOKING if entity == "booking" else _APPLICATION).fullmatch(rest)
            wanted[(entity, pk)] = (int(match.group(1)), int(match.group(2))) if match else None
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
    appointment_ids = {ids[1] for (entity, _pk), ids in wanted.items() if ids and entity == "booking"}
    appointment_ids |= {r.appointment_id for r in report_rows.values() if r.appointment_id}
    job_ids = {ids[1] for (entity, _pk), ids in wanted.items() if ids and entity == "application"}
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
    for (entity, pk), ids in wanted.items():
        target = (appointments if entity == "booking" else jobs).get(ids[1]) if ids else None
        name = names.get(ids[0]) if ids else None
        resolved[(entity, pk)] = f"{name} · {target}" if name and target else None
    for pk in reports:
        row = report_rows.get(pk)
        name = names.get(row.promoter_id) if row else None
        if row is None or not name:
            resolved[("report", pk)] = None
        elif row.kind == "week":
            week = _("Week of %(day)s", day=format_day(row.week_start))
            resolved[("report", pk)] = f"{name} · {_('Weekly report')} {jobs.get(row.job_id, '')}, {week}"
        else:
            where = appointments.get(row.appointment_id, "")
            resolved[("report", pk)] = f"{name} · {_('Day report')} {where}".strip()
    return resolved


def remember(summaries: Iterable[str | None]) -> None:
    """Resolve the summaries of one page at once (before it is rendered)."""
    known = g.setdefault("audit_names", {})
    known.update(_resolve(s for s in summaries if (p := _parsed(s)) and p[:2] not in known))


def in_words(summary: str | None) -> str | None:
    """The summary of a booking, application or report in words, or None (not one of them, or
    its records are gone)."""
    parsed = _parsed(summary)
    if parsed is None:
        return None
    key = parsed[:2]
    known = g.setdefault("audit_names", {})
    if key not in known:
        remember([summary])
    return known.get(key)
