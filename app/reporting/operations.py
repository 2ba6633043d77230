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
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from app.common.links import promoter_url
from app.common.models import utcnow
from app.models.crm import Location
from app.models.planning import Appointment, Booking, Job, Project
from app.models.promoter import Promoter
from app.models.reporting import Question, QuestionnaireVersion, Report, ReportFile, ReportReminder  # noqa: F401
from app.outbox.enqueue import enqueue
from app.planning.operations import AppointmentError, complete_appointment
from app.reporting.definitions import day_questionnaire_column
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

#: Longest comment for the promoter when a report is returned.
COMMENT_MAX = 4000
#: Longest corrected text answer.
TEXT_MAX = 10_000
#: Numbers beyond this are refused (no float overflow, nothing a report would hold).
NUMBER_LIMIT = 1e12


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
    """The report in the promoter system (absolute, for mails)."""
    if "promoter.report" in current_app.view_functions:
        try:
            return promoter_url(url_for("promoter.report", report_id=report.id))
        except RuntimeError:  # no request context (a command): the path below
            pass
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


def _choice_codes(question: Question) -> list[str]:
    return [line.split("|", 1)[0].strip() for line in (question.choices or "").splitlines() if line.strip()]


def _number(raw: str, integer: bool) -> float:
    text = raw.strip().replace(" ", "")
    if "," in text:  # German decimal comma (and thousands dots)
        text = text.replace(".", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise ReportError(_l("Please enter a number.")) from None
    if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
        raise ReportError(_l("This number is too large."))
    if integer and value != int(value):
        raise ReportError(_l("Please enter a whole number."))
    return value


def _plain_answer(question: Question, raw: str) -> tuple[str | None, float | None]:
    """(value_text, value_number) of a corrected answer, checked against its question."""
    raw = (raw or "").strip()
    if not raw:
        if question.required:
            raise ReportError(_l("This question must be answered."))
        return None, None
    kind = question.kind
    if kind in ("integer", "decimal"):
        value = _number(raw, integer=kind == "integer")
        if question.min_value is not None and value < question.min_value:
            raise ReportError(_l("At least %(min)s.", min=f"{question.min_value:g}"))
        if question.max_value is not None and value > question.max_value:
            raise ReportError(_l("At most %(max)s.", max=f"{question.max_value:g}"))
        return None, value
    if kind == "yes_no":
        if raw.lower() in ("1", "yes", "ja", "true"):
            return None, 1.0
        if raw.lower() in ("0", "no", "nein", "false"):
            return None, 0.0
        raise ReportError(_l("Please answer yes or no."))
    if kind in ("single_choice", "multiple_choice"):
        if raw not in _choice_codes(question):
            raise ReportError(_l("Please choose one of the offered answers."))
        return raw, None
    if kind == "date":
        for parse in (dt.date.fromisoformat, lambda v: dt.datetime.strptime(v, "%d.%m.%Y").date()):
            try:
                return parse(raw).isoformat(), None
            except ValueError:
                continue
        raise ReportError(_l("Please enter a date as dd.mm.yyyy."))
    if kind == "time":
        try:
            return dt.datetime.strptime(raw, "%H:%M").strftime("%H:%M"), None
        except ValueError:
            raise ReportError(_l("Please enter a time as HH:MM.")) from None
    if kind in ("photo", "file", "group"):
        raise ReportError(_l("Photos and files are not changed here."))
    if len(raw) > TEXT_MAX:
        raise ReportError(_l("The text is too long (at most %(max)d characters).", max=TEXT_MAX))
    return raw, None


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
        try:
            corrected[answer_id] = _plain_answer(question, raw)
        except ReportError as error:
            errors[f"answer-{answer_id}"] = str(error)
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
    link = promoter_url("/promoter/schedule")
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
