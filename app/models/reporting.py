"""Campaign reporting: questionnaires (versioned), reports, their answers and files.

A questionnaire is attached to a project, a job or an appointment (columns
``day_questionnaire_id`` / ``week_questionnaire_id`` on those tables); the
appointment's own wins over its job's, the job's over its project's. Reports
always point to the questionnaire *version* they were filled in with: a version
that has reports is never changed again (editing creates the next version).

Answers are rows, not a JSON blob, so that the customer's figures can be summed
in SQL (GROUP BY ``question_key``): one row per answered question, per selected
choice of a multiple choice, and per row of a repeating group (``item``).
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.choices import QUESTION_KINDS, QUESTIONNAIRE_KINDS, REPORT_STATUSES, check_in
from app.common.models import utcnow
from app.models.planning import Appointment, Job
from app.models.promoter import Promoter


class Questionnaire(Model):
    """A named questionnaire of one kind (day report or weekly report)."""

    __tablename__ = "questionnaire"
    __table_args__ = (CheckConstraint(check_in("kind", QUESTIONNAIRE_KINDS), name="ck_questionnaire_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="day")
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number"
    )

    def __repr__(self) -> str:
        return self.name


class QuestionnaireVersion(Model):
    """One frozen state of a questionnaire's pages and questions.

    ``published_at`` None = a draft (not offered to promoters). Reports are
    started with the newest published version.
    """

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), nullable=False
    )
    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    pages: Mapped[list[QuestionnairePage]] = relationship(
        back_populates="version", order_by="QuestionnairePage.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="version", order_by="Question.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"{self.questionnaire} v{self.number}"


class QuestionnairePage(Model):
    __tablename__ = "questionnaire_page"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_version.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version: Mapped[QuestionnaireVersion] = relationship(back_populates="pages")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    title_de: Mapped[str] = mapped_column(String(200), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(200))
    questions: Mapped[list[Question]] = relationship(
        back_populates="page",
        order_by="Question.position",
        primaryjoin="and_(Question.page_id == QuestionnairePage.id, Question.parent_id.is_(None))",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return self.title_de


class Question(Model):
    """One question of a version; ``kind`` "group" holds sub-questions (``parent_id``)
    that are answered once per row (e.g. per product).

    ``key`` is stable across versions (answers are stored by key), unique in a version.
    ``choices``: one choice per line, ``code | German | English``.
    """

    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("version_id", "key", name="uq_question_version_key"),
        CheckConstraint(check_in("kind", QUESTION_KINDS), name="ck_question_kind"),
        CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="ck_question_min_max"
        ),
        CheckConstraint(
            "min_count IS NULL OR max_count IS NULL OR min_count <= max_count", name="ck_question_counts"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_version.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[QuestionnaireVersion] = relationship(back_populates="questions")
    page_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_page.id", ondelete="CASCADE"), nullable=False, index=True
    )
    page: Mapped[QuestionnairePage] = relationship(foreign_keys=[page_id])
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    parent: Mapped[Question | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Question]] = relationship(back_populates="parent", order_by="Question.position")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    key: Mapped[str] = mapped_column(String(60), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    label_de: Mapped[str] = mapped_column(String(300), nullable=False)
    label_en: Mapped[str | None] = mapped_column(String(300))
    help_de: Mapped[str | None] = mapped_column(Text)
    help_en: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Numbers: unit shown after the field, inclusive bounds.
    unit: Mapped[str | None] = mapped_column(String(30))
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    #: Photos, files and groups: how many (rows) at least / at most.
    min_count: Mapped[int | None] = mapped_column(Integer)
    max_count: Mapped[int | None] = mapped_column(Integer)
    choices: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"{self.key}: {self.label_de}"


class Report(Model):
    """A promoter's day report on one appointment, or weekly report on one job and week."""

    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(check_in("kind", QUESTIONNAIRE_KINDS), name="ck_report_kind"),
        CheckConstraint(check_in("status", REPORT_STATUSES), name="ck_report_status"),
        CheckConstraint(
            "(kind = 'day' AND appointment_id IS NOT NULL AND week_start IS NULL) OR "
            "(kind = 'week' AND appointment_id IS NULL AND week_start IS NOT NULL)",
            name="ck_report_target",
        ),
        CheckConstraint("break_minutes IS NULL OR break_minutes >= 0", name="ck_report_break"),
        # one day report per appointment, one weekly report per job and week
        UniqueConstraint("appointment_id", name="uq_report_appointment"),
        UniqueConstraint("job_id", "week_start", name="uq_report_job_week"),
        # the agency's queue (oldest submitted first) and the customer's approved reports
        Index("ix_report_status_submitted", "status", "submitted_at"),
        Index("ix_report_job_status", "job_id", "status"),
        Index("ix_report_promoter_status", "promoter_id", "status"),
        # the reporting area's weekly reports of a period, over all jobs (app.reporting.analytics)
        Index("ix_report_status_week", "status", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="day")
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"))
    appointment: Mapped[Appointment | None] = relationship()
    #: Always set (a day report's appointment's job): the visibility rule filters on it.
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), nullable=False)
    job: Mapped[Job] = relationship()
    #: Weekly reports: the Monday of the week.
    week_start: Mapped[dt.date | None] = mapped_column(Date)
    questionnaire_version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_version.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    promoter_id: Mapped[int] = mapped_column(ForeignKey("promoter.id", ondelete="RESTRICT"), nullable=False)
    promoter: Mapped[Promoter] = relationship()
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    #: Day reports: what really happened (local wall-clock times).
    actual_start: Mapped[dt.time | None] = mapped_column(Time)
    actual_end: Mapped[dt.time | None] = mapped_column(Time)
    break_minutes: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    #: The agency's comment when it returned the report for correction.
    return_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    answers: Mapped[list[ReportAnswer]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True
    )
    files: Mapped[list[ReportFile]] = relationship(
        back_populates="report", cascade="all, delete-orphan", passive_deletes=True, order_by="ReportFile.id"
    )
    __mapper_args__ = {"version_id_col": revision}

    def __repr__(self) -> str:
        if self.kind == "week":
            return f"{self.job} {self.week_start:%d.%m.%Y}"
        return f"{self.appointment}"


class ReportAnswer(Model):
    """One value: ``value_number`` for numbers and yes/no (1/0), ``value_text`` for the
    rest (dates ISO, times HH:MM, choice codes). A group's sub-answer has ``group_key``
    and its row ``item`` (0, 1, …); other answers have item 0 and no group_key."""

    __tablename__ = "report_answer"
    __table_args__ = (Index("ix_report_answer_report_key", "report_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), nullable=False)
    report: Mapped[Report] = relationship(back_populates="answers")
    question_key: Mapped[str] = mapped_column(String(60), nullable=False)
    group_key: Mapped[str | None] = mapped_column(String(60))
    item: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[float | None] = mapped_column(Float)


class ReportFile(Model):
    """A photo or file of a report, stored by :mod:`app.reporting.storage` under
    ``storage_key`` (never in the static folder; served only after a visibility check)."""

    __tablename__ = "report_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    report: Mapped[Report] = relationship(back_populates="files")
    question_key: Mapped[str] = mapped_column(String(60), nullable=False)
    group_key: Mapped[str | None] = mapped_column(String(60))
    item: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    #: Photos: a small JPEG next to the image.
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    byte_size: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ReportReminder(Model):
    """A missing-report reminder was sent for this appointment (the primary key makes it
    once, even with two scheduler processes)."""

    __tablename__ = "report_reminder"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
