"""Generic writes of bookings and applications (the agency's CRUD screens) routed
through the staffing operations, or refused with the path to take.

- adding a booking is :func:`operations.request_promoters` (its conflict checks, its mail);
- adding an application is :func:`operations.apply` (only open jobs);
- neither is edited in a form: their states change through the actions (accept, reject,
  cancel booking) and the promoter system (confirm, decline, withdraw);
- an open booking or a pending or accepted application is not deleted.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.models import discard_unsaved
from app.common.refusals import StateChangeRefused
from app.models.planning import Application, Booking
from app.rules.calendar import ACTIVE_BOOKINGS
from app.staffing import operations


def request_from(session: Session, item: Booking, user: User | None) -> Booking:
    """Request the promoter of an unsaved ``item`` (a filled add form) for its appointment."""
    if item.status not in (None, "requested"):
        raise StateChangeRefused(
            _l("A new booking is a request; the promoter confirms or declines it in the promoter system."),
            field="status",
        )
    appointment, promoter = item.appointment, item.promoter
    discard_unsaved(session, item, "appointment", "promoter")
    existing = session.scalar(
        select(Booking.status).where(
            Booking.appointment_id == appointment.id, Booking.promoter_id == promoter.id
        )
    )
    if existing in ACTIVE_BOOKINGS:
        raise StateChangeRefused(_l("This promoter is already on this appointment."), field="promoter")
    result = operations.request_promoters(session, [appointment], [promoter], user)
    if result.refused:
        reasons = "; ".join(str(c) for _a, _p, conflicts in result.refused for c in conflicts)
        raise StateChangeRefused(
            _l("The request was refused: %(reasons)s", reasons=reasons), field="promoter"
        )
    return result.created[0]


def check_booking_delete(item: Booking) -> None:
    if item.status in ACTIVE_BOOKINGS:
        raise StateChangeRefused(
            _l(
                'An open booking is not deleted; cancel it (action "Cancel booking"), '
                "so that the promoter is told."
            )
        )


def apply_from(session: Session, item: Application) -> Application:
    """Enter the application of an unsaved ``item`` (a filled add form) as the promoter's own."""
    if item.status not in (None, "applied"):
        raise StateChangeRefused(
            _l('A new application is "applied"; accept or reject it with the actions.'), field="status"
        )
    promoter, job = item.promoter, item.job
    discard_unsaved(session, item, "promoter", "job")
    existing = session.scalar(
        select(Application.status).where(Application.promoter_id == promoter.id, Application.job_id == job.id)
    )
    if existing not in (None, "withdrawn"):  # apply's own message speaks to the promoter
        raise StateChangeRefused(_l("This promoter has already applied for this job."), field="job")
    return operations.apply(session, promoter, job)


def check_application_delete(item: Application) -> None:
    if item.status in ("applied", "accepted"):
        raise StateChangeRefused(
            _l('A pending or accepted application is not deleted; reject it (action "Reject").')
        )
