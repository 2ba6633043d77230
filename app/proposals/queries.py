"""Reading proposals and change requests: the agency's decision screen and its count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from app.models.crm import Contact, Location
from app.models.planning import Appointment, Booking, ChangeRequest, Job, Project
from app.proposals.rules import Slot, SlotCheck, check_slots

#: Proposals and change requests shown on the decision screen each (the earliest first); the
#: headings count all of them.
SCREEN_ROWS = 50


def pending_proposals(session: Session, limit: int | None = None) -> list[Appointment]:
    """Proposals awaiting a decision, the earliest first (all, or the first ``limit``)."""
    return list(
        session.scalars(
            select(Appointment)
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Project, Project.id == Job.project_id)
            .outerjoin(Contact, Contact.id == Appointment.proposed_by_id)
            .where(Appointment.status == "proposed")
            .options(
                contains_eager(Appointment.job).options(
                    contains_eager(Job.location), contains_eager(Job.project)
                ),
                contains_eager(Appointment.proposed_by),
            )
            .order_by(Appointment.date, Appointment.start_time, Location.name, Appointment.id)
            .limit(limit)
        )
    )


def pending_changes(session: Session, limit: int | None = None) -> list[ChangeRequest]:
    """Change requests awaiting a decision, with their appointment, store and bookings (all,
    or the first ``limit``)."""
    return list(
        session.scalars(
            select(ChangeRequest)
            .join(Appointment, Appointment.id == ChangeRequest.appointment_id)
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Project, Project.id == Job.project_id)
            .outerjoin(Contact, Contact.id == ChangeRequest.requested_by_id)
            .where(ChangeRequest.status == "pending")
            .options(
                contains_eager(ChangeRequest.appointment).options(
                    contains_eager(Appointment.job).options(
                        contains_eager(Job.location), contains_eager(Job.project)
                    ),
                    selectinload(Appointment.bookings).joinedload(Booking.promoter),
                ),
                contains_eager(ChangeRequest.requested_by),
            )
            .order_by(ChangeRequest.created_at, ChangeRequest.id)
            .limit(limit)
        )
    )


def pending_counts(session: Session) -> tuple[int, int]:
    """How many proposals and change requests are waiting for the agency (one statement)."""
    proposals = select(func.count(Appointment.id)).where(Appointment.status == "proposed").scalar_subquery()
    changes = select(func.count(ChangeRequest.id)).where(ChangeRequest.status == "pending").scalar_subquery()
    row = session.execute(select(proposals, changes)).one()
    return int(row[0] or 0), int(row[1] or 0)


def pending_count(session: Session) -> int:
    """Proposals and change requests waiting for the agency (the menu's number)."""
    return sum(pending_counts(session))


@dataclass
class DecisionScreen:
    """Everything the decision screen shows, each item with its warnings and conflicts."""

    proposals: list[tuple[Appointment, SlotCheck]]
    changes: list[tuple[ChangeRequest, SlotCheck]]
    #: how many are waiting in all (the lists hold at most ``SCREEN_ROWS`` each)
    proposal_total: int = 0
    change_total: int = 0

    @property
    def count(self) -> int:
        return self.proposal_total + self.change_total


def decision_screen(session: Session, limit: int | None = None) -> DecisionScreen:
    """The first ``limit`` (:data:`SCREEN_ROWS`) pending proposals and change requests,
    checked in a fixed number of queries, and how many are waiting in all."""
    limit = SCREEN_ROWS if limit is None else limit
    proposal_total, change_total = pending_counts(session)
    proposals = pending_proposals(session, limit)
    changes = pending_changes(session, limit)
    moves = [c for c in changes if c.kind == "move"]
    slots = [Slot(p.job, p.date, p.start_time, p.end_time, p.id) for p in proposals] + [
        Slot(c.appointment.job, c.new_date, c.new_start_time, c.new_end_time, c.appointment_id) for c in moves
    ]
    checks = iter(check_slots(session, slots))
    checked_proposals = [(p, next(checks)) for p in proposals]
    move_checks = {c.id: next(checks) for c in moves}
    return DecisionScreen(
        proposals=checked_proposals,
        changes=[(c, move_checks.get(c.id) or SlotCheck()) for c in changes],
        proposal_total=proposal_total,
        change_total=change_total,
    )


def proposal_by_id(session: Session, appointment_id: int) -> Appointment | None:
    """A pending proposal with its store (the confirm step)."""
    return session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status == "proposed")
        .options(joinedload(Appointment.job).joinedload(Job.location), joinedload(Appointment.proposed_by))
    )


def change_by_id(session: Session, change_id: int) -> ChangeRequest | None:
    """A pending change request with its appointment (the confirm step)."""
    return session.scalar(
        select(ChangeRequest)
        .where(ChangeRequest.id == change_id, ChangeRequest.status == "pending")
        .options(joinedload(ChangeRequest.appointment).joinedload(Appointment.job).joinedload(Job.location))
    )
