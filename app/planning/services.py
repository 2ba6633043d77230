"""State changes of planning: customer proposals and the agency's decision.

Views parse input and call these functions; every mail is written to the
outbox in the same transaction (the caller's commit, or the one made here).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import holidays
from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from app.common.links import agency_url, customer_url
from app.common.models import utcnow
from app.common.timezone import local_today, week_of
from app.crm.models import Contact, Location
from app.notify.outbox import enqueue
from app.planning.models import Appointment, Job, Project, project_manager
from app.security.visibility import Scope

#: Appointment states that occupy a day of a store's week.
ACTIVE_STATES = ("planned", "proposed", "done")


class ProposalError(ValueError):
    """Input that must not become a proposal; the message is for the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


class AlreadyDecided(Exception):
    """Somebody else decided this proposal first."""


@dataclass
class ProposalDraft:
    project_id: int
    location_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    note: str | None = None


def visible_job(session: Session, scope: Scope, project_id: int, location_id: int) -> Job | None:
    """The job of (project, location) if the scope may see it."""
    return session.scalar(scope.jobs().where(Job.project_id == project_id, Job.location_id == location_id))


def check_store(session: Session, scope: Scope, project_id: int | None, location_id: int | None) -> Job:
    """Step 1: the project and store exist, are visible, and belong together."""
    if not project_id:
        raise ProposalError(_l("Please choose a project."), "project")
    if not location_id:
        raise ProposalError(_l("Please choose a store."), "location")
    job = visible_job(session, scope, project_id, location_id)
    if job is None:
        raise ProposalError(_l("This store is not part of the project in your territory."), "location")
    return job


def check_slot(job: Job, date: dt.date | None, start: dt.time | None, end: dt.time | None) -> None:
    """Step 2: a date inside the project's period, not in the past, end after start."""
    if date is None:
        raise ProposalError(_l("Please enter a date."), "date")
    if date < local_today():
        raise ProposalError(_l("The date lies in the past."), "date")
    project = job.project
    if not project.start_date <= date <= project.end_date:
        raise ProposalError(
            _l(
                "The date must lie within the project's period (%(start)s – %(end)s).",
                start=format_date(project.start_date, "medium"),
                end=format_date(project.end_date, "medium"),
            ),
            "date",
        )
    if start is None or end is None:
        raise ProposalError(_l("Please enter a start and an end time."), "start_time")
    if end <= start:
        raise ProposalError(_l("The end must be after the start."), "end_time")


def warnings_for(session: Session, job: Job, date: dt.date) -> list[str]:
    """What the customer should know before submitting (none of it forbids the proposal)."""
    found = []
    same_day = session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.job_id == job.id,
            Appointment.date == date,
            Appointment.status.in_(ACTIVE_STATES),
        )
    )
    if same_day:
        found.append(_("The store already has an appointment on this day."))
    if date.weekday() == 6:
        found.append(_("This day is a Sunday; most stores are closed on Sundays."))
    state = job.location.federal_state
    language = "en_US" if str(get_locale()) == "en" else "de"
    holiday = holidays.country_holidays("DE", subdiv=state, years=date.year, language=language).get(date)
    if holiday:
        found.append(_("This day is a public holiday in the store's federal state: %(name)s.", name=holiday))
    if job.planned_days_per_week:
        monday, sunday = week_of(date)
        days = session.scalar(
            select(func.count(func.distinct(Appointment.date))).where(
                Appointment.job_id == job.id,
                Appointment.date.between(monday, sunday),
                Appointment.status.in_(ACTIVE_STATES),
            )
        )
        if days >= job.planned_days_per_week:
            found.append(
                _(
                    "The store's planned days for this week are already reached (%(days)d of %(planned)d).",
                    days=days,
                    planned=job.planned_days_per_week,
                )
            )
    return found


def usual_hours(session: Session, job: Job) -> tuple[dt.time, dt.time] | None:
    """The job's most frequent start and end time (its usual hours), from its appointments."""
    row = session.execute(
        select(Appointment.start_time, Appointment.end_time)
        .where(Appointment.job_id == job.id, Appointment.status.in_(("planned", "done")))
        .group_by(Appointment.start_time, Appointment.end_time)
        .order_by(func.count().desc(), Appointment.start_time)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def _agency_recipients(session: Session, project: Project) -> list[str]:
    emails = list(
        session.scalars(
            select(User.email)
            .join(project_manager, project_manager.c.user_id == User.id)
            .where(project_manager.c.project_id == project.id, User.active.is_(True), User.email.is_not(None))
            .order_by(User.email)
        )
    )
    fallback = current_app.config.get("AGENCY_NOTIFY_EMAIL")
    return emails or ([fallback] if fallback else [])


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
    for recipient in _agency_recipients(session, job.project):
        enqueue(
            session,
            "proposal_new",
            recipient,
            current_app.config["BABEL_DEFAULT_LOCALE"],
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
