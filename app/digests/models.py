"""The ledger of digests sent."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import utcnow


class DigestRun(Model):
    """A digest sent to one recipient for one period — at most once, by this unique row."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("kind", "recipient_key", "period", name="uq_digest_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    recipient_key: Mapped[str] = mapped_column(String(100), nullable=False)
    period: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    outbox_message_id: Mapped[int | None] = mapped_column(Integer)
