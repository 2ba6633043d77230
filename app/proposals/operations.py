"""The only code that changes a proposal's state: propose (customer) and decide (agency).

Every mail is written to the outbox in the same transaction.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.common.links import agency_url, customer_url
from app.common.models import utcnow
from app.models.crm import Contact
from app.models.planning import Appointment
from app.outbox.enqueue import enqueue
from app.proposals.rules import AlreadyDecided, ProposalDraft, ProposalError, check_slot, check_store
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
