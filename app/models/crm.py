"""CRM: territories, companies, contacts, locations, notes and tasks."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.common.choices import (
    CHANGE_MAIL_MODES,
    COMPANY_KINDS,
    FEDERAL_STATES,
    LANGUAGES,
    SALUTATIONS,
    TASK_KINDS,
    check_in,
)
from app.common.models import blank_to_none, utcnow

contact_territory = Table(
    "contact_territory",
    Model.metadata,
    Column("contact_id", ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "territory_id",
        ForeignKey("territory.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class TerritoryCycleError(ValueError):
    """Raised when a territory would become its own ancestor."""


class Territory(Model):
    """A named region; set on contacts and locations, it decides visibility."""

    __tablename__ = "territory"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="ck_territory_not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id", ondelete="RESTRICT"), index=True)
    parent: Mapped[Territory | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Territory]] = relationship(back_populates="parent")

    def ancestors(self) -> list[Territory]:
        """Parents up to the root; raises TerritoryCycleError on a cycle."""
        seen = {id(self)}
        chain = []
        node = self.parent
        while node is not None:
            if id(node) in seen:
                raise TerritoryCycleError(self.name)
            seen.add(id(node))
            chain.append(node)
            node = node.parent
        return chain

    @property
    def path(self) -> str:
        try:
            names = [t.name for t in reversed(self.ancestors())]
        except TerritoryCycleError:
            names = []
        return " › ".join([*names, self.name])

    def __repr__(self) -> str:
        return self.name


class Company(Model):
    __tablename__ = "company"
    __table_args__ = (CheckConstraint(check_in("kind", COMPANY_KINDS), name="ck_company_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="customer", index=True)
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2), default="DE")
    notes: Mapped[str | None] = mapped_column(Text)

    contacts: Mapped[list[Contact]] = relationship(back_populates="company")
    locations: Mapped[list[Location]] = relationship(back_populates="retail_chain")
    note_entries: Mapped[list[Note]] = relationship(back_populates="company", cascade="all, delete-orphan")
    tasks: Mapped[list[Task]] = relationship(back_populates="company", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return self.name


class Contact(Model):
    """A person at a company; customer contacts may log into the customer system."""

    __tablename__ = "contact"
    __table_args__ = (
        CheckConstraint(
            "salutation IS NULL OR " + check_in("salutation", SALUTATIONS),
            name="ck_contact_salutation",
        ),
        CheckConstraint(check_in("language", LANGUAGES), name="ck_contact_language"),
        CheckConstraint(check_in("change_mail", CHANGE_MAIL_MODES), name="ck_contact_change_mail"),
        Index("ix_contact_name", "last_name", "first_name"),
        UniqueConstraint("feed_token", name="uq_contact_feed_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    # joined: a contact is always shown with its company ("Name (Company)")
    company: Mapped[Company] = relationship(back_populates="contacts", lazy="joined")
    salutation: Mapped[str | None] = mapped_column(String(5))
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    position: Mapped[str | None] = mapped_column(String(150))
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="de")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"), unique=True)
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    #: The contact does not want the weekly digest of next week's appointments.
    digest_opt_out: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    #: When the contact hears of changed appointments: "immediate", "daily" or "weekly".
    change_mail: Mapped[str] = mapped_column(
        String(10), nullable=False, default="immediate", server_default="immediate"
    )
    #: Secret of the private iCalendar feed; None = no feed (revoked or never made).
    feed_token: Mapped[str | None] = mapped_column(String(64))
    territories: Mapped[list[Territory]] = relationship(secondary=contact_territory)
    notes: Mapped[list[Note]] = relationship(back_populates="contact", cascade="all, delete-orphan")
    tasks: Mapped[list[Task]] = relationship(back_populates="contact", cascade="all, delete-orphan")

    @validates("email")
    def _normalise_email(self, _key, value):
        value = blank_to_none(value)
        return value.lower() if value else None

    @validates("salutation", "phone", "position")
    def _blank_to_none(self, _key, value):
        return blank_to_none(value)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"{self.full_name} ({self.company.name})" if self.company else self.full_name


class Location(Model):
    """A store (Standort / Einsatzhaus / Markt) where promotion takes place."""

    __tablename__ = "location"
    __table_args__ = (
        CheckConstraint(check_in("federal_state", FEDERAL_STATES), name="ck_location_federal_state"),
        Index("ix_location_city", "city"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    retail_chain_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id", ondelete="RESTRICT"), index=True
    )
    retail_chain: Mapped[Company | None] = relationship(back_populates="locations")
    street: Mapped[str] = mapped_column(String(200), nullable=False)
    postcode: Mapped[str] = mapped_column(String(10), nullable=False)
    city: Mapped[str] = mapped_column(String(100), nullable=False)
    federal_state: Mapped[str] = mapped_column(String(2), nullable=False)
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True
    )
    territory: Mapped[Territory | None] = relationship()

    def __repr__(self) -> str:
        return f"{self.name}, {self.city}"


#: Notes and tasks belong to a contact or to a company — exactly one of them.
ONE_OWNER = (
    "(contact_id IS NOT NULL AND company_id IS NULL) OR (contact_id IS NULL AND company_id IS NOT NULL)"
)


class Note(Model):
    """Free text on a contact or on a company."""

    __tablename__ = "note"
    __table_args__ = (CheckConstraint(ONE_OWNER, name="ck_note_one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    contact: Mapped[Contact | None] = relationship(back_populates="notes")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    company: Mapped[Company | None] = relationship(back_populates="note_entries")
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    @property
    def about(self) -> str:
        return str(self.contact or self.company or "")

    def __repr__(self) -> str:
        return self.text[:40]


class Task(Model):
    """A to-do on a contact or a company (Aufgabe / Wiedervorlage), e.g. a planned call."""

    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint(check_in("kind", TASK_KINDS), name="ck_task_kind"),
        CheckConstraint(ONE_OWNER, name="ck_task_one_owner"),
        Index("ix_task_open_due", "done", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    contact: Mapped[Contact | None] = relationship(back_populates="tasks")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    company: Mapped[Company | None] = relationship(back_populates="tasks")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="call")
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    @property
    def about(self) -> str:
        return str(self.contact or self.company or "")

    def __repr__(self) -> str:
        return self.title
