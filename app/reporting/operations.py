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
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from app.common.links import promoter_url
from app.common.models import utcnow
from app.common.timezone import local_now
from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job, Project
from app.models.promoter import Promoter
from app.models.reporting import (  # noqa: F401
    Question,
    QuestionnaireVersion,
    Report,
    ReportAnswer,
    ReportFile,
    ReportReminder,
)
from app.outbox.enqueue import enqueue
from app.planning.operations import AppointmentError, complete_appointment
from app.reporting import answers as answer_rules
from app.reporting import definitions
from app.reporting.definitions import day_questionnaire_column
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

#: Longest comment for the promoter when a report is returned.
COMMENT_MAX = 4000


def _changed_meanwhile() -> ReportError:
    return ReportError(
        _l("This report was changed by someone else in the meantime. Please open it again and check it.")
    )


def _check_revision(report: Report, revision: int | None) -> None:
    """The revision the reviewer saw must still be the report's (optimistic lock)."""
    if revision is not None and revision != report.revision:
        raise _changed_meanwhile()


def _save(session: Session, commit: bool) -> None:
    """Flush (the revision column refuses a concurrent change) and commit."""
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise _changed_meanwhile() from None
    if commit:
        session.commit()


def approve(
    session: Session, report: Report, user: User, revision: int | None = None, commit: bool = True
) -> Report:
    """Approve a submitted report; a day report's appointment becomes done with the report's
    actual times (through planning). Refused for any other state, and when the appointment
    was cancelled in the meantime."""
    _check_revision(report, revision)
    if report.status != "submitted":
        raise ReportError(_l("Only submitted reports can be approved."))
    if report.kind == "day":
        appointment = report.appointment
        if appointment is None or appointment.status in ("cancelled", "rejected", "proposed"):
            raise ReportError(
                _l("The appointment of this report was cancelled in the meantime; it is not approved.")
            )
        try:
            complete_appointment(
                session,
                appointment,
                user,
                commit=False,
                by_report=True,
                actual_start=report.actual_start,
                actual_end=report.actual_end,
            )
        except AppointmentError as error:
            raise ReportError(error.args[0]) from None
    now = utcnow()
    report.status = "approved"
    report.reviewed_at = now
    report.reviewed_by = user
    report.return_comment = None
    report.updated_by = user
    report.updated_at = now
    _save(session, commit)
    return report


def report_link(report: Report) -> str:
    """The report's form in the promoter system (absolute, for mails)."""
    return promoter_url(f"/promoter/reports/{report.id}")


def return_report(
    session: Session,
    report: Report,
    user: User,
    comment: str | None,
    revision: int | None = None,
    commit: bool = True,
) -> Report:
    """Return a submitted report to its promoter for correction, with a comment; the
    promoter is mailed (in their language) in the same transaction and can submit again."""
    _check_revision(report, revision)
    comment = (comment or "").strip()
    if report.status != "submitted":
        raise ReportError(_l("Only submitted reports can be returned."))
    if not comment:
        raise ReportError(_l("Please write what the promoter should correct."))
    if len(comment) > COMMENT_MAX:
        raise ReportError(_l("The comment is too long (at most %(max)d characters).", max=COMMENT_MAX))
    now = utcnow()
    report.status = "returned"
    report.return_comment = comment
    report.reviewed_at = now
    report.reviewed_by = user
    report.updated_by = user
    report.updated_at = now
    _save(session, commit=False)
    promoter = report.promoter
    if promoter.email:
        appointment = report.appointment
        enqueue(
            session,
            "report_returned",
            promoter.email,
            promoter.language,
            promoter=promoter,
            report=report,
            appointment=appointment,
            location=report.job.location,
            comment=comment,
            link=report_link(report),
        )
    if commit:
        session.commit()
    return report


@dataclass
class ReportEdit:
    """The agency's corrections: actual times, break and answer values by answer row id."""

    actual_start: dt.time | None = None
    actual_end: dt.time | None = None
    break_minutes: int | None = None
    answers: dict[int, str] = field(default_factory=dict)


class ReportEditError(ReportError):
    """Refused corrections, one message per field ("actual_end", "answer-12", ...)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_l("Please correct the marked fields."))
        self.errors = errors


def edit_report(
    session: Session,
    report: Report,
    user: User,
    values: ReportEdit,
    revision: int | None = None,
    commit: bool = True,
) -> Report:
    """Correct the actual times and answers of a submitted or approved report.

    Every change is in the audit trail (old → new), the report's and each answer's. An
    approved day report's appointment takes the corrected actual times.
    """
    _check_revision(report, revision)
    if report.status not in ("submitted", "approved"):
        raise ReportError(_l("Only submitted or approved reports can be corrected."))
    errors: dict[str, str] = {}
    if report.kind == "day":
        if values.actual_start is None or values.actual_end is None:
            errors["actual_end" if values.actual_start else "actual_start"] = str(
                _l("Please enter a start and an end time.")
            )
        elif values.actual_end <= values.actual_start:
            errors["actual_end"] = str(_l("The end must be after the start."))
    if values.break_minutes is not None and not 0 <= values.break_minutes <= 24 * 60:
        errors["break_minutes"] = str(_l("Between 0 and 1440 minutes."))
    questions = {
        q.key: q
        for q in session.scalars(
            select(Question).where(Question.version_id == report.questionnaire_version_id)
        )
    }
    answers = {a.id: a for a in report.answers}
    corrected: dict[int, tuple[str | None, float | None]] = {}
    for answer_id, raw in values.answers.items():
        answer = answers.get(answer_id)
        question = questions.get(answer.question_key) if answer is not None else None
        if question is None:
            errors[f"answer-{answer_id}"] = str(_l("This answer does not belong to the report."))
            continue
        if question.kind in ("photo", "file", "group"):
            errors[f"answer-{answer_id}"] = str(_l("Photos and files are not changed here."))
            continue
        text, number, error = answer_rules.check_one(question, raw)
        if error:
            errors[f"answer-{answer_id}"] = str(error)
        else:
            corrected[answer_id] = (text, number)
    if errors:
        raise ReportEditError(errors)
    changed = False
    for name in ("actual_start", "actual_end", "break_minutes"):
        if report.kind == "week" and name != "break_minutes":
            continue
        if getattr(report, name) != getattr(values, name):
            setattr(report, name, getattr(values, name))
            changed = True
    for answer_id, (text, number) in corrected.items():
        answer = answers[answer_id]
        if (answer.value_text, answer.value_number) != (text, number):
            answer.value_text, answer.value_number = text, number
            changed = True
    if not changed:
        return report
    report.updated_by = user
    report.updated_at = utcnow()
    if report.kind == "day" and report.status == "approved" and report.appointment is not None:
        appointment = report.appointment
        appointment.actual_start_time, appointment.actual_end_time = report.actual_start, report.actual_end
    # The answers are rows of their own; the report's update (updated_at) counts their
    # change in its revision too.
    _save(session, commit)
    return report


# -- reminders: missing reports ----------------------------------------------

#: Appointments further back than this are never reminded (the query stays small).
REMINDER_LOOKBACK_DAYS = 14


@dataclass(frozen=True)
class _Missing:
    """What a reminder mail says (plain values: nothing is loaded while writing)."""

    appointment_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    store: str
    city: str
    project: str
    promoter_name: str
    email: str
    language: str


def missing_report_candidates(session: Session, now: dt.datetime | None = None) -> list[_Missing]:
    """One query: the confirmed promoters of planned appointments that require a day report,
    ended more than REPORT_REMINDER_HOURS ago (at most REMINDER_LOOKBACK_DAYS back), without
    a submitted or approved report and not reminded yet."""
    hours = int(current_app.config.get("REPORT_REMINDER_HOURS", 24))
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:  # naive = UTC, like the stored timestamps
        now = now.replace(tzinfo=dt.UTC)
    cutoff = (now.astimezone(zone) - dt.timedelta(hours=hours)).replace(tzinfo=None)
    earliest = cutoff.date() - dt.timedelta(days=REMINDER_LOOKBACK_DAYS)
    questionnaire = day_questionnaire_column()
    published = (
        select(QuestionnaireVersion.id)
        .where(
            QuestionnaireVersion.questionnaire_id == questionnaire,
            QuestionnaireVersion.published_at.is_not(None),
        )
        .exists()
    )
    reported = (
        select(Report.id)
        .where(Report.appointment_id == Appointment.id, Report.status.in_(("submitted", "approved")))
        .exists()
    )
    reminded = (
        select(ReportReminder.appointment_id).where(ReportReminder.appointment_id == Appointment.id).exists()
    )
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.date,
            Appointment.start_time,
            Appointment.end_time,
            Location.name,
            Location.city,
            Project.name,
            Promoter.first_name,
            Promoter.last_name,
            Promoter.email,
            Promoter.language,
        )
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .join(Location, Location.id == Job.location_id)
        .join(Booking, Booking.appointment_id == Appointment.id)
        .join(Promoter, Promoter.id == Booking.promoter_id)
        .where(
            Appointment.status == "planned",
            Booking.status == "confirmed",
            Promoter.email.is_not(None),
            Appointment.date >= earliest,
            or_(
                Appointment.date < cutoff.date(),
                and_(Appointment.date == cutoff.date(), Appointment.end_time <= cutoff.time()),
            ),
            questionnaire.is_not(None),
            published,
            ~reported,
            ~reminded,
        )
        .order_by(Appointment.date, Appointment.id, Promoter.id)
    ).all()
    return [
        _Missing(r[0], r[1], r[2], r[3], r[4], r[5] or "", r[6], f"{r[7]} {r[8]}", r[9], r[10] or "de")
        for r in rows
    ]


def _claim_reminder(session: Session, appointment_id: int) -> bool:
    """Insert the appointment's reminder row; False if it exists (another process sent it)."""
    dialect = session.get_bind().dialect.name
    values = {"appointment_id": appointment_id, "sent_at": utcnow()}
    if dialect in ("postgresql", "sqlite"):
        insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert_(ReportReminder)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["appointment_id"])
            .returning(ReportReminder.appointment_id)
        )
        # RETURNING, not rowcount: psycopg reports no row count for this statement.
        return session.execute(statement).first() is not None
    try:
        with session.begin_nested():
            session.execute(insert(ReportReminder).values(**values))
        return True
    except IntegrityError:
        return False


def remind_missing_reports(session: Session, now: dt.datetime | None = None) -> int:
    """Mail the confirmed promoters of each appointment whose day report is missing, once.

    Per appointment, in one transaction: the reminder row first (its primary key lets only
    one of several scheduler processes through), then the mails. Returns the mails queued.
    A scheduler job: it ends the caller's transaction (rollback) and commits per appointment.
    """
    candidates = missing_report_candidates(session, now)
    session.rollback()  # the read is done; each appointment gets its own short write
    by_appointment: dict[int, list[_Missing]] = {}
    for candidate in candidates:
        by_appointment.setdefault(candidate.appointment_id, []).append(candidate)
    link = promoter_url("/promoter/reports")  # the reports due, each with its form
    queued = 0
    for appointment_id, promoters in by_appointment.items():
        try:
            if not _claim_reminder(session, appointment_id):
                session.rollback()
                continue
            for missing in promoters:
                enqueue(
                    session, "report_missing", missing.email, missing.language, missing=missing, link=link
                )
            session.commit()
        except Exception:
            session.rollback()
            raise
        queued += len(promoters)
    return queued
