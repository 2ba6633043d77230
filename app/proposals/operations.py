"""The only code that changes a proposal's or a change request's state: propose, withdraw
and request_change (customer), decide and decide_change (agency).

Every mail is written to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.common.links import agency_url, customer_url
from app.common.models import utcnow
from app.models.crm import Contact
from app.models.planning import Appointment, ChangeRequest
from app.outbox.enqueue import enqueue
from app.proposals.rules import (
    PENDING_CHANGE,
    AlreadyDecided,
    ChangeDraft,
    NotVisible,
    ProposalDraft,
    ProposalError,
    check_change,
    check_slot,
    check_store,
)
from app.rules.recipients import agency_language, agency_recipients
from app.security.visibility import Scope


def propose(
    session: Session, scope: Scope, contact: Contact, user: User, draft: ProposalDraft, request_token: str
) -> tuple[Appointment, bool]:
    """Create the proposal once per wizard (``request_token``); mail the agency.

    Returns the appointment and whether it was created now (False: this wizard
    was submitted before, e.g. a double click or a replayed POST).
    """
    existing = session.scalar(select(Appointment).where(Appointment.request_token == request_token))
    if existing is not None:
        return existing, False
    job = check_store(session, scope, draft.project_id, draft.location_id)
    check_slot(job, draft.date, draft.start_time, draft.end_time)
    appointment = Appointment(
        job=job,
        date=draft.date,
        start_time=draft.start_time,
        end_time=draft.end_time,
        status="proposed",
        origin="customer",
        proposed_by=contact,
        note=draft.note or None,
        created_by=user,
        updated_by=user,
        request_token=request_token,
    )
    session.add(appointment)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(select(Appointment).where(Appointment.request_token == request_token))
        if existing is None:
            raise
        return existing, False
    for recipient in agency_recipients(session, job.project_id):
        enqueue(
            session,
            "proposal_new",
            recipient,
            agency_language(),
            appointment=appointment,
            contact=contact,
            location=job.location,
            link=agency_url(f"/proposals/#proposal-{appointment.id}"),
        )
    session.commit()
    return appointment, True


def decide(
    session: Session, appointment_id: int, user: User, accept: bool, reason: str | None = None
) -> Appointment:
    """Accept (→ planned) or reject (→ rejected, with a reason) a pending proposal.

    The conditional UPDATE makes exactly one of several concurrent decisions win;
    the others raise :class:`AlreadyDecided`. The proposer is mailed in the same
    transaction.
    """
    reason = (reason or "").strip() or None
    status = session.scalar(select(Appointment.status).where(Appointment.id == appointment_id))
    if status != "proposed":
        session.rollback()
        raise AlreadyDecided()
    if not accept and not reason:
        raise ProposalError(_l("Please give a reason for the rejection."), "reason")
    now = utcnow()
    result = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status == "proposed")
        .values(
            status="planned" if accept else "rejected",
            decided_by_id=user.id,
            decided_at=now,
            decision_reason=reason,
            updated_by_id=user.id,
            updated_at=now,
            version=Appointment.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise AlreadyDecided()
    appointment = session.get(Appointment, appointment_id)
    session.refresh(appointment)
    contact = appointment.proposed_by
    if contact is not None and contact.email:
        enqueue(
            session,
            "proposal_decided",
            contact.email,
            contact.language,
            appointment=appointment,
            contact=contact,
            location=appointment.job.location,
            accepted=accept,
            link=customer_url(f"/portal/proposals/{appointment.id}"),
        )
    session.commit()
    return appointment


# -- the customer takes a proposal back ---------------------------------------


def withdraw(session: Session, appointment_id: int, contact: Contact, user: User) -> Appointment:
    """The proposer withdraws their pending proposal (→ cancelled); the agency is mailed.

    Like :func:`decide`, a conditional UPDATE: if the agency decided first, this raises
    :class:`AlreadyDecided` and changes nothing.
    """
    now = utcnow()
    result = session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment_id,
            Appointment.status == "proposed",
            Appointment.proposed_by_id == contact.id,
        )
        .values(status="cancelled", updated_by_id=user.id, updated_at=now, version=Appointment.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise AlreadyDecided()
    appointment = session.get(Appointment, appointment_id)
    session.refresh(appointment)
    for recipient in agency_recipients(session, appointment.job.project_id):
        enqueue(
            session,
            "proposal_withdrawn",
            recipient,
            agency_language(),
            appointment=appointment,
            contact=contact,
            location=appointment.job.location,
            link=agency_url("/proposals/"),
        )
    session.commit()
    return appointment


# -- customer change requests (cancel or move an existing appointment) --------


@dataclass(frozen=True)
class AppointmentChanges:
    """The planning operations that carry out an accepted change request.

    Planning sits above proposals, so the composition root passes them in
    (``app.extensions["appointment_changes"]``).
    """

    cancel: Callable[..., Appointment]
    move: Callable[..., Appointment]


def request_change(
    session: Session, scope: Scope, contact: Contact, user: User, appointment_id: int, draft: ChangeDraft
) -> ChangeRequest:
    """A contact asks for a visible, planned, future appointment to be cancelled or moved.

    Raises :class:`NotVisible` for an appointment outside the contact's territory and
    :class:`ProposalError` for anything else that cannot become a request. The agency
    is mailed in the same transaction.
    """
    appointment = session.scalar(scope.appointments().where(Appointment.id == appointment_id))
    if appointment is None:
        raise NotVisible()
    check_change(session, appointment, draft)
    change = ChangeRequest(
        appointment=appointment,
        kind=draft.kind,
        status="pending",
        reason=(draft.reason or "").strip(),
        new_date=draft.date if draft.kind == "move" else None,
        new_start_time=draft.start_time if draft.kind == "move" else None,
        new_end_time=draft.end_time if draft.kind == "move" else None,
        requested_by_id=contact.id,
        created_by_id=user.id,
    )
    session.add(change)
    try:
        session.flush()
    except IntegrityError:  # another request for this appointment got in first
        session.rollback()
        raise ProposalError(PENDING_CHANGE) from None
    for recipient in agency_recipients(session, appointment.job.project_id):
        enqueue(
            session,
            "change_request_new",
            recipient,
            agency_language(),
            change=change,
            appointment=appointment,
            contact=contact,
            location=appointment.job.location,
            link=agency_url(f"/proposals/#change-{change.id}"),
        )
    session.commit()
    return change


def decide_change(
    session: Session,
    change_id: int,
    user: User,
    accept: bool,
    changes: AppointmentChanges,
    reason: str | None = None,
) -> ChangeRequest:
    """Accept (cancel or move the appointment through planning) or reject (with a reason).

    One of several concurrent decisions wins (conditional UPDATE); the others raise
    :class:`AlreadyDecided`. If planning refuses the change (e.g. the appointment was
    cancelled meanwhile), nothing is changed and its message is raised as
    :class:`ProposalError`. The contact is mailed in their language.
    """
    reason = (reason or "").strip() or None
    status = session.scalar(select(ChangeRequest.status).where(ChangeRequest.id == change_id))
    if status != "pending":
        session.rollback()
        raise AlreadyDecided()
    if not accept and not reason:
        raise ProposalError(_l("Please give a reason for the rejection."), "reason")
    result = session.execute(
        update(ChangeRequest)
        .where(ChangeRequest.id == change_id, ChangeRequest.status == "pending")
        .values(
            status="accepted" if accept else "rejected",
            decided_by_id=user.id,
            decided_at=utcnow(),
            decision_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise AlreadyDecided()
    change = session.get(ChangeRequest, change_id)
    session.refresh(change)
    appointment = change.appointment
    if accept:
        try:
            if change.kind == "cancel":
                changes.cancel(session, appointment, user, commit=False)
            else:
                changes.move(
                    session,
                    appointment,
                    change.new_date,
                    change.new_start_time,
                    change.new_end_time,
                    user,
                    commit=False,
                )
        except ValueError as error:
            session.rollback()
            raise ProposalError(str(error)) from None
    contact = change.requested_by
    if contact is not None and contact.email:
        enqueue(
            session,
            "change_request_decided",
            contact.email,
            contact.language,
            change=change,
            appointment=appointment,
            contact=contact,
            location=appointment.job.location,
            accepted=accept,
            link=customer_url(f"/portal/appointments/{appointment.id}/change"),
        )
    session.commit()
    return change
