"""Reading proposals: the agency's pending list and its count."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from app.models.crm import Contact, Location
from app.models.planning import Appointment, Job, Project


def pending_proposals(session: Session) -> list[Appointment]:
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
            .order_by(Appointment.date, Appointment.start_time, Location.name)
        )
    )


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count(Appointment.id)).where(Appointment.status == "proposed")) or 0
