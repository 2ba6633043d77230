"""Quick filters above the agency's booking and application lists: promoter, store or job
chosen by searching (remote selects), a period, and "cancellation requested" — what a
planner asks of 900,000 bookings, without a dropdown of every row.

The conditions are SQL on the listed table, applied through FAB's filter machinery
(:class:`app.common.quick_filters.QuickFilterSet`)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from wtforms import BooleanField, Form, SelectField

from app.common.dates import LocalDateField
from app.common.models import utcnow
from app.lookups.remote_select import RemoteSelectField
from app.models.planning import Application, Appointment, Booking, Job
from app.rules.periods import PERIOD_CHOICES, PERIODS, period_bounds
from app.staffing.rules import unanswered_request


class BookingFilterForm(Form):
    """The GET form above the booking list (no CSRF: it changes nothing)."""

    promoter = RemoteSelectField(_l("Promoter"), kind="promoter")
    store = RemoteSelectField(_l("Store"), kind="location")
    period = SelectField(_l("Period"), choices=PERIOD_CHOICES, default="upcoming")
    date_from = LocalDateField(_l("From"))
    date_to = LocalDateField(_l("To"))
    cancel_pending = BooleanField(_l("Only cancellation requests awaiting an answer"))
    unanswered = BooleanField(_l("Only requests unanswered for more than 48 hours"))

    #: the arguments of this form (the others belong to FAB's filter bar and pager)
    arguments = ("promoter", "store", "period", "date_from", "date_to", "cancel_pending", "unanswered")


class ApplicationFilterForm(Form):
    promoter = RemoteSelectField(_l("Promoter"), kind="promoter")
    job = RemoteSelectField(_l("Job"), kind="job")

    arguments = ("promoter", "job")


def _chosen(field) -> int | None:
    return field.data.id if field.data is not None else None


def booking_conditions(
    args, today: dt.date, now: dt.datetime | None = None
) -> tuple[BookingFilterForm, tuple]:
    """The form (with its messages) and the SQL conditions on Booking. Without a period the
    list shows the bookings of appointments from today on; broken input is shown and ignored.
    "Unanswered" are the requests the cockpit counts (with the default period: from today on)."""
    form = BookingFilterForm(args)
    form.validate()
    if "period" not in args or form.period.data not in PERIODS:
        form.period.data = "upcoming"
    first, last = period_bounds(
        form.period.data,
        form.date_from.data if not form.date_from.errors else None,
        form.date_to.data if not form.date_to.errors else None,
        today,
    )
    where = []
    promoter_id, store_id = _chosen(form.promoter), _chosen(form.store)
    if promoter_id is not None:
        where.append(Booking.promoter_id == promoter_id)
    appointment = [Appointment.id == Booking.appointment_id]
    if first:
        appointment.append(Appointment.date >= first)
    if last:
        appointment.append(Appointment.date <= last)
    if store_id is not None:
        appointment.append(Appointment.job_id.in_(select(Job.id).where(Job.location_id == store_id)))
    if len(appointment) > 1:
        where.append(exists(select(Appointment.id).where(*appointment)))
    if form.cancel_pending.data:
        where.extend(
            (
                Booking.status == "confirmed",
                Booking.cancel_requested_at.is_not(None),
                Booking.cancel_answer.is_(None),
            )
        )
    if form.unanswered.data:
        where.extend(unanswered_request(now or utcnow()))
    return form, tuple(where)


def application_conditions(args) -> tuple[ApplicationFilterForm, tuple]:
    form = ApplicationFilterForm(args)
    form.validate()
    where = []
    promoter_id, job_id = _chosen(form.promoter), _chosen(form.job)
    if promoter_id is not None:
        where.append(Application.promoter_id == promoter_id)
    if job_id is not None:
        where.append(Application.job_id == job_id)
    return form, tuple(where)
