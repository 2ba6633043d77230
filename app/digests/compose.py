"""Scheduled digests; each goes out at most once per recipient and period.

The unique row in ``digest_run`` (kind, recipient, period) is written in the
same transaction as the outbox mail, so a second scheduler process — or a
second run the same day — finds the row taken and sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from babel.numbers import format_decimal
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.changes.models import ChangeNotice
from app.changes.operations import mark_sent, pending_notices
from app.common.links import agency_url, customer_url
from app.common.timezone import local_today
from app.crm.followups import tasks_due
from app.digests.models import DigestRun
from app.models.crm import Contact, Location, Task
from app.models.planning import Appointment, ChangeRequest, Job
from app.outbox.enqueue import enqueue
from app.proposals.queries import pending_changes, pending_proposals
from app.reporting import analytics
from app.rules.calendar import week_of
from app.rules.recipients import agency_language, agency_recipients
from app.security.visibility import Scope


def _send_once(
    session: Session,
    kind: str,
    recipient_key: str,
    period: str,
    mail: dict,
    notices: list[ChangeNotice] = (),
) -> bool:
    """Record the digest and queue its mail together; False if it went out already.

    ``notices``: the changes the mail tells, marked sent in the same transaction.
    """
    try:
        with session.begin_nested():
            run = DigestRun(kind=kind, recipient_key=recipient_key, period=period)
            session.add(run)
            session.flush()
            message = enqueue(session, **mail)
            session.flush()
            run.outbox_message_id = message.id
            mark_sent(notices, message.id)
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def agency_pending_digest(session: Session, today: dt.date | None = None) -> int:
    """Daily, to each agency user: the proposals and customers' change requests still
    pending, and their own tasks due today.

    Pending proposals and change requests go to the project's managers (or
    AGENCY_NOTIFY_EMAIL); a task due today goes to its assignee. One mail per address
    and day, sent when there is any of them.
    """
    today = today or local_today()
    by_recipient: dict[str, list[Appointment]] = defaultdict(list)
    changes_by_recipient: dict[str, list[ChangeRequest]] = defaultdict(list)
    recipients: dict[int, list[str]] = {}

    def recipients_of(project_id: int) -> list[str]:
        if project_id not in recipients:
            recipients[project_id] = agency_recipients(session, project_id)
        return recipients[project_id]

    for appointment in pending_proposals(session):
        for email in recipients_of(appointment.job.project_id):
            by_recipient[email].append(appointment)
    for change in pending_changes(session):
        for email in recipients_of(change.appointment.job.project_id):
            changes_by_recipient[email].append(change)
    tasks_by_recipient: dict[str, list[Task]] = defaultdict(list)
    for task in tasks_due(session, today):
        if task.assignee is not None and task.assignee.active and task.assignee.email:
            tasks_by_recipient[task.assignee.email].append(task)
    sent = 0
    for email in sorted(set(by_recipient) | set(changes_by_recipient) | set(tasks_by_recipient)):
        mail = {
            "kind": "digest_pending",
            "recipient": email,
            "language": agency_language(),
            "proposals": by_recipient.get(email, []),
            "changes": changes_by_recipient.get(email, []),
            "tasks": tasks_by_recipient.get(email, []),
            "link": agency_url("/proposals/"),
            "tasks_link": agency_url("/crm/follow-ups/"),
        }
        sent += _send_once(session, "agency_pending", email, today.isoformat(), mail)
    return sent


def _visible_pending(session: Session, contact: Contact) -> tuple[list[ChangeNotice], list[ChangeNotice]]:
    """The contact's untold changes they still see (at sending time), and those they no
    longer see (never sent; marked as done with the mail)."""
    scope = Scope("customer", contact.user_id)
    notices = pending_notices(session, contact.id)
    if not notices:
        return [], []
    visible_jobs = set(
        session.scalars(
            select(Job.id).where(
                Job.id.in_({n.change.appointment.job_id for n in notices}), Job.id.in_(scope.job_ids())
            )
        )
    )
    shown = [n for n in notices if n.change.appointment.job_id in visible_jobs]
    return shown, [n for n in notices if n not in shown]


def _customer_contacts(session: Session, *criteria) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .join(User, User.id == Contact.user_id)
            .where(User.active.is_(True), Contact.email.is_not(None), *criteria)
            .order_by(Contact.id)
        )
    )


def change_summary_digest(session: Session, today: dt.date | None = None) -> int:
    """Daily: each contact with untold changes (chosen "daily", or left over from before a
    switch to "immediate") gets one summary — at most one per contact and day."""
    today = today or local_today()
    waiting = select(ChangeNotice.contact_id).where(ChangeNotice.sent_at.is_(None))
    sent = 0
    for contact in _customer_contacts(session, Contact.change_mail != "weekly", Contact.id.in_(waiting)):
        shown, hidden = _visible_pending(session, contact)
        if not shown:
            mark_sent(hidden, None)
            session.commit()
            continue
        mail = {
            "kind": "change_summary",
            "recipient": contact.email,
            "language": contact.language,
            "contact": contact,
            "changes": [n.change for n in shown],
            "link": customer_url("/portal/appointments?range=all"),
            "settings_link": customer_url("/portal/settings"),
        }
        sent += _send_once(
            session, "change_summary", f"contact:{contact.id}", today.isoformat(), mail, shown + hidden
        )
    return sent


@dataclass
class WeekFigures:
    """Last week's progress and main figures of a contact's territory, ready to print."""

    monday: dt.date
    sunday: dt.date
    progress: analytics.Progress
    #: (label, total formatted in the contact's language, unit)
    figures: list[tuple[str, str, str | None]] = field(default_factory=list)
    #: appointments (planned and done), done, missing a report — formatted
    counts: dict[str, str] = field(default_factory=dict)


def _main_figure(definition: analytics.FigureDef) -> bool:
    """Counts and sums, and per product what was sold — not the stock levels (their totals
    over a week say nothing)."""
    return definition.question_key not in (analytics.OPENING_STOCK, analytics.CLOSING_STOCK)


def format_number(value: float, language: str) -> str:
    """1.234 / 1.234,5 in German, 1,234 / 1,234.5 in English."""
    return format_decimal(round(value, 1), format="#,##0.#", locale=language)


def last_week_figures(session: Session, scope: Scope, today: dt.date, language: str) -> WeekFigures:
    """Progress (planned, done, missing reports) and the totals of the main figures of the
    week before ``today``'s, through ``scope`` (approved reports only)."""
    monday, sunday = analytics.period_of("last_week", today)
    flt = analytics.ReportFilter(date_from=monday, date_to=sunday)
    progress = analytics.progress(session, scope, flt, today=today)
    lines = []
    if progress.appointments:
        values = analytics.figures(session, scope, flt)
        for definition in analytics.figure_defs(session, scope, flt):
            value = values.get(definition.id)
            if value is None or not value.answers or not _main_figure(definition):
                continue
            lines.append((definition.label(language), format_number(value.total, language), definition.unit))
    counts = {
        "appointments": format_number(progress.appointments, language),
        "done": format_number(progress.done, language),
        "missing": format_number(progress.missing_report, language),
    }
    return WeekFigures(monday, sunday, progress, lines, counts)


def customer_week_digest(session: Session, today: dt.date | None = None) -> int:
    """Weekly: each customer contact with a login gets next week's appointments in their
    territory, last week's progress and main figures there (:func:`last_week_figures`),
    and — if they chose "weekly" for change mails — the changes not yet told."""
    today = today or local_today()
    monday, sunday = week_of(today + dt.timedelta(days=7))
    iso_year, iso_week, _ = monday.isocalendar()
    period = f"{iso_year}-W{iso_week:02d}"
    contacts = _customer_contacts(session, Contact.digest_opt_out.is_(False))
    sent = 0
    for contact in contacts:
        scope = Scope("customer", contact.user_id).resolved(session)
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
        shown, hidden = _visible_pending(session, contact) if contact.change_mail == "weekly" else ([], [])
        if not appointments and not shown:
            continue
        language = contact.language if contact.language in ("de", "en") else "de"
        mail = {
            "kind": "digest_week",
            "recipient": contact.email,
            "language": contact.language,
            "contact": contact,
            "appointments": appointments,
            "changes": [n.change for n in shown],
            "monday": monday,
            "sunday": sunday,
            "last_week": last_week_figures(session, scope, today, language),
            "reporting_link": customer_url("/portal/reporting/?range=last_week"),
            "link": customer_url("/portal/appointments?range=next_week"),
            "settings_link": customer_url("/portal/settings"),
        }
        sent += _send_once(session, "customer_week", f"contact:{contact.id}", period, mail, shown + hidden)
    return sent
