"""Promoters: the freelancers who work appointments."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.common.choices import LANGUAGES, check_in
from app.common.models import blank_to_none


class Promoter(Model):
    __tablename__ = "promoter"
    __table_args__ = (
        Index("ix_promoter_name", "last_name", "first_name"),
        UniqueConstraint("feed_token", name="uq_promoter_feed_token"),
        CheckConstraint(check_in("language", LANGUAGES), name="ck_promoter_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    #: German postcode of the promoter's home, for "open jobs near me".
    postcode: Mapped[str | None] = mapped_column(String(10))
    #: The language of the promoter's mails.
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="de", server_default="de")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"), unique=True)
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)
    #: Secret of the private iCalendar feed; None = no feed (revoked or never made).
    feed_token: Mapped[str | None] = mapped_column(String(64))
    unavailabilities: Mapped[list[Unavailability]] = relationship(
        back_populates="promoter", cascade="all, delete-orphan", order_by="Unavailability.start_date"
    )

    @validates("email")
    def _normalise_email(self, _key, value):
        value = blank_to_none(value)
        return value.lower() if value else None

    @validates("phone", "city", "postcode")
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


class Unavailability(Model):
    """Days a promoter cannot work (holidays, other jobs); requests on them are refused."""

    __tablename__ = "unavailability"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="ck_unavailability_period"),
        Index("ix_unavailability_promoter_period", "promoter_id", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promoter_id: Mapped[int] = mapped_column(ForeignKey("promoter.id", ondelete="CASCADE"), nullable=False)
    promoter: Mapped[Promoter] = relationship(back_populates="unavailabilities")
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"{self.start_date:%d.%m.%Y}–{self.end_date:%d.%m.%Y}"
