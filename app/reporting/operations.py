"""The only code that changes reports: their state, answers, actual times and files.

Report states (``app.common.choices.REPORT_STATUSES``):

- ``draft`` → ``submitted`` (the booked promoter submits a complete report);
- ``submitted`` → ``approved`` (the agency; a day report's appointment becomes done with
  the report's actual times) or ``returned`` (the agency, with a comment; the promoter is
  mailed, corrects and submits again: ``returned`` → ``submitted``).

Each part of the workflow has its section below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l  # noqa: F401
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from app.common.models import utcnow
from app.common.timezone import local_now
from app.models.planning import Appointment, Booking, Job
from app.models.promoter import Promoter
from app.models.reporting import Report, ReportAnswer, ReportFile  # noqa: F401
from app.reporting import answers as answer_rules
from app.reporting import definitions
from app.reporting.files import UploadError, remove_file, store_upload
from app.security.systems import system_of
from app.security.visibility import scope_for


class ReportError(ValueError):
    """A refused reporting step; the message is for the user."""


# -- capture: the promoter starts, saves and submits a report ----------------

#: Appointment states a day report can be written for.
REPORTABLE_APPOINTMENTS = ("planned", "done")
#: Report states the promoter may still change.
EDITABLE_REPORTS = ("draft", "returned")


class ReportInputError(ReportError):
    """The form has mistakes; ``errors`` maps each field name to its message."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__(_l("Please correct the marked fields."))
        self.errors = dict(errors)


def _has_confirmed_booking(session: Session, promoter: Promoter, appointment_ids) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Booking.appointment_id.in_(appointment_ids),
                    Booking.promoter_id == promoter.id,
                    Booking.status == "confirmed",
                )
            )
        )
    )


def _week_appointments(job_id: int, week_start: dt.date):
    return select(Appointment.id).where(
        Appointment.job_id == job_id,
        Appointment.date.between(week_start, week_start + dt.timedelta(days=6)),
        Appointment.status.in_(REPORTABLE_APPOINTMENTS),
    )


def has_started(appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """The appointment's start (local wall-clock time) has come."""
    now = now or local_now()
    return (appointment.date, appointment.start_time) <= (now.date(), now.time().replace(tzinfo=None))


def _may_report_day(session: Session, promoter: Promoter, appointment: Appointment) -> None:
    if appointment.status not in REPORTABLE_APPOINTMENTS:
        raise ReportError(_l("This appointment has been cancelled; no report can be written for it."))
    if not _has_confirmed_booking(session, promoter, [appointment.id]):
        raise ReportError(_l("Only the promoter with a confirmed booking can report on this appointment."))


def _may_report_week(session: Session, promoter: Promoter, job_id: int, week_start: dt.date) -> None:
    if not _has_confirmed_booking(session, promoter, _week_appointments(job_id, week_start)):
        raise ReportError(_l("You had no confirmed appointment in this job in this week."))


def start_day_report(session: Session, promoter: Promoter, appointment: Appointment) -> Report:
    """The promoter's day report on ``appointment`` (created as a draft with the current version
    of its questionnaire, or the existing one). Refused unless the promoter is booked on it
    (confirmed), it is planned or done, it has started, and a published questionnaire applies."""
    _may_report_day(session, promoter, appointment)
    if not has_started(appointment):
        raise ReportError(_l("The report can be written once the appointment has started."))
    existing = session.scalar(select(Report).where(Report.appointment_id == appointment.id))
    if existing is not None:
        if existing.promoter_id != promoter.id:
            raise ReportError(_l("Another promoter has already reported on this appointment."))
        return existing
    questionnaire_id = definitions.day_questionnaire_id(session, appointment)
    version = definitions.current_version(session, questionnaire_id) if questionnaire_id else None
    if version is None:
        raise ReportError(_l("No report is asked for this appointment."))
    report = Report(
        kind="day",
        appointment_id=appointment.id,
        job_id=appointment.job_id,
        questionnaire_version_id=version.id,
        promoter_id=promoter.id,
        status="draft",
        updated_by_id=promoter.user_id,
    )
    return _insert(session, report, select(Report).where(Report.appointment_id == appointment.id))


def start_week_report(session: Session, promoter: Promoter, job: Job, week_start: dt.date) -> Report:
    """The promoter's weekly report on ``job`` for the week beginning ``week_start`` (a Monday).
    Refused unless they had a confirmed appointment in the job that week, the week has begun and
    a published weekly questionnaire applies."""
    if week_start.weekday() != 0:
        raise ReportError(_l("A week starts on a Monday."))
    _may_report_week(session, promoter, job.id, week_start)
    if week_start > local_now().date():
        raise ReportError(_l("The weekly report can be written once the week has begun."))
    existing = session.scalar(select(Report).where(Report.job_id == job.id, Report.week_start == week_start))
    if existing is not None:
        if existing.promoter_id != promoter.id:
            raise ReportError(_l("Another promoter has already reported on this week."))
        return existing
    questionnaire_id = definitions.week_questionnaire_id(session, job)
    version = definitions.current_version(session, questionnaire_id) if questionnaire_id else None
    if version is None:
        raise ReportError(_l("No weekly report is asked for this job."))
    report = Report(
        kind="week",
        job_id=job.id,
        week_start=week_start,
        questionnaire_version_id=version.id,
        promoter_id=promoter.id,
        status="draft",
        updated_by_id=promoter.user_id,
    )
    return _insert(
        session, report, select(Report).where(Report.job_id == job.id, Report.week_start == week_start)
    )


def _insert(session: Session, report: Report, same) -> Report:
    """Add and commit ``report``; a second click that created it a moment ago gets that one."""
    session.add(report)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(same)
        if existing is None or existing.promoter_id != report.promoter_id:
            raise ReportError(_l("Another promoter has already reported on this appointment.")) from None
        return existing
    return report


def _file_counts(
    report: Report, removing: set[int], uploads: Mapping[tuple[str, str | None, int], list[FileStorage]]
) -> dict[tuple[str, str | None, int], int]:
    counts: dict[tuple[str, str | None, int], int] = {}
    for stored in report.files:
        if stored.id not in removing:
            place = (stored.question_key, stored.group_key, stored.item)
            counts[place] = counts.get(place, 0) + 1
    for place, files in uploads.items():
        counts[place] = counts.get(place, 0) + len(files)
    return counts


def save_report(
    session: Session,
    report: Report,
    promoter: Promoter,
    values: answer_rules.FormValues,
    *,
    submit: bool,
    revision: int | None = None,
    uploads: Mapping[tuple[str, str | None, int], list[FileStorage]] | None = None,
    remove_files: Iterable[int] = (),
) -> Report:
    """Save the promoter's answers (a draft, or ``submit``: complete and handed in).

    Only the report's promoter, only while it is a draft or returned, only while their booking
    stands. ``revision``: the report's revision the form was shown with (a stale form is
    refused). ``uploads``: new files by (question key, group key, row); ``remove_files``: ids of
    the report's files to remove. Form mistakes raise :class:`ReportInputError` and nothing is
    changed (new files are stored only once the form is right). Commits.
    """
    uploads = {place: files for place, files in (uploads or {}).items() if files}
    if report.promoter_id != promoter.id:
        raise ReportError(_l("This is not your report."))
    if report.status not in EDITABLE_REPORTS:
        raise ReportError(_l("This report has been submitted and can no longer be changed."))
    if revision is not None and revision != report.revision:
        raise ReportError(
            _l("This report was changed meanwhile (in another window?). Please check it again.")
        )
    if report.kind == "day":
        _may_report_day(session, promoter, report.appointment)  # type: ignore[arg-type]
    else:
        _may_report_week(session, promoter, report.job_id, report.week_start)  # type: ignore[arg-type]
    removing = {stored.id for stored in report.files if stored.id in set(remove_files)}
    checked = answer_rules.check(
        report.questionnaire_version,
        values,
        submit=submit,
        file_counts=_file_counts(report, removing, uploads),
        day_report=report.kind == "day",
    )
    if not checked.ok:
        raise ReportInputError(checked.errors)
    for stored in [f for f in report.files if f.id in removing]:
        remove_file(session, stored)
    for (question_key, group_key, item), new in uploads.items():
        for upload in new:
            try:
                store_upload(session, report, question_key, upload, group_key=group_key, item=item)
            except UploadError as error:
                session.rollback()
                name = f"g.{group_key}.{item}.{question_key}" if group_key else f"q.{question_key}"
                raise ReportInputError({name: str(error)}) from None
    session.execute(delete(ReportAnswer).where(ReportAnswer.report_id == report.id))
    session.add_all(
        ReportAnswer(
            report_id=report.id,
            question_key=row.question_key,
            group_key=row.group_key,
            item=row.item,
            value_text=row.value_text,
            value_number=row.value_number,
        )
        for row in checked.rows
    )
    if report.kind == "day":
        report.actual_start = checked.actual_start
        report.actual_end = checked.actual_end
        report.break_minutes = checked.break_minutes
    report.updated_at = utcnow()
    report.updated_by_id = promoter.user_id
    if submit:
        report.status = "submitted"
        report.submitted_at = utcnow()
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ReportError(
            _l("This report was changed meanwhile (in another window?). Please check it again.")
        ) from None
    session.expire(report, ["answers", "files"])
    return report


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
