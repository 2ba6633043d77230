"""The outbox of mail: one row per mail, written with the change that causes it."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.choices import check_in
from app.common.models import utcnow

OUTBOX_STATES = {"pending": "pending", "sending": "sending", "sent": "sent", "failed": "failed"}


class OutboxMessage(Model):
    """One mail, written in the same transaction as the change that causes it.

    The sender claims one row at a time (status ``sending`` with its claim
    token) before talking to SMTP and renews ``claimed_at`` while it sends, so
    two live senders never send the same row; a claim not renewed for
    OUTBOX_LEASE_SECONDS belongs to a dead sender and is taken up again. The
    stored Message-ID lets receivers recognise a repeat after such a crash.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(check_in("status", OUTBOX_STATES), name="ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="de")
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="OutboxAttachment.id",
    )

    def __repr__(self) -> str:
        return f"{self.subject} → {self.recipient}"


class OutboxAttachment(Model):
    """A file sent with an outbox mail (e.g. the monthly campaign report as PDF)."""

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
    #: ASCII file name made by the application (never a user's upload name).
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
