"""The only code that changes an appointment outside the proposal workflow: plan a new
one, move it (date or time), cancel it (with its open bookings, through staffing).

Each change is told to the people it concerns through :mod:`app.changes`, in the
same transaction.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.changes.operations import Before, appointment_changed
from app.common.models import utcnow
from app.common.timezone import local_today
from app.models.planning import Appointment, Job
from app.staffing.operations import cancel_bookings

#: States in which an appointment can still be moved or cancelled.
CHANGEABLE = ("planned", "proposed")


class AppointmentError(ValueError):
    """A refused change of an appointment; the message is for the user."""


def _check_times(start: dt.time | None, end: dt.time | None) -> None:
    if start is None or end is None:
        raise AppointmentError(_l("Please enter a start and an end time."))
    if end <= start:
        raise AppointmentError(_l("The end must be after the start."))


def plan_appointment(
    session: Session,
    job: Job,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    user: User | None = None,
    note: str | None = None,
    commit: bool = True,
    day_questionnaire_id: int | None = None,
) -> Appointment:
    """A new appointment planned by the agency (state "planned", origin "agency"), with its
    own day-report questionnaire if one is given (else its job's or project's applies)."""
    _check_times(start_time, end_time)
    appointment = Appointment(
        job=job,
        date=date,
        start_time=start_time,
        end_time=end_time,
        status="planned",
        origin="agency",
        note=note or None,
        day_questionnaire_id=day_questionnaire_id,
        created_by=user,
        updated_by=user,
    )
    session.add(appointment)
    session.flush()
    appointment_changed(session, appointment, "planned")
    if commit:
        session.commit()
    return appointment


def move_appointment(
    session: Session,
    appointment: Appointment,
    date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    user: User | None = None,
    commit: bool = True,
) -> Appointment:
    """Change date and/or time; the promoters and customer contacts concerned are told."""
    if appointment.status not in CHANGEABLE:
        raise AppointmentError(_l("Only planned or proposed appointments can be moved."))
    _check_times(start_time, end_time)
    before = Before(appointment.date, appointment.start_time, appointment.end_time)
    if (date, start_time, end_time) == (before.date, before.start_time, before.end_time):
        return appointment
    appointment.date, appointment.start_time, appointment.end_time = date, start_time, end_time
    appointment.updated_by = user
    appointment.updated_at = utcnow()
    session.flush()
    if appointment.status == "planned":
        appointment_changed(session, appointment, "moved", before)
    if commit:
        session.commit()
    return appointment


def cancel_appointment(
    session: Session, appointment: Appointment, user: User | None = None, commit: bool = True
) -> Appointment:
    """Cancel an appointment and its open bookings; the people concerned are told."""
    if appointment.status in ("cancelled", "done", "rejected"):
        raise AppointmentError(_l("This appointment cannot be cancelled any more."))
    if appointment.status == "proposed":
        raise AppointmentError(
            _l("A proposal is not cancelled: it is accepted or rejected on the Proposals screen.")
        )
    was_planned = appointment.status == "planned"
    appointment.status = "cancelled"
    appointment.updated_by = user
    appointment.updated_at = utcnow()
    cancelled = cancel_bookings(session, appointment)
    session.flush()
    if was_planned:
        appointment_changed(session, appointment, "cancelled", bookings=cancelled)
    if commit:
        session.commit()
    return appointment


def complete_appointment(
    session: Session,
    appointment: Appointment,
    user: User | None = None,
    commit: bool = True,
    by_report: bool = False,
    actual_start: dt.time | None = None,
    actual_end: dt.time | None = None,
) -> Appointment:
    """Mark a planned appointment that has taken place (today or earlier) as done.

    By hand (the agency's action, ``by_report`` False) this is refused for an appointment
    that requires a day report: the approval of its report sets it done, with the actual
    times of the report (``by_report=True``, from reporting). Whether a report is required
    is asked of the checker in ``current_app.extensions["report_required"]`` (set at app
    creation; planning does not import reporting). An appointment that is done already only
    takes the report's actual times.
    """
    if by_report and appointment.status == "done":
        appointment.actual_start_time, appointment.actual_end_time = actual_start, actual_end
        appointment.updated_by = user
        appointment.updated_at = utcnow()
        if commit:
            session.commit()
        return appointment
    if appointment.status != "planned":
        raise AppointmentError(_l("Only planned appointments can be marked as done."))
    if appointment.date > local_today():
        raise AppointmentError(_l("An appointment in the future cannot be marked as done."))
    if not by_report:
        report_required = current_app.extensions.get("report_required")
        if report_required is not None and report_required(session, appointment):
            raise AppointmentError(
                _l(
                    "This appointment requires a day report: it is marked as done when the agency "
                    "approves the promoter's report (Reporting › Review reports)."
                )
            )
    appointment.status = "done"
    if by_report:
        appointment.actual_start_time, appointment.actual_end_time = actual_start, actual_end
    appointment.updated_by = user
    appointment.updated_at = utcnow()
    if commit:
        session.commit()
    return appointment
