"""Generic writes of appointments and jobs — the agency's CRUD screens and the REST
API — routed through the workflow operations, or refused with the path to take.

- adding an appointment is :func:`operations.plan_appointment` (planned, origin agency);
- changing its date or times is :func:`operations.move_appointment`;
- its status is never written by a form or a JSON body: cancel and "mark as done" are
  actions, a proposal is decided on the Proposals screen;
- a proposal or an appointment with bookings is not deleted;
- a job's status changes through the actions "Open for applications" and "Close job".

Both the screens and the API call the functions below from their ``pre_*`` hooks,
after FAB has filled the row from the form or the JSON body (nothing flushed yet).
"""

from __future__ import annotations

from flask import url_for
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.common.models import discard_unsaved
from app.common.refusals import StateChangeRefused
from app.models.planning import Appointment, Job
from app.planning import operations

_TIMES = ("date", "start_time", "end_time")


def _old(item, name: str):
    """The stored value of ``name`` before the form or the JSON body set it."""
    history = inspect(item).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(item, name)


def _changed(item, name: str) -> bool:
    return inspect(item).attrs[name].history.has_changes()


def proposals_refusal(message=None) -> StateChangeRefused:
    return StateChangeRefused(
        message or _l("Proposals are decided on the Proposals screen."),
        field="status",
        link=url_for("ProposalsView.pending"),
        link_text=_l("Go to the proposals"),
    )


def appointment_status_refusal(old: str | None, new: str | None) -> StateChangeRefused:
    """Why a form or JSON body cannot set an appointment's status, and what to do instead."""
    if old == "proposed":
        return proposals_refusal()
    if new == "cancelled":
        message = _l('Appointments are cancelled with the action "Cancel appointment".')
    elif new == "done":
        message = _l('Appointments are marked as done with the action "Mark as done".')
    elif new == "proposed":
        message = _l("Only customers propose appointments (in the customer system).")
    elif old in ("cancelled", "rejected"):
        message = _l("A cancelled or rejected appointment is not planned again; add a new appointment.")
    else:
        message = _l("The status of an appointment is changed only by its actions.")
    return StateChangeRefused(message, field="status")


def plan_from(session: Session, item: Appointment, user: User | None) -> Appointment:
    """Plan the appointment described by an unsaved ``item`` (a filled add form or JSON body)."""
    if item.status not in (None, "planned"):
        raise appointment_status_refusal(None, item.status)
    job, date, start, end, note = item.job, item.date, item.start_time, item.end_time, item.note
    questionnaire = item.day_questionnaire
    discard_unsaved(session, item, "job", "day_questionnaire")
    return operations.plan_appointment(
        session,
        job,
        date,
        start,
        end,
        user=user,
        note=note,
        day_questionnaire_id=questionnaire.id if questionnaire is not None else None,
    )


def update_appointment(session: Session, item: Appointment, user: User | None) -> None:
    """Check a filled-in edit of an appointment; a new date or time goes through
    ``move_appointment`` (its checks, its notifications). No commit: the caller saves."""
    with session.no_autoflush:
        if _changed(item, "status"):
            raise appointment_status_refusal(_old(item, "status"), item.status)
        if item.job is not None and item.job.id != _old(item, "job_id"):
            raise StateChangeRefused(
                _l("An appointment stays at its job; cancel it and add a new one at the other job."),
                field="job",
            )
        if any(_changed(item, name) for name in _TIMES):
            wanted = tuple(getattr(item, name) for name in _TIMES)
            for name in _TIMES:
                setattr(item, name, _old(item, name))
            operations.move_appointment(session, item, *wanted, user=user, commit=False)
    item.updated_by = user


def check_appointment_delete(item: Appointment) -> None:
    """A proposal is decided, an appointment with bookings is cancelled — neither deleted."""
    if item.status == "proposed":
        raise proposals_refusal(_l("A proposal is not deleted: it is decided on the Proposals screen."))
    if item.bookings:
        raise StateChangeRefused(
            _l(
                "This appointment has bookings and is not deleted; cancel it instead "
                '(action "Cancel appointment"), so that the people concerned are told.'
            )
        )


def check_job_add(item: Job) -> None:
    if item.status not in (None, "draft"):
        raise StateChangeRefused(
            _l('A new job starts as a draft; open it with the action "Open for applications".'),
            field="status",
        )


def check_job_update(item: Job) -> None:
    if _changed(item, "status"):
        raise StateChangeRefused(
            _l('A job\'s status is changed with the actions "Open for applications" and "Close job".'),
            field="status",
        )
