"""The record of appointment changes and of who still has to hear of them."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.choices import CHANGE_KINDS, check_in
from app.common.models import utcnow
from app.models.crm import Contact
from app.models.planning import Appointment


class AppointmentChange(Model):
    """One change of an appointment: what it was and became at that moment (a snapshot,
    so a summary tells the change even if the appointment changes again later)."""

    __tablename__ = "appointment_change"
    __table_args__ = (CheckConstraint(check_in("kind", CHANGE_KINDS), name="ck_appointment_change_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), nullable=False, index=True
    )
    appointment: Mapped[Appointment] = relationship()
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    start_time: Mapped[dt.time] = mapped_column(Time, nullable=False)
    end_time: Mapped[dt.time] = mapped_column(Time, nullable=False)
    before_date: Mapped[dt.date | None] = mapped_column(Date)
    before_start_time: Mapped[dt.time | None] = mapped_column(Time)
    before_end_time: Mapped[dt.time | None] = mapped_column(Time)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ChangeNotice(Model):
    """A customer contact to be told of one change; ``sent_at`` is set when the mail
    (immediate, daily summary or weekly mail) is queued — in the same transaction."""

    __tablename__ = "change_notice"
    __table_args__ = (
        UniqueConstraint("change_id", "contact_id", name="uq_change_notice_once"),
        Index("ix_change_notice_contact_sent", "contact_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_change.id", ondelete="CASCADE"), nullable=False, index=True
    )
    change: Mapped[AppointmentChange] = relationship()
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), nullable=False)
    contact: Mapped[Contact] = relationship()
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outbox_message_id: Mapped[int | None] = mapped_column(Integer)
