"""Scheduled digests; each goes out at most once per recipient and period.

The unique row in ``digest_run`` (kind, recipient, period) is written in the
same transaction as the outbox mail, so a second scheduler process — or a
second run the same day — finds the row taken and sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.common.links import agency_url, customer_url
from app.common.timezone import local_today
from app.crm.followups import tasks_due
from app.digests.models import DigestRun
from app.models.crm import Contact, Location, Task
from app.models.planning import Appointment, Job, project_manager
from app.outbox.enqueue import enqueue
from app.rules.calendar import week_of
from app.security.visibility import Scope


def _send_once(session: Session, kind: str, recipient_key: str, period: str, mail: dict) -> bool:
    """Record the digest and queue its mail together; False if it went out already."""
    try:
        with session.begin_nested():
            run = DigestRun(kind=kind, recipient_key=recipient_key, period=period)
            session.add(run)
            session.flush()
            message = enqueue(session, **mail)
            session.flush()
            run.outbox_message_id = message.id
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def agency_pending_digest(session: Session, today: dt.date | None = None) -> int:
    """Daily, to each agency user: the proposals still pending and their own tasks due today.

    Pending proposals go to the project's managers (or AGENCY_NOTIFY_EMAIL);
    a task due today goes to its assignee. One mail per address and day, sent
    when there is either.
    """
    today = today or local_today()
    pending = list(
        session.scalars(
            select(Appointment)
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .where(Appointment.status == "proposed")
            .options(joinedload(Appointment.job).joinedload(Job.location))
            .order_by(Appointment.date, Appointment.start_time, Location.name)
        ).unique()
    )
    by_recipient: dict[str, list[Appointment]] = defaultdict(list)
    fallback = current_app.config.get("AGENCY_NOTIFY_EMAIL")
    for appointment in pending:
        managers = session.scalars(
            select(User.email)
            .join(project_manager, project_manager.c.user_id == User.id)
            .where(
                project_manager.c.project_id == appointment.job.project_id,
                User.active.is_(True),
                User.email.is_not(None),
            )
        ).all()
        for email in managers or ([fallback] if fallback else []):
            by_recipient[email].append(appointment)
    tasks_by_recipient: dict[str, list[Task]] = defaultdict(list)
    for task in tasks_due(session, today):
        if task.assignee is not None and task.assignee.active and task.assignee.email:
            tasks_by_recipient[task.assignee.email].append(task)
    sent = 0
    for email in sorted(set(by_recipient) | set(tasks_by_recipient)):
        mail = {
            "kind": "digest_pending",
            "recipient": email,
            "language": current_app.config["BABEL_DEFAULT_LOCALE"],
            "proposals": by_recipient.get(email, []),
            "tasks": tasks_by_recipient.get(email, []),
            "link": agency_url("/proposals/"),
            "tasks_link": agency_url("/crm/follow-ups/"),
        }
        sent += _send_once(session, "agency_pending", email, today.isoformat(), mail)
    return sent


def customer_week_digest(session: Session, today: dt.date | None = None) -> int:
    """Weekly: each customer contact with a login gets next week's appointments in their territory."""
    today = today or local_today()
    monday, sunday = week_of(today + dt.timedelta(days=7))
    iso_year, iso_week, _ = monday.isocalendar()
    period = f"{iso_year}-W{iso_week:02d}"
    contacts = session.scalars(
        select(Contact)
        .join(User, User.id == Contact.user_id)
        .where(User.active.is_(True), Contact.email.is_not(None), Contact.digest_opt_out.is_(False))
        .order_by(Contact.id)
    ).all()
    sent = 0
    for contact in contacts:
        scope = Scope("customer", contact.user_id)
        appointments = list(
            session.scalars(
                scope.appointments()
                .join(Job, Job.id == Appointment.job_id)
                .join(Location, Location.id == Job.location_id)
                .where(Appointment.date.between(monday, sunday), Appointment.status == "planned")
                .options(joinedload(Appointment.job).joinedload(Job.location))
                .order_by(Appointment.date, Appointment.start_time, Location.name)
            ).unique()
        )
        if not appointments:
            continue
        mail = {
            "kind": "digest_week",
            "recipient": contact.email,
            "language": contact.language,
            "contact": contact,
            "appointments": appointments,
            "monday": monday,
            "sunday": sunday,
            "link": customer_url("/portal/appointments?range=next_week"),
            "settings_link": customer_url("/portal/settings"),
        }
        sent += _send_once(session, "customer_week", f"contact:{contact.id}", period, mail)
    return sent
