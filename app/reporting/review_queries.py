"""Reading reports for the agency's review: the queue, its count, one report with its answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.models.crm import Location
from app.models.planning import Appointment, Job, Project
from app.models.promoter import Promoter
from app.models.reporting import Question, QuestionnaireVersion, Report, ReportAnswer, ReportFile

#: Reports per page of the queue.
PAGE_SIZE = 25
#: The queue's status filter: what the agency looks for.
QUEUE_STATUSES = ("submitted", "returned", "approved")


def submitted_count(session: Session) -> int:
    """Reports waiting for the agency's review (the menu's number)."""
    return session.scalar(select(func.count(Report.id)).where(Report.status == "submitted")) or 0


@dataclass
class QueuePage:
    reports: list[Report]
    total: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def review_queue(
    session: Session, status: str = "submitted", project_id: int | None = None, page: int = 1
) -> QueuePage:
    """Reports of one status (oldest submitted first), optionally of one project, one page
    of them with store, project and promoter in one statement (plus the count)."""
    conditions = [Report.status == status]
    if project_id is not None:
        conditions.append(Job.project_id == project_id)
    total = (
        session.scalar(select(func.count(Report.id)).join(Job, Job.id == Report.job_id).where(*conditions))
        or 0
    )
    size = PAGE_SIZE
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    reports = list(
        session.scalars(
            select(Report)
            .join(Job, Job.id == Report.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Project, Project.id == Job.project_id)
            .join(Promoter, Promoter.id == Report.promoter_id)
            .outerjoin(Appointment, Appointment.id == Report.appointment_id)
            .where(*conditions)
            .options(
                contains_eager(Report.job).options(contains_eager(Job.location), contains_eager(Job.project)),
                contains_eager(Report.promoter),
                contains_eager(Report.appointment),
            )
            .order_by(Report.submitted_at.asc(), Report.id.asc())
            .limit(size)
            .offset((page - 1) * size)
        )
    )
    return QueuePage(reports=reports, total=total, page=page, page_size=size)


def report_for_review(session: Session, report_id: int) -> Report | None:
    """One report with its appointment, store, project, promoter and version."""
    return session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .options(
            joinedload(Report.job).options(joinedload(Job.location), joinedload(Job.project)),
            joinedload(Report.appointment),
            joinedload(Report.promoter),
            joinedload(Report.reviewed_by),
            joinedload(Report.questionnaire_version).joinedload(QuestionnaireVersion.questionnaire),
        )
    )


# ---------------------------------------------------------------- answers for reading


def choices(question: Question, language: str) -> dict[str, str]:
    """code → label in ``language`` (German when there is no English label)."""
    labels = {}
    for line in (question.choices or "").splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not parts or not parts[0]:
            continue
        german = parts[1] if len(parts) > 1 and parts[1] else parts[0]
        english = parts[2] if len(parts) > 2 and parts[2] else german
        labels[parts[0]] = english if language == "en" else german
    return labels


def question_label(question: Question, language: str) -> str:
    return (question.label_en if language == "en" and question.label_en else question.label_de) or ""


def _number_text(value: float, language: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale="en" if language == "en" else "de")


def answer_text(
    question: Question, answer: ReportAnswer, language: str, yes: str, no: str, format_day
) -> str:
    """One stored answer as the reader should see it (choices by label, dates local)."""
    kind = question.kind
    if kind == "yes_no":
        if answer.value_number is None:
            return ""
        return yes if answer.value_number else no
    if kind in ("integer", "decimal"):
        if answer.value_number is None:
            return ""
        text = _number_text(answer.value_number, language)
        return f"{text} {question.unit}" if question.unit else text
    if kind in ("single_choice", "multiple_choice"):
        return choices(question, language).get(answer.value_text or "", answer.value_text or "")
    if kind == "date" and answer.value_text:
        try:
            return format_day(dt.date.fromisoformat(answer.value_text))
        except ValueError:
            return answer.value_text
    return answer.value_text or ""


@dataclass
class ShownAnswer:
    """A top-level question with what was answered: ``values`` (texts, one per answer row),
    ``rows`` for a group (one list of cells per item), ``files`` for photos and files."""

    question: Question
    label: str
    values: list[str] = field(default_factory=list)
    answers: list[ReportAnswer] = field(default_factory=list)
    columns: list[Question] = field(default_factory=list)
    column_labels: list[str] = field(default_factory=list)
    rows: list[list[tuple[Question, list[ReportAnswer], list[str], list[ReportFile]]]] = field(
        default_factory=list
    )
    files: list[ReportFile] = field(default_factory=list)


@dataclass
class ShownPage:
    title: str
    answers: list[ShownAnswer]


def shown_answers(session: Session, report: Report, language: str, yes: str, no: str, format_day):
    """The report's answers page by page, in the version's order, in three statements."""
    questions = list(
        session.scalars(
            select(Question)
            .where(Question.version_id == report.questionnaire_version_id)
            .options(joinedload(Question.page))
            .order_by(Question.position, Question.id)
        )
    )
    answers = list(
        session.scalars(
            select(ReportAnswer).where(ReportAnswer.report_id == report.id).order_by(ReportAnswer.id)
        )
    )
    files = list(session.scalars(select(ReportFile).where(ReportFile.report_id == report.id)))
    children: dict[int, list[Question]] = {}
    for question in questions:
        if question.parent_id is not None:
            children.setdefault(question.parent_id, []).append(question)
    by_page: dict[int, ShownPage] = {}
    page_order: list[tuple[int, int]] = []
    for question in questions:
        if question.parent_id is not None:
            continue
        page = question.page
        if page.id not in by_page:
            title = (page.title_en if language == "en" and page.title_en else page.title_de) or ""
            by_page[page.id] = ShownPage(title=title, answers=[])
            page_order.append((page.position, page.id))
        shown = ShownAnswer(question=question, label=question_label(question, language))
        if question.kind == "group":
            shown.columns = children.get(question.id, [])
            shown.column_labels = [question_label(c, language) for c in shown.columns]
            items = sorted(
                {a.item for a in answers if a.group_key == question.key}
                | {f.item for f in files if f.group_key == question.key}
            )
            for item in items:
                cells = []
                for column in shown.columns:
                    cell_answers = [
                        a
                        for a in answers
                        if a.group_key == question.key and a.item == item and a.question_key == column.key
                    ]
                    cell_files = [
                        f
                        for f in files
                        if f.group_key == question.key and f.item == item and f.question_key == column.key
                    ]
                    texts = [answer_text(column, a, language, yes, no, format_day) for a in cell_answers]
                    cells.append((column, cell_answers, texts, cell_files))
                shown.rows.append(cells)
        else:
            shown.answers = [a for a in answers if a.group_key is None and a.question_key == question.key]
            shown.values = [answer_text(question, a, language, yes, no, format_day) for a in shown.answers]
            shown.files = [f for f in files if f.group_key is None and f.question_key == question.key]
        by_page[page.id].answers.append(shown)
    return [by_page[page_id] for _, page_id in sorted(page_order)]
