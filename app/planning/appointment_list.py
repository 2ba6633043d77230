"""The agency's appointment list as a planner uses it: upcoming appointments first,
quick filters for store, job, period and unstaffed (like the customer's list), and a
count that stops counting past the next few pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import BooleanField, Form, SelectField

from app.common.dates import LocalDateField
from app.lookups.remote_select import RemoteSelectField
from app.models.planning import Appointment, Job
from app.rules.periods import PERIOD_CHOICES, PERIODS, period_bounds
from app.staffing.rules import confirmed_booking_exists

#: The arguments of the quick filter form (all other arguments belong to FAB).
ARGUMENTS = ("store", "job", "period", "date_from", "date_to", "unstaffed")


class QuickFilterForm(Form):
    """The GET form above the list (no CSRF: it changes nothing)."""

    store = RemoteSelectField(_l("Store"), kind="location")
    job = RemoteSelectField(_l("Job"), kind="job")
    period = SelectField(_l("Period"), choices=PERIOD_CHOICES, default="upcoming")
    date_from = LocalDateField(_l("From"))
    date_to = LocalDateField(_l("To"))
    unstaffed = BooleanField(_l("Unstaffed only (planned, no confirmed promoter)"))


@dataclass
class QuickFilter:
    store_id: int | None = None
    job_id: int | None = None
    period: str = "upcoming"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    unstaffed: bool = False

    def bounds(self, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The dates shown; From or To, when given, replace the period."""
        return period_bounds(self.period, self.date_from, self.date_to, today)

    def conditions(self, today: dt.date) -> tuple:
        where = []
        first, last = self.bounds(today)
        if first:
            where.append(Appointment.date >= first)
        if last:
            where.append(Appointment.date <= last)
        if self.store_id is not None:
            where.append(Appointment.job_id.in_(select(Job.id).where(Job.location_id == self.store_id)))
        if self.job_id is not None:
            where.append(Appointment.job_id == self.job_id)
        if self.unstaffed:
            status = Appointment.status
            if self.store_id is not None or self.job_id is not None:
                # The (job_id, date) index is the narrow one here; a plain status condition
                # makes SQLite walk (status, date) through every store's planned appointments.
                status = func.coalesce(status, "")
            where.extend((status == "planned", ~confirmed_booking_exists()))
        return tuple(where)  # a tuple: FAB applies a list's items one by one


def read_quick_filter(args, date_filtered: bool) -> tuple[QuickFilterForm, QuickFilter]:
    """The form and the filter from the request's arguments.

    Without a period the list starts today, unless FAB's filter bar already filters by date
    (e.g. the cockpit's link to today's appointments). Broken input is shown in the form and
    otherwise ignored."""
    form = QuickFilterForm(args)
    form.validate()
    period = form.period.data if form.period.data in PERIODS and "period" in args else None
    if period is None:
        period = "all" if date_filtered else "upcoming"
        form.period.data = period
    flt = QuickFilter(
        store_id=form.store.data.id if form.store.data is not None else None,
        job_id=form.job.data.id if form.job.data is not None else None,
        period=period,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        unstaffed=bool(form.unstaffed.data),
    )
    return form, flt
