"""Monthly campaign reports by mail (:class:`~app.models.report_schedules.ReportSchedule`).

On the 1st of a month the scheduler calls :func:`send_monthly_reports`: for every active
schedule, each recipient contact gets one mail with the PDF campaign report of the past
month — built through that contact's own visibility scope, so a northern contact's PDF
holds only northern stores — in the contact's language. A ``digest_run`` row (kind
"monthly_report", per schedule, contact and month) is written with the mail in one
transaction: a second run, or a second scheduler process, sends nothing again.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask_appbuilder.security.sqla.models import User
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.common.links import customer_url
from app.common.timezone import local_today
from app.digests.compose import _send_once
from app.digests.models import DigestRun
from app.models.crm import Contact
from app.models.planning import Project
from app.models.report_schedules import ReportSchedule
from app.reporting import analytics, pdf
from app.reporting.analytics import ReportFilter
from app.security.visibility import Scope, scope_for

log = logging.getLogger(__name__)

RUN_KIND = "monthly_report"
MAIL_KIND = "report_monthly"


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month before ``today``'s."""
    return analytics.period_of("last_month", today)


def recipients(session: Session, schedule: ReportSchedule) -> list[Contact]:
    """The chosen contacts, or (none chosen) every contact linked to the project; only
    contacts of the project's customer with an active customer login and a mail address
    (the report is built through the login's visibility scope)."""
    chosen = [c.id for c in schedule.contacts]
    project = schedule.project
    candidates = chosen or [c.id for c in project.contacts]
    if not candidates:
        return []
    return list(
        session.scalars(
            select(Contact)
            .join(User, User.id == Contact.user_id)
            .where(
                Contact.id.in_(candidates),
                Contact.company_id == project.customer_id,
                Contact.email.is_not(None),
                User.active.is_(True),
            )
            .options(selectinload(Contact.territories))
            .order_by(Contact.id)
        )
    )


def campaign_pdf(
    session: Session, scope: Scope, flt: ReportFilter, language: str, *, project: Project, contact: Contact
) -> bytes:
    """The campaign report PDF of ``flt`` through ``scope``, headed with the contact's territory."""
    territory = ", ".join(sorted(t.name for t in contact.territories))
    with force_locale(language):
        title = _("Monthly report")
    return pdf.campaign_report(
        session,
        scope,
        flt,
        language,
        title,
        customer=project.customer.name if project.customer else "",
        project=project.name,
        territory=territory,
    )


def _already_sent(session: Session, key: str, period: str) -> bool:
    return (
        session.scalar(
            select(DigestRun.id).where(
                DigestRun.kind == RUN_KIND, DigestRun.recipient_key == key, DigestRun.period == period
            )
        )
        is not None
    )


def send_monthly_reports(session: Session, today: dt.date | None = None) -> int:
    """Queue last month's campaign report to each recipient of every active schedule,
    at most once per schedule, contact and month; returns the number of mails queued.
    A contact who sees no appointment of the project in that month gets no mail; a
    report that cannot be made is logged and left for the next run (the scheduler runs
    this on the 1st to 3rd of the month; the contacts already served get nothing twice)."""
    today = today or local_today()
    first, last = previous_month(today)
    period = f"{first:%Y-%m}"
    schedules = list(
        session.scalars(
            select(ReportSchedule)
            .where(ReportSchedule.active.is_(True))
            .options(selectinload(ReportSchedule.contacts))
            .order_by(ReportSchedule.id)
        )
    )
    sent = failed = 0
    for schedule in schedules:
        project = schedule.project
        flt = ReportFilter(date_from=first, date_to=last, project_id=project.id)
        for contact in recipients(session, schedule):
            key = f"schedule:{schedule.id}:contact:{contact.id}"
            if _already_sent(session, key, period):
                continue
            scope = scope_for(contact.user).resolved(session)
            if scope.kind != "customer":
                continue  # only through a customer's visibility, never the agency's
            if not analytics.progress(session, scope, flt).appointments:
                continue
            language = contact.language or "de"
            try:
                data = campaign_pdf(session, scope, flt, language, project=project, contact=contact)
            except Exception:  # one contact's failing report must not stop the others' mails
                log.exception("monthly report of schedule %s for contact %s failed", schedule.id, contact.id)
                session.rollback()
                failed += 1
                continue
            mail = {
                "kind": MAIL_KIND,
                "recipient": contact.email,
                "language": language,
                "contact": contact,
                "project": project,
                "date_from": first,
                "date_to": last,
                "link": customer_url(
                    f"/portal/reporting/?range=custom&from={first.isoformat()}"
                    f"&to={last.isoformat()}&project={project.id}"
                ),
                "attachments": [(f"report-{project.id}-{period}.pdf", "application/pdf", data)],
            }
            if _send_once(session, RUN_KIND, key, period, mail):
                sent += 1
                schedule.last_sent_month = period
                session.commit()
    if failed:
        log.warning("monthly reports: %s of them could not be made (retried next run)", failed)
    return sent
