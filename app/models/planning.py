"""Planning: projects, jobs, applications, appointments and bookings."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.choices import (
    APPLICATION_STATUSES,
    APPOINTMENT_ORIGINS,
    APPOINTMENT_STATUSES,
    BOOKING_STATUSES,
    CANCEL_ANSWERS,
    CHANGE_REQUEST_KINDS,
    CHANGE_REQUEST_STATUSES,
    JOB_STATUSES,
    check_in,
)
from app.common.models import utcnow
from app.models.crm import Company, Contact, Location
from app.models.promoter import Promoter

project_contact = Table(
    "project_contact",
    Model.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True, index=True),
)

project_manager = Table(
    "project_manager",
    Model.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Project(Model):
    """One campaign for one customer."""

    __tablename__ = "project"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="ck_project_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("company.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    customer: Mapped[Company] = relationship()
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    #: Reporting: the questionnaires of its appointments (day) and jobs (week), unless
    #: a job or appointment has its own (app.reporting.definitions).
    day_questionnaire_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True
    )
    day_questionnaire = relationship("Questionnaire", foreign_keys=[day_questionnaire_id])
    week_questionnaire_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True
    )
    week_questionnaire = relationship("Questionnaire", foreign_keys=[week_questionnaire_id])
    contacts: Mapped[list[Contact]] = relationship(secondary=project_contact)
    managers: Mapped[list[User]] = relationship(secondary=project_manager)
    jobs: Mapped[list[Job]] = relationship(back_populates="project")

    def __repr__(self) -> str:
        return self.name


class Job(Model):
    """The project's work at one location (one job per location per project)."""

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("project_id", "location_id", name="uq_job_project_location"),
        CheckConstraint(check_in("status", JOB_STATUSES), name="ck_job_status"),
        CheckConstraint(
            "planned_days_per_week IS NULL OR planned_days_per_week BETWEEN 1 AND 7",
            name="ck_job_planned_days",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), nullable=False)
    project: Mapped[Project] = relationship(back_populates="jobs")
    location_id: Mapped[int] = mapped_column(
        ForeignKey("location.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    location: Mapped[Location] = relationship()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft", index=True)
    planned_days_per_week: Mapped[int | None] = mapped_column(Integer)
    day_questionnaire_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True
    )
    day_questionnaire = relationship("Questionnaire", foreign_keys=[day_questionnaire_id])
    week_questionnaire_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True
    )
    week_questionnaire = relationship("Questionnaire", foreign_keys=[week_questionnaire_id])
    appointments: Mapped[list[Appointment]] = relationship(back_populates="job")
    applications: Mapped[list[Application]] = relationship(back_populates="job", passive_deletes=True)

    def __repr__(self) -> str:
        return self.title

    @property
    def effective_day_questionnaire(self) -> tuple[object, str] | None:
        """(questionnaire, "job" or "project") the job's appointments use unless they have
        their own (the rule of ``app.reporting.definitions.day_questionnaire_id``)."""
        if self.day_questionnaire is not None:
            return self.day_questionnaire, "job"
        if self.project is not None and self.project.day_questionnaire is not None:
            return self.project.day_questionnaire, "project"
        return None

    @property
    def effective_week_questionnaire(self) -> tuple[object, str] | None:
        """(questionnaire, "job" or "project") of the job's weekly reports."""
        if self.week_questionnaire is not None:
            return self.week_questionnaire, "job"
        if self.project is not None and self.project.week_questionnaire is not None:
            return self.project.week_questionnaire, "project"
        return None


class Application(Model):
    """A promoter applying for a job (Bewerbung)."""

    __tablename__ = "application"
    __table_args__ = (
        UniqueConstraint("promoter_id", "job_id", name="uq_application_promoter_job"),
        CheckConstraint(check_in("status", APPLICATION_STATUSES), name="ck_application_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promoter_id: Mapped[int] = mapped_column(ForeignKey("promoter.id", ondelete="RESTRICT"), nullable=False)
    promoter: Mapped[Promoter] = relationship()
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), nullable=False, index=True)
    job: Mapped[Job] = relationship(back_populates="applications")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="applied")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: When the agency was last mailed about this application (at most one mail an hour).
    agency_mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"{self.promoter} → {self.job}"


class Appointment(Model):
    """One dated slot of a job; local wall-clock times in the configured TIMEZONE."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="ck_appointment_end_after_start"),
        CheckConstraint(check_in("status", APPOINTMENT_STATUSES), name="ck_appointment_status"),
        CheckConstraint(check_in("origin", APPOINTMENT_ORIGINS), name="ck_appointment_origin"),
        Index("ix_appointment_job_date", "job_id", "date"),
        Index("ix_appointment_date_status", "date", "status"),
        # The menu's pending count and the decision screen: status first.
        Index("ix_appointment_status_date", "status", "date"),
        UniqueConstraint("request_token", name="uq_appointment_request_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="RESTRICT"), nullable=False)
    job: Mapped[Job] = relationship(back_populates="appointments")
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    start_time: Mapped[dt.time] = mapped_column(Time, nullable=False)
    end_time: Mapped[dt.time] = mapped_column(Time, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="planned")
    origin: Mapped[str] = mapped_column(String(20), nullable=False, default="agency")
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    proposed_by: Mapped[Contact | None] = relationship()
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: Reporting: this appointment's own day-report questionnaire (else its job's, else
    #: its project's); the actual times come from its approved day report.
    day_questionnaire_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True
    )
    day_questionnaire = relationship("Questionnaire", foreign_keys=[day_questionnaire_id])
    actual_start_time: Mapped[dt.time | None] = mapped_column(Time)
    actual_end_time: Mapped[dt.time | None] = mapped_column(Time)
    #: The customer wizard's token: one proposal per completed wizard, by the database.
    request_token: Mapped[str | None] = mapped_column(String(40))
    # booking.appointment_id cascades in the database; let it (no NULLing first).
    bookings: Mapped[list[Booking]] = relationship(back_populates="appointment", passive_deletes=True)
    __mapper_args__ = {"version_id_col": version}

    @property
    def location_id(self) -> int:
        """The job's location (read-only; for lists and the API)."""
        return self.job.location_id

    @property
    def location_name(self) -> str:
        return self.job.location.name

    @property
    def effective_day_questionnaire(self) -> tuple[object, str] | None:
        """(questionnaire, "appointment", "job" or "project") of the day report."""
        if self.day_questionnaire is not None:
            return self.day_questionnaire, "appointment"
        return self.job.effective_day_questionnaire if self.job is not None else None

    def __repr__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Booking(Model):
    """A promoter requested for, or booked on, an appointment."""

    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("appointment_id", "promoter_id", name="uq_booking_appointment_promoter"),
        CheckConstraint(check_in("status", BOOKING_STATUSES), name="ck_booking_status"),
        CheckConstraint(check_in("cancel_answer", CANCEL_ANSWERS), name="ck_booking_cancel_answer"),
        Index("ix_booking_promoter_status", "promoter_id", "status"),
        # the cockpit: requests unanswered for 48 hours, cancellation requests waiting
        Index(
            "ix_booking_requested_created",
            "created_at",
            sqlite_where=text("status = 'requested'"),
            postgresql_where=text("status = 'requested'"),
        ),
        Index(
            "ix_booking_cancel_pending",
            "appointment_id",
            sqlite_where=text("cancel_requested_at IS NOT NULL AND cancel_answer IS NULL"),
            postgresql_where=text("cancel_requested_at IS NOT NULL AND cancel_answer IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), nullable=False
    )
    appointment: Mapped[Appointment] = relationship(back_populates="bookings")
    promoter_id: Mapped[int] = mapped_column(ForeignKey("promoter.id", ondelete="RESTRICT"), nullable=False)
    promoter: Mapped[Promoter] = relationship()
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="requested")
    #: Why the promoter declined the request (asked for when declining).
    decline_reason: Mapped[str | None] = mapped_column(Text)
    #: The promoter asked the agency to cancel this confirmed booking (when, why); the booking
    #: stays confirmed until the agency answers (``cancel_answer``: granted or refused).
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancel_answer: Mapped[str | None] = mapped_column(String(20))
    cancel_answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def cancel_state(self) -> str | None:
        """The promoter's cancellation request: pending, granted, refused, or None (never asked)."""
        if self.cancel_requested_at is None:
            return None
        return self.cancel_answer or ("pending" if self.status == "confirmed" else None)

    @property
    def cancel_pending(self) -> bool:
        """The promoter's cancellation request waits for the agency's answer."""
        return (
            self.status == "confirmed" and self.cancel_requested_at is not None and self.cancel_answer is None
        )

    def __repr__(self) -> str:
        return f"{self.promoter} @ {self.appointment}"


class ChangeRequest(Model):
    """A customer contact asks the agency to cancel or move an existing appointment.

    At most one request per appointment waits for a decision (a partial unique index).
    """

    __tablename__ = "change_request"
    __table_args__ = (
        CheckConstraint(check_in("kind", CHANGE_REQUEST_KINDS), name="ck_change_request_kind"),
        CheckConstraint(check_in("status", CHANGE_REQUEST_STATUSES), name="ck_change_request_status"),
        CheckConstraint(
            "kind = 'cancel' OR (new_date IS NOT NULL AND new_start_time IS NOT NULL "
            "AND new_end_time IS NOT NULL AND new_end_time > new_start_time)",
            name="ck_change_request_move",
        ),
        Index(
            "uq_change_request_pending",
            "appointment_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), nullable=False, index=True
    )
    appointment: Mapped[Appointment] = relationship()
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending", index=True)
    new_date: Mapped[dt.date | None] = mapped_column(Date)
    new_start_time: Mapped[dt.time | None] = mapped_column(Time)
    new_end_time: Mapped[dt.time | None] = mapped_column(Time)
    #: The contact's reason (required).
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    requested_by: Mapped[Contact | None] = relationship()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"{self.kind} {self.appointment}"
