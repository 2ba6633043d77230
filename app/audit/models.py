"""One row per recorded change or login (table ``audit_log``)."""

from __future__ import annotations

import datetime as dt
import json

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.choices import check_in
from app.common.models import utcnow

AUDIT_ACTIONS = ("create", "update", "delete", "login", "login_failed")


class AuditEntry(Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(check_in("action", dict.fromkeys(AUDIT_ACTIONS)), name="ck_audit_log_action"),
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When (naive UTC).
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    #: The user name at the time (kept when the user is deleted); None = the system.
    username: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The table name of the changed row (``ab_user`` for logins).
    entity: Mapped[str] = mapped_column(String(50), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(String(300))
    #: JSON ``{field: [old, new]}``.
    changes: Mapped[str | None] = mapped_column(Text)

    @property
    def change_map(self) -> dict[str, list]:
        try:
            return json.loads(self.changes) if self.changes else {}
        except ValueError:
            return {}

    def __repr__(self) -> str:
        return f"{self.action} {self.entity} {self.entity_id or ''}".strip()
