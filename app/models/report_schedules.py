"""Monthly campaign reports by mail: a schedule per project, sent to the customer's
contacts (all the project's contacts, or the ones chosen) in each contact's language.

Which month went to whom is recorded in ``digest_run`` (kind "monthly_report", unique per
schedule, contact and month) in the same transaction as the mail, so two scheduler
processes never send a month twice; ``last_sent_month`` is for the agency's screen.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.models import utcnow
from app.models.crm import Contact
from app.models.planning import Project

report_schedule_contact = Table(
    "report_schedule_contact",
    Model.metadata,
    Column("schedule_id", ForeignKey("report_schedule.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ReportSchedule(Model):
    """The monthly PDF of a project's campaign report to its customer's contacts."""

    __tablename__ = "report_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    project: Mapped[Project] = relationship()
    #: Chosen recipients; none chosen = every contact linked to the project.
    contacts: Mapped[list[Contact]] = relationship(secondary=report_schedule_contact, order_by=Contact.id)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: "YYYY-MM" of the last month whose report went out (to at least one contact).
    last_sent_month: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    @property
    def recipients(self) -> str:
        """The chosen contacts' names, or that every contact of the project gets it."""
        if not self.contacts:
            return str(_l("All contacts of the project"))
        return ", ".join(c.full_name for c in self.contacts)

    def __repr__(self) -> str:
        return f"{self.project}"
