"""Bulk appointments from a weekly pattern.

``plan_dates`` is pure: the dates of a period that fall on the chosen weekdays,
optionally without the public holidays of a federal state. ``preview`` adds what
the database knows (appointments already there, the store's week getting full),
and ``generate_appointments`` writes the planned appointments of that preview.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.changes.operations import appointments_planned
from app.models.planning import Appointment, Job
from app.rules.calendar import ACTIVE_APPOINTMENTS, holiday_calendar, week_of
from app.staffing.rules import Conflict, holiday_conflict, week_full_conflict

#: Monday = 0 … Sunday = 6, as ``date.weekday()``.
WEEKDAYS = tuple(range(7))
#: The longest period one run may cover (a campaign is about half a year).
MAX_DAYS = 366


class GeneratorError(ValueError):
    """Input that cannot become appointments; the message is for the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def plan_dates(
    start: dt.date,
    end: dt.date,
    weekdays,
    federal_state: str | None = None,
    skip_holidays: bool = False,
    language: str = "de",
) -> tuple[list[dt.date], list[tuple[dt.date, str]]]:
    """The dates from ``start`` to ``end`` (inclusive) on ``weekdays`` (0 = Monday).

    With ``skip_holidays`` and a ``federal_state``, public holidays of that state
    are left out and returned as ``(date, name)`` (names in ``language``).
    """
    wanted = {int(day) for day in weekdays}
    calendar = (
        holiday_calendar(federal_state, start, end, language) if skip_holidays and federal_state else {}
    )
    dates: list[dt.date] = []
    skipped: list[tuple[dt.date, str]] = []
    day = start
    while day <= end:
        if day.weekday() in wanted:
            name = calendar.get(day) if calendar else None
            if name:
                skipped.append((day, name))
            else:
                dates.append(day)
        day += dt.timedelta(days=1)
    return dates, skipped


@dataclass
class Plan:
    """What a run would do (the preview) or did (after ``generate_appointments``)."""

    job: Job
    start_time: dt.time
    end_time: dt.time
    dates: list[dt.date] = field(default_factory=list)  # to create
    existing: list[dt.date] = field(default_factory=list)  # an overlapping appointment is there
    skipped_holidays: list[tuple[dt.date, str]] = field(default_factory=list)
    warnings: list[tuple[dt.date, Conflict]] = field(default_factory=list)
    created: list[Appointment] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return len(self.created)

    @property
    def skipped_count(self) -> int:
        return len(self.existing) + len(self.skipped_holidays)


def validate(
    job: Job | None,
    start: dt.date | None,
    end: dt.date | None,
    weekdays,
    start_time: dt.time | None,
    end_time: dt.time | None,
) -> None:
    """Raise :class:`GeneratorError` (with the field) for input that cannot be planned."""
    if job is None:
        raise GeneratorError(_l("Please choose a job."), "job")
    if job.status == "closed":
        raise GeneratorError(_l("This job is closed: open it again to plan more appointments."), "job")
    if start is None or end is None:
        raise GeneratorError(_l("Please enter the first and the last day."), "start")
    if end < start:
        raise GeneratorError(_l("The last day must not lie before the first day."), "end")
    if (end - start).days >= MAX_DAYS:
        raise GeneratorError(_l("At most one year at a time, please."), "end")
    project = job.project
    if start < project.start_date or end > project.end_date:
        raise GeneratorError(
            _l(
                "The days must lie within the project's period (%(start)s – %(end)s).",
                start=project.start_date.strftime("%d.%m.%Y"),
                end=project.end_date.strftime("%d.%m.%Y"),
            ),
            "start",
        )
    if not weekdays:
        raise GeneratorError(_l("Please choose at least one weekday."), "weekdays")
    if start_time is None or end_time is None:
        raise GeneratorError(_l("Please enter a start and an end time."), "start_time")
    if end_time <= start_time:
        raise GeneratorError(_l("The end must be after the start."), "end_time")


def _existing_dates(
    session: Session, job: Job, start: dt.date, end: dt.date, start_time: dt.time, end_time: dt.time
) -> set[dt.date]:
    """Days with an active appointment of the job whose time overlaps the new one's."""
    return set(
        session.scalars(
            select(Appointment.date).where(
                Appointment.job_id == job.id,
                Appointment.date.between(start, end),
                Appointment.status.in_(ACTIVE_APPOINTMENTS),
                Appointment.start_time < end_time,
                Appointment.end_time > start_time,
            )
        )
    )


def _week_warnings(session: Session, job: Job, new_dates: list[dt.date]) -> list[tuple[dt.date, Conflict]]:
    """One warning per week in which the job would have more days than agreed."""
    if not job.planned_days_per_week or not new_dates:
        return []
    first, last = week_of(min(new_dates))[0], week_of(max(new_dates))[1]
    occupied = set(
        session.scalars(
            select(Appointment.date)
            .where(
                Appointment.job_id == job.id,
                Appointment.date.between(first, last),
                Appointment.status.in_(ACTIVE_APPOINTMENTS),
            )
            .distinct()
        )
    )
    days = Counter(week_of(day)[0] for day in occupied | set(new_dates))
    new_weeks = sorted({week_of(day)[0] for day in new_dates})
    return [
        (monday, week_full_conflict(days[monday], job.planned_days_per_week))
        for monday in new_weeks
        if days[monday] > job.planned_days_per_week
    ]


def preview(
    session: Session,
    job: Job,
    start: dt.date,
    end: dt.date,
    weekdays,
    start_time: dt.time,
    end_time: dt.time,
    skip_holidays: bool = False,
    language: str = "de",
) -> Plan:
    """What ``generate_appointments`` would create, without writing anything."""
    validate(job, start, end, weekdays, start_time, end_time)
    state = job.location.federal_state
    dates, skipped = plan_dates(start, end, weekdays, state, skip_holidays, language)
    existing = _existing_dates(session, job, start, end, start_time, end_time)
    plan = Plan(job=job, start_time=start_time, end_time=end_time, skipped_holidays=skipped)
    plan.dates = [day for day in dates if day not in existing]
    plan.existing = [day for day in dates if day in existing]
    if not skip_holidays and state and plan.dates:
        calendar = holiday_calendar(state, start, end, language)
        plan.warnings += [
            (day, holiday_conflict(state, calendar[day])) for day in plan.dates if day in calendar
        ]
    plan.warnings += _week_warnings(session, job, plan.dates)
    plan.warnings.sort(key=lambda pair: pair[0])
    return plan


def generate_appointments(
    session: Session,
    job: Job,
    start: dt.date,
    end: dt.date,
    weekdays,
    start_time: dt.time,
    end_time: dt.time,
    skip_holidays: bool,
    user: User | None,
    language: str = "de",
) -> Plan:
    """Create the planned appointments of the pattern; return the plan with ``created``.

    The customer contacts who see the job are told (:mod:`app.changes`): one mail for the batch.

    Runs for the same job are serialised (the first statement writes the job's
    row), so a double click cannot create the same days twice.
    """
    validate(job, start, end, weekdays, start_time, end_time)
    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(status=Job.status)
        .execution_options(synchronize_session=False)
    )
    plan = preview(session, job, start, end, weekdays, start_time, end_time, skip_holidays, language)
    for day in plan.dates:
        appointment = Appointment(
            job=job,
            date=day,
            start_time=start_time,
            end_time=end_time,
            status="planned",
            origin="agency",
            created_by=user,
            updated_by=user,
        )
        session.add(appointment)
        plan.created.append(appointment)
    session.flush()
    appointments_planned(session, plan.created)
    session.commit()
    return plan
