"""Import jobs: an import from its preview to its end, kept in the database so that
every web host and the scheduler process see the same state."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.common.choices import check_in
from app.common.models import utcnow

IMPORT_KINDS = {"locations": "locations", "contacts": "contacts", "appointments": "appointments"}
#: pending: previewed, waiting for the user's confirmation; queued: confirmed, waiting for a
#: runner; running: claimed by a runner (``claimed_by`` until ``lease_until``); done; failed.
IMPORT_STATES = {s: s for s in ("pending", "queued", "running", "done", "failed")}


class ImportJob(Model):
    """One import file: its checked rows, who started it, its progress and its outcome."""

    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint(check_in("kind", IMPORT_KINDS), name="ck_import_job_kind"),
        CheckConstraint(check_in("state", IMPORT_STATES), name="ck_import_job_state"),
        Index("ix_import_job_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unguessable id in the import's URLs.
    token: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The planning job an appointment import belongs to.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    #: The language of the user who confirmed it (messages of a run in the scheduler).
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="de")
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Rows written and committed so far (the next run resumes after them).
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: The checked rows as JSON; removed when the import has finished.
    rows: Mapped[str | None] = mapped_column(Text)
    #: JSON list of [row, column, message] when the rows no longer passed the check.
    errors: Mapped[str | None] = mapped_column(Text)
    #: The file's row where writing failed.
    failed_row: Mapped[int | None] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ImportWrittenRow(Model):
    """A row an unfinished import has committed (its id in the kind's table), so that a
    failed import can remove exactly what it wrote. Removed when the import finishes."""

    __tablename__ = "import_written_row"

    import_job_id: Mapped[int] = mapped_column(
        ForeignKey("import_job.id", ondelete="CASCADE"), primary_key=True
    )
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True)


EXPORT_KINDS = {k: k for k in ("locations", "contacts", "projects", "appointments")}
EXPORT_FORMATS = {"csv": "csv", "xlsx": "xlsx"}
#: queued: waiting for a runner; running: claimed (``claimed_by`` until ``lease_until``);
#: done: the file is in the instance folder; failed.
EXPORT_STATES = {s: s for s in ("queued", "running", "done", "failed")}


class ExportJob(Model):
    """A large export written by the scheduler into a file of the instance folder, which
    only the user who asked for it may download (removed with the row after a day)."""

    __tablename__ = "export_job"
    __table_args__ = (
        CheckConstraint(check_in("kind", EXPORT_KINDS), name="ck_export_job_kind"),
        CheckConstraint(check_in("format", EXPORT_FORMATS), name="ck_export_job_format"),
        CheckConstraint(check_in("state", EXPORT_STATES), name="ck_export_job_state"),
        Index("ix_export_job_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unguessable id in the export's URLs and of its file.
    token: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    format: Mapped[str] = mapped_column(String(4), nullable=False)
    #: Only this project's appointments (the appointment export of one project).
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    #: The language of the user who asked (headers and labels of the file).
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="de")
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
