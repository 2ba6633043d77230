"""The customer's appointment export: the filtered list, all pages, in chunks."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from app.common.choices import APPOINTMENT_STATUSES, label
from app.portal import queries
from app.security.visibility import Scope
from app.transfer.exports import appointment_header

#: Appointments whose promoters are looked up together.
CHUNK = 500


def customer_appointments(
    session: Session, scope: Scope, flt: queries.AppointmentFilter
) -> tuple[list[str], Iterator[list]]:
    """The customer's filtered appointment list, all pages: the visible rows and the
    display names of the confirmed promoters (as the list shows them)."""

    def rows():
        items = list(session.scalars(queries.filtered_appointments(scope, flt)).unique())
        for chunk in _chunks(items):
            for row in queries.with_promoters(session, scope, chunk):
                a = row.appointment
                yield [
                    a.date,
                    a.start_time,
                    a.end_time,
                    a.job.title,
                    a.job.location.name,
                    a.job.location.city,
                    label(APPOINTMENT_STATUSES, a.status),
                    ", ".join(row.promoters),
                ]

    return appointment_header(False), rows()


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]
