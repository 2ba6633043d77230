"""The only code that changes reports: their state, answers, actual times and files.

Report states (``app.common.choices.REPORT_STATUSES``):

- ``draft`` → ``submitted`` (the booked promoter submits a complete report);
- ``submitted`` → ``approved`` (the agency; a day report's appointment becomes done with
  the report's actual times) or ``returned`` (the agency, with a comment; the promoter is
  mailed, corrects and submits again: ``returned`` → ``submitted``).

Each part of the workflow has its section below.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l  # noqa: F401
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from app.models.promoter import Promoter
from app.models.reporting import Report, ReportFile  # noqa: F401
from app.reporting.files import UploadError, remove_file, store_upload
from app.security.systems import system_of
from app.security.visibility import scope_for


class ReportError(ValueError):
    """A refused reporting step; the message is for the user."""


# -- capture: the promoter starts, saves and submits a report ----------------


# -- files: photos and documents of a report ---------------------------------


#: Report states in which its promoter may still change it.
PROMOTER_EDITABLE = ("draft", "returned")


def may_edit_files(
    session: Session, report: Report, actor: Promoter | User | None, status: str | None = None
) -> bool:
    """Whether ``actor`` may add or remove files of ``report``: its promoter while it is a
    draft or returned; the agency while it is not approved. ``status``: the report's
    current status if known (default: the loaded one)."""
    status = status or report.status
    if actor is None:
        return False
    if isinstance(actor, Promoter):
        return bool(actor.active) and actor.id == report.promoter_id and status in PROMOTER_EDITABLE
    system = system_of(actor)
    if system == "agency":
        return status != "approved"
    if system == "promoter":
        promoter = session.scalar(scope_for(actor).promoter())
        return promoter is not None and may_edit_files(session, report, promoter, status)
    return False


def _check_files_editable(session: Session, report: Report, actor: Promoter | User) -> None:
    """Lock the report row (PostgreSQL: a concurrent submit or approval waits, or is
    waited for) and check its current status."""
    status = session.scalar(select(Report.status).where(Report.id == report.id).with_for_update())
    if status is None or not may_edit_files(session, report, actor, status):
        raise ReportError(_l("This report cannot be changed any more."))


def add_file(
    session: Session,
    report: Report,
    actor: Promoter | User,
    question_key: str,
    upload: FileStorage | bytes,
    *,
    group_key: str | None = None,
    item: int = 0,
) -> ReportFile:
    """Store a photo or file for a question of ``report`` (flushed, not committed: the
    caller commits; a rollback deletes the stored bytes again)."""
    _check_files_editable(session, report, actor)
    try:
        return store_upload(session, report, question_key, upload, group_key=group_key, item=item)
    except UploadError as error:
        raise ReportError(error.message) from error


def delete_file(session: Session, report_file: ReportFile, actor: Promoter | User) -> None:
    """Remove a photo or file of a report (its bytes go after the commit)."""
    _check_files_editable(session, report_file.report, actor)
    remove_file(session, report_file)


# -- review: the agency approves, returns or corrects a report ----------------


# -- reminders: missing reports ----------------------------------------------
