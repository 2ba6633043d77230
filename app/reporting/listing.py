"""Reports as plain data (the API): one page of the reports a user may see, with their
answers and files, in a fixed number of queries.

Rows come only through :mod:`app.security.visibility` (``scope.condition(Report)``):
the agency sees every report, a customer the approved reports of the jobs they see,
a promoter their own. The answers of a page, its files and the questions of the
versions involved are read with one query each, whatever the page size.

Answers are keyed by question key: numbers as numbers, yes/no as booleans, a multiple
choice as the list of chosen codes, a repeating group as a list of rows (one dict per
row, keyed by the sub-questions' keys); everything else as text (dates ISO, times
HH:MM, choice codes).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models.planning import Appointment, Job
from app.models.reporting import Question, Report, ReportAnswer, ReportFile
from app.security.visibility import Scope

#: Question kinds whose answers are numbers, and the one stored as 1/0.
INTEGER_KINDS = ("integer",)
DECIMAL_KINDS = ("decimal",)
BOOLEAN_KINDS = ("yes_no",)
LIST_KINDS = ("multiple_choice",)


@dataclass(frozen=True)
class ReportFilters:
    """What a list is narrowed to; None = no restriction."""

    appointment_id: int | None = None
    job_id: int | None = None
    status: tuple[str, ...] | None = None
    kind: str | None = None
    #: The report's day (a day report's appointment date, a weekly report's Monday), inclusive.
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _report_day():
    """A day report's appointment date, a weekly report's Monday."""
    return func.coalesce(Appointment.date, Report.week_start)


def _visible(scope: Scope, filters: ReportFilters) -> Select:
    stmt = (
        select(Report.id)
        .join(Job, Job.id == Report.job_id)
        .outerjoin(Appointment, Appointment.id == Report.appointment_id)
        .where(scope.condition(Report))
    )
    if filters.appointment_id is not None:
        stmt = stmt.where(Report.appointment_id == filters.appointment_id)
    if filters.job_id is not None:
        stmt = stmt.where(Report.job_id == filters.job_id)
    if filters.status:
        stmt = stmt.where(Report.status.in_(filters.status))
    if filters.kind:
        stmt = stmt.where(Report.kind == filters.kind)
    if filters.date_from is not None:
        stmt = stmt.where(_report_day() >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(_report_day() <= filters.date_to)
    return stmt


def count_reports(session: Session, scope: Scope, filters: ReportFilters) -> int:
    return session.scalar(select(func.count()).select_from(_visible(scope, filters).subquery())) or 0


def report_page(
    session: Session, scope: Scope, filters: ReportFilters, page: int, page_size: int
) -> list[dict[str, Any]]:
    """One page (0-based) of the visible reports, oldest id first, as plain rows."""
    ids = _visible(scope, filters).order_by(Report.id).offset(page * page_size).limit(page_size)
    return _rows(session, select(Report.id).where(Report.id.in_(ids.scalar_subquery())))


def report_row(session: Session, scope: Scope, report_id: int) -> dict[str, Any] | None:
    """One report if the scope may see it, else None."""
    rows = _rows(session, _visible(scope, ReportFilters()).where(Report.id == report_id))
    return rows[0] if rows else None


def _rows(session: Session, ids: Select) -> list[dict[str, Any]]:
    """The reports of ``ids`` with their answers and files: four queries."""
    reports = session.execute(
        select(
            Report.id,
            Report.kind,
            Report.appointment_id,
            Report.job_id,
            Job.location_id,
            Appointment.date,
            Report.week_start,
            Report.status,
            Report.promoter_id,
            Report.questionnaire_version_id,
            Report.actual_start,
            Report.actual_end,
            Report.break_minutes,
            Report.submitted_at,
            Report.reviewed_at,
            Report.return_comment,
        )
        .join(Job, Job.id == Report.job_id)
        .outerjoin(Appointment, Appointment.id == Report.appointment_id)
        .where(Report.id.in_(ids.scalar_subquery()))
        .order_by(Report.id)
    ).all()
    if not reports:
        return []
    report_ids = [r.id for r in reports]
    kinds = _question_kinds(session, {r.questionnaire_version_id for r in reports})
    answers = _answers(session, report_ids)
    files = _files(session, report_ids)
    rows = []
    for r in reports:
        version_kinds = kinds.get(r.questionnaire_version_id, {})
        day = r.date or r.week_start
        rows.append(
            {
                "id": r.id,
                "kind": r.kind,
                "appointment_id": r.appointment_id,
                "job_id": r.job_id,
                "location_id": r.location_id,
                "date": day.isoformat() if day else None,
                "week_start": r.week_start.isoformat() if r.week_start else None,
                "status": r.status,
                "promoter_id": r.promoter_id,
                "actual_start": _time(r.actual_start),
                "actual_end": _time(r.actual_end),
                "break_minutes": r.break_minutes,
                "submitted_at": _utc(r.submitted_at),
                "reviewed_at": _utc(r.reviewed_at),
                "return_comment": r.return_comment,
                "answers": answers_dict(answers.get(r.id, ()), version_kinds),
                "files": [
                    {**f, "kind": version_kinds.get(f["question"], "file")} for f in files.get(r.id, ())
                ],
            }
        )
    return rows


def _question_kinds(session: Session, version_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """version id -> question key -> kind (group sub-questions included)."""
    kinds: dict[int, dict[str, str]] = defaultdict(dict)
    for version_id, key, kind in session.execute(
        select(Question.version_id, Question.key, Question.kind).where(Question.version_id.in_(version_ids))
    ):
        kinds[version_id][key] = kind
    return kinds


def _answers(session: Session, report_ids: list[int]) -> dict[int, list[Any]]:
    rows: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            ReportAnswer.report_id,
            ReportAnswer.question_key,
            ReportAnswer.group_key,
            ReportAnswer.item,
            ReportAnswer.value_text,
            ReportAnswer.value_number,
        )
        .where(ReportAnswer.report_id.in_(report_ids))
        .order_by(ReportAnswer.report_id, ReportAnswer.group_key, ReportAnswer.item, ReportAnswer.id)
    ):
        rows[row.report_id].append(row)
    return rows


def _files(session: Session, report_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    files: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in session.execute(
        select(
            ReportFile.id,
            ReportFile.report_id,
            ReportFile.question_key,
            ReportFile.group_key,
            ReportFile.item,
            ReportFile.content_type,
            ReportFile.thumbnail_key,
            ReportFile.width,
            ReportFile.height,
        )
        .where(ReportFile.report_id.in_(report_ids))
        .order_by(ReportFile.id)
    ):
        files[f.report_id].append(
            {
                "id": f.id,
                "question": f.question_key,
                "group": f.group_key,
                "item": f.item if f.group_key else None,
                "content_type": f.content_type,
                "has_thumbnail": f.thumbnail_key is not None,
                "width": f.width,
                "height": f.height,
            }
        )
    return files


def answer_value(kind: str | None, value_text: str | None, value_number: float | None) -> Any:
    """One stored value as JSON: numbers as numbers, yes/no as a boolean, else the text."""
    if kind in INTEGER_KINDS and value_number is not None:
        return int(value_number)
    if kind in DECIMAL_KINDS:
        return value_number
    if kind in BOOLEAN_KINDS and value_number is not None:
        return bool(value_number)
    if value_text is None and value_number is not None:
        return int(value_number) if float(value_number).is_integer() else value_number
    return value_text


def answers_dict(rows: Iterable[Any], kinds: dict[str, str]) -> dict[str, Any]:
    """Answer rows of one report → ``{key: value}``; groups as lists of rows, multiple
    choices as lists of codes (in the stored order)."""
    result: dict[str, Any] = {}
    group_rows: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        kind = kinds.get(row.question_key)
        value = answer_value(kind, row.value_text, row.value_number)
        target = group_rows[row.group_key].setdefault(row.item, {}) if row.group_key else result
        _put(target, row.question_key, value, kind in LIST_KINDS)
    for group_key, items in group_rows.items():
        result[group_key] = [items[item] for item in sorted(items)]
    return result


def _put(target: dict[str, Any], key: str, value: Any, is_list: bool) -> None:
    if is_list:
        target.setdefault(key, []).append(value)
    else:
        target[key] = value


def _time(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _utc(value: dt.datetime | None) -> str | None:
    """A stored UTC time (naive) as ISO 8601 with its offset."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC, microsecond=0).isoformat()


#: The fields of a report each audience gets (data minimisation: customers see neither
#: the promoter nor the agency's review notes).
CUSTOMER_FIELDS = (
    "id",
    "kind",
    "appointment_id",
    "job_id",
    "location_id",
    "date",
    "week_start",
    "status",
    "actual_start",
    "actual_end",
    "break_minutes",
    "submitted_at",
    "answers",
    "photos",
    "files",
)


def for_audience(
    row: dict[str, Any], scope_kind: str, file_url: Callable[[int, bool], str]
) -> dict[str, Any]:
    """A report row as the API answers it: ``photos`` and ``files`` with their URLs
    (``file_url(file_id, thumbnail)``); for customers only :data:`CUSTOMER_FIELDS`."""
    photos, files = [], []
    for f in row["files"]:
        item = {"id": f["id"], "question": f["question"], "url": file_url(f["id"], False)}
        if f["group"]:
            item["group"], item["item"] = f["group"], f["item"]
        if f["kind"] == "photo" or f["content_type"].startswith("image/"):
            item["thumbnail_url"] = file_url(f["id"], True) if f["has_thumbnail"] else None
            item["width"], item["height"] = f["width"], f["height"]
            photos.append(item)
        else:
            item["content_type"] = f["content_type"]
            files.append(item)
    answer = {**row, "photos": photos, "files": files}
    if scope_kind != "agency":
        answer.pop("reviewed_at")
    if scope_kind == "customer":
        answer = {key: answer[key] for key in CUSTOMER_FIELDS}
    return answer
