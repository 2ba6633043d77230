"""Monthly campaign report schedules (:class:`~app.models.report_schedules.ReportSchedule`):
the one write path for creating and changing them. Sending is the digests' work
(:mod:`app.digests.monthly_reports`), run by the scheduler on the 1st of a month."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.crm import Contact
from app.models.planning import Project
from app.models.report_schedules import ReportSchedule


def check_contacts(project: Project | None, contacts: list[Contact]) -> None:
    """ValueError unless every chosen contact belongs to the project's customer."""
    if project is None:
        raise ValueError(_("Please choose a project."))
    foreign = [c.full_name for c in contacts if c.company_id != project.customer_id]
    if foreign:
        raise ValueError(
            _(
                "Only contacts of the project's customer can receive its report: %(names)s",
                names=", ".join(foreign),
            )
        )


def save_schedule(
    session: Session, project: Project, contacts: list[Contact], active: bool = True
) -> ReportSchedule:
    """Create or change the project's schedule (one per project); contacts of another
    customer are refused with ValueError. Commits."""
    check_contacts(project, contacts)
    schedule = session.scalar(select(ReportSchedule).where(ReportSchedule.project_id == project.id))
    if schedule is None:
        schedule = ReportSchedule(project=project)
        session.add(schedule)
    schedule.contacts = list(contacts)
    schedule.active = active
    session.commit()
    return schedule
