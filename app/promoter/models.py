"""Promoters: the freelancers who work appointments."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.common.models import blank_to_none


class Promoter(Model):
    __tablename__ = "promoter"
    __table_args__ = (Index("ix_promoter_name", "last_name", "first_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"), unique=True)
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)

    @validates("email")
    def _normalise_email(self, _key, value):
        value = blank_to_none(value)
        return value.lower() if value else None

    @validates("phone", "city")
    def _blank_to_none(self, _key, value):
        return blank_to_none(value)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def display_name(self) -> str:
        """What customers may see: first name and initial of the last name."""
        return f"{self.first_name} {self.last_name[:1]}."

    def __repr__(self) -> str:
        return self.full_name
