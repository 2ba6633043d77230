"""The customer's appointment export: the filtered list, all pages, streamed.

One SELECT: the list's query (``queries.filtered_appointments``, built on the visibility
scope) as plain columns, with the bookings the scope may see outer-joined in the list's
order; the lines of one appointment arrive together and are folded into one row.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

from sqlalchemy import and_
from sqlalchemy.orm import Session

from app.common.choices import APPOINTMENT_STATUSES, label
from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job
from app.models.promoter import Promoter
from app.portal import queries
from app.security.visibility import Scope
from app.transfer.exports import STREAM_BATCH, appointment_header


def customer_appointments(
    session: Session, scope: Scope, flt: queries.AppointmentFilter
) -> tuple[list[str], Iterator[list]]:
    """The customer's filtered appointment list, all pages: the visible rows and the
    display names of the promoters of the bookings the scope may see (as the list shows them)."""

    def rows():
        visible_booking = and_(
            Booking.appointment_id == Appointment.id, scope.booking_of_visible_appointment()
        )
        stmt = (
            queries.filtered_appointments(scope, flt)
            .with_only_columns(
                Appointment.id,
                Appointment.date,
                Appointment.start_time,
                Appointment.end_time,
                Job.title,
                Location.name,
                Location.city,
                Appointment.status,
                Promoter.first_name,
                Promoter.last_name,
            )
            .outerjoin(Booking, visible_booking)
            .outerjoin(Promoter, Promoter.id == Booking.promoter_id)
            .order_by(Appointment.id, Booking.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        statuses = {code: label(APPOINTMENT_STATUSES, code) for code in APPOINTMENT_STATUSES}
        for _id, lines in groupby(
            session.connection().execution_options(yield_per=STREAM_BATCH).execute(stmt), key=itemgetter(0)
        ):
            group = list(lines)  # one appointment's bookings: a few lines
            first = group[0]
            names = [f"{line[8]} {line[9][:1]}." for line in group if line[8] is not None]
            yield [*first[1:7], statuses.get(first[7], first[7]), ", ".join(names)]

    return appointment_header(False), rows()
