"""Questionnaires: which one an appointment or a job uses, and their versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.planning import Appointment, Job, Project
from app.models.reporting import Questionnaire, QuestionnaireVersion


def day_questionnaire_id(session: Session, appointment: Appointment) -> int | None:
    """The appointment's own day-report questionnaire, else its job's, else its project's."""
    return session.scalar(
        select(
            func.coalesce(
                Appointment.day_questionnaire_id, Job.day_questionnaire_id, Project.day_questionnaire_id
            )
        )
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .where(Appointment.id == appointment.id)
    )


def week_questionnaire_id(session: Session, job: Job) -> int | None:
    """The job's own weekly-report questionnaire, else its project's."""
    return session.scalar(
        select(func.coalesce(Job.week_questionnaire_id, Project.week_questionnaire_id))
        .join(Project, Project.id == Job.project_id)
        .where(Job.id == job.id)
    )


def day_questionnaire_column():
    """The same rule as :func:`day_questionnaire_id` as a column expression, for queries
    that already join Appointment, Job and Project (lists of many appointments)."""
    return func.coalesce(
        Appointment.day_questionnaire_id, Job.day_questionnaire_id, Project.day_questionnaire_id
    )


def current_version(session: Session, questionnaire_id: int) -> QuestionnaireVersion | None:
    """The newest published version (what a new report is filled in with), or None."""
    return session.scalar(
        select(QuestionnaireVersion)
        .where(
            QuestionnaireVersion.questionnaire_id == questionnaire_id,
            QuestionnaireVersion.published_at.is_not(None),
        )
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
    )


def requires_day_report(session: Session, appointment: Appointment) -> bool:
    """True if the appointment's questionnaire has a published version: it is then set to
    done only by the approval of its day report, never by hand."""
    questionnaire_id = day_questionnaire_id(session, appointment)
    return questionnaire_id is not None and current_version(session, questionnaire_id) is not None


__all__ = [
    "Questionnaire",
    "current_version",
    "day_questionnaire_column",
    "day_questionnaire_id",
    "requires_day_report",
    "week_questionnaire_id",
]
