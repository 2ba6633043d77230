"""Agency screen: the planning board (project overview, a job's week, a store's month)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from babel.dates import get_day_names
from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import format_date, get_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.common.choices import APPOINTMENT_STATUSES, BOOKING_STATUSES, label
from app.common.formatting import current_language
from app.common.timezone import local_today
from app.extensions import db
from app.models.crm import Location
from app.models.planning import Job, Project
from app.planning import board
from app.rules.calendar import holiday_calendar, week_of
from app.staffing import request_view


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _date_arg(name: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


def _month_arg(default: dt.date) -> dt.date:
    """First day of ``?month=YYYY-MM`` (or of ``default``'s month)."""
    try:
        year, month = (int(part) for part in request.args.get("month", "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return default.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _labels() -> dict:
    return {
        "status_label": lambda code: label(APPOINTMENT_STATUSES, code),
        "booking_label": lambda code: label(BOOKING_STATUSES, code),
    }


def _holidays(states, first: dt.date, last: dt.date) -> dict[tuple[str, dt.date], str]:
    found = {}
    for state in {s for s in states if s}:
        for day, name in holiday_calendar(state, first, last, current_language()).items():
            if first <= day <= last:
                found[state, day] = name
    return found


class PlanningBoardView(BaseView):
    route_base = "/planning/board"
    default_view = "overview"

    @expose("/")
    @has_access
    def overview(self):
        """Project overview: stores × weeks, counts of booked / requested / open per cell."""
        today = local_today()
        projects = db.session.scalars(select(Project).order_by(Project.start_date.desc(), Project.name)).all()
        project_id = _int_arg("project")
        project = (
            db.session.get(Project, project_id) if project_id else board.default_project(db.session, today)
        )
        jobs, weeks, counts = [], [], {}
        row_totals, week_totals, total = {}, defaultdict(Counter), Counter()
        if project is not None:
            jobs = board.project_jobs(db.session, project.id)
            weeks = board.project_weeks(project)
            counts = board.overview_counts(db.session, project.id, weeks[0], weeks[-1] + dt.timedelta(days=6))
            for job in jobs:
                row_totals[job.id] = sum((counts.get((job.id, w), Counter()) for w in weeks), Counter())
                total += row_totals[job.id]
                for week in weeks:
                    week_totals[week] += counts.get((job.id, week), Counter())
        return self.render_template(
            "planning/board_overview.html",
            projects=projects,
            project=project,
            jobs=jobs,
            weeks=weeks,
            counts=counts,
            row_totals=row_totals,
            week_totals=week_totals,
            total=total,
            this_week=week_of(today)[0],
            states=board.STATES,
            **_labels(),
        )

    @expose("/week")
    @has_access
    def week(self):
        """One job's week: a row per day with its appointments and their staffing."""
        if _int_arg("job") is None:
            return redirect(url_for("PlanningBoardView.overview"))
        job = self._job_or_404()
        monday = week_of(_date_arg("week", local_today()))[0]
        sunday = monday + dt.timedelta(days=6)
        rows = board.appointments_with_state(db.session, monday, sunday, job_id=job.id)
        by_day = defaultdict(list)
        for appointment, state in rows:
            by_day[appointment.date].append((appointment, state))
        holidays = _holidays([job.location.federal_state], monday, sunday)
        days = [
            (day, holidays.get((job.location.federal_state, day)), by_day.get(day, []))
            for day in (monday + dt.timedelta(days=n) for n in range(7))
        ]
        counted = Counter(state for a, state in rows if a.status in board.BOARD_STATES)
        to_request = [a.id for a, state in rows if a.status == "planned" and state != "booked"]
        return self.render_template(
            "planning/board_week.html",
            job=job,
            monday=monday,
            sunday=sunday,
            days=days,
            counted=counted,
            to_request=",".join(map(str, to_request)),
            prev_week=monday - dt.timedelta(weeks=1),
            next_week=monday + dt.timedelta(weeks=1),
            states=board.STATES,
            **_labels(),
        )

    @expose("/month")
    @has_access
    def month(self):
        """A job's (or a store's) month as a calendar, one cell per day."""
        job, store = None, None
        if _int_arg("store") is not None:
            store = db.session.get(Location, _int_arg("store"))
            if store is None:
                abort(404)
        elif _int_arg("job") is None:
            return redirect(url_for("PlanningBoardView.overview"))
        else:
            job = self._job_or_404()
            store = job.location
        first = _month_arg(local_today())
        last = _add_months(first, 1) - dt.timedelta(days=1)
        grid_start, grid_end = week_of(first)[0], week_of(last)[1]
        rows = board.appointments_with_state(
            db.session,
            grid_start,
            grid_end,
            job_id=job.id if job else None,
            location_id=None if job else store.id,
        )
        by_day = defaultdict(list)
        for appointment, state in rows:
            by_day[appointment.date].append((appointment, state))
        holidays = _holidays([store.federal_state], grid_start, grid_end)
        weeks = []
        day = grid_start
        while day <= grid_end:
            weeks.append(
                [
                    (d, holidays.get((store.federal_state, d)), by_day.get(d, []))
                    for d in (day + dt.timedelta(days=n) for n in range(7))
                ]
            )
            day += dt.timedelta(weeks=1)
        in_month = [(a, s) for a, s in rows if first <= a.date <= last and a.status in board.BOARD_STATES]
        to_request = [a.id for a, state in in_month if a.status == "planned" and state != "booked"]
        return self.render_template(
            "planning/board_month.html",
            job=job,
            store=store,
            first=first,
            month_title=format_date(first, "LLLL yyyy"),
            weekday_names=get_day_names("abbreviated", locale=str(get_locale())),
            weeks=weeks,
            counted=Counter(state for _a, state in in_month),
            to_request=",".join(map(str, to_request[: request_view.MAX_APPOINTMENTS])),
            prev_month=_add_months(first, -1),
            next_month=_add_months(first, 1),
            store_jobs=db.session.scalars(
                select(Job).where(Job.location_id == store.id).options(joinedload(Job.project))
            ).all(),
            states=board.STATES,
            **_labels(),
        )

    def _job_or_404(self) -> Job:
        job_id = _int_arg("job")
        job = db.session.get(Job, job_id) if job_id else None
        if job is None:
            abort(404)
        return job
