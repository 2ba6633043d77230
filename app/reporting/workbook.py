"""The Excel export of the reporting area: the filtered approved reports, one row per
report, one column per question, streamed.

Columns: the report's date, store, city, territory, project, job, the promoter's display
name, kind, status and actual times, then the questions of the questionnaires the reports
were filled in with, in questionnaire order (the newest version's order; keys of older
versions after them), labelled in the user's language:

- numbers are number cells, dates date cells (dd.mm.yyyy), times time cells;
- yes/no as "Ja"/"Nein", a single choice as its label, a multiple choice as its labels joined;
- photos and files as their count;
- a repeating group with a single-choice sub-question (e.g. the product) becomes one column
  per choice and other sub-question ("Verkauft – Turbo-Kreisel"; rows of the same choice
  are added up); any other group one column per row number and sub-question
  ("Produkt 1"), up to the most rows a report of the export has.

Three statements, whatever the number of reports: the questions of the versions used, the
most rows per group, and the answers and files of the reports (one UNION ALL, sorted by
report, streamed and folded into one line per report). The reports are
:func:`app.reporting.analytics.filtered_reports` — the scope's conditions in SQL, approved
reports only (the agency's export too: the same numbers the customer sees).

Written by :func:`app.transfer.tables.iter_xlsx` — the house's streaming XLSX writer
(constant memory, text never a formula, numbers stay numbers; openpyxl's write-only mode
writes the same cells several times slower, see :mod:`app.transfer.xlsx`) — into a
temporary file that is then sent in pieces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from app.common.choices import QUESTIONNAIRE_KINDS, REPORT_STATUSES
from app.models.crm import Location, Territory
from app.models.planning import Job, Project
from app.models.promoter import Promoter
from app.models.reporting import (
    Question,
    Questionnaire,
    QuestionnairePage,
    QuestionnaireVersion,
    Report,
    ReportAnswer,
    ReportFile,
)
from app.reporting.definitions import DefinitionError, parse_choices
from app.security.visibility import Scope

if TYPE_CHECKING:
    from app.reporting.analytics import ReportFilter

#: Rows fetched from the database at a time.
STREAM_BATCH = 2_000
NUMBER_KINDS = ("integer", "decimal")
FILE_KINDS = ("photo", "file")
#: Columns of a row-numbered group at most (a hostile group of 100 rows × many sub-questions).
MAX_GROUP_COLUMNS = 300


def _lang(language: str | None) -> str:
    return "en" if str(language or "de").lower().startswith("en") else "de"


def _label(question: Question, language: str) -> str:
    if language == "en" and (question.label_en or "").strip():
        return question.label_en
    return question.label_de


def _choices(questions: list[Question], language: str) -> dict[str, str]:
    """code → label of the choices of a question over its versions (newest first wins)."""
    labels: dict[str, str] = {}
    for question in questions:
        try:
            parsed = parse_choices(question.choices)
        except DefinitionError:
            continue
        for choice in parsed:
            labels.setdefault(choice.code, choice.en if language == "en" and choice.en else choice.de)
    return labels


# -- the filtered reports --------------------------------------------------------------------


def _filtered(scope: Scope, flt: ReportFilter):
    """The filtered approved reports (id, job_id, day, version_id): the analytics' subquery,
    along the indexes, with the scope's conditions in SQL."""
    from app.reporting.analytics import filtered_reports

    return filtered_reports(scope, flt, "export_report")


# -- columns ---------------------------------------------------------------------------------


@dataclass
class Column:
    """One question column: ``source`` is where its value comes from in a report's answers."""

    header: str
    kind: str
    #: ("answer", key) | ("files", key) | ("choice_sub", group, choice, sub_key)
    #: | ("row_sub", group, item, sub_key)
    source: tuple
    choices: dict[str, str] = field(default_factory=dict)


@dataclass
class Layout:
    columns: list[Column]
    yes: str
    no: str


def _questions(session: Session, scope: Scope, flt: ReportFilter) -> list[Question]:
    """The questions of every version the filtered reports use: day questionnaires first,
    newest version first, in page and question order (one statement)."""
    reports = _filtered(scope, flt)
    versions = select(reports.c.version_id).distinct()
    stmt = (
        select(Question)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .join(QuestionnairePage, QuestionnairePage.id == Question.page_id)
        .where(Question.version_id.in_(versions))
        .order_by(
            Questionnaire.kind,  # "day" before "week"
            Questionnaire.id,
            QuestionnaireVersion.number.desc(),
            QuestionnairePage.position,
            Question.position,
            Question.id,
        )
    )
    return list(session.scalars(stmt))


def _group_rows(session: Session, scope: Scope, flt: ReportFilter) -> dict[str, int]:
    """The most rows a report of the export has per group (one statement)."""
    reports = _filtered(scope, flt)
    stmt = (
        select(ReportAnswer.group_key, func.max(ReportAnswer.item))
        .join(reports, reports.c.id == ReportAnswer.report_id)
        .where(ReportAnswer.group_key.is_not(None))
    )
    return {key: (top or 0) + 1 for key, top in session.execute(stmt.group_by(ReportAnswer.group_key))}


def layout(session: Session, scope: Scope, flt: ReportFilter, language: str) -> Layout:
    """The question columns of the export (headers in ``language``)."""
    language = _lang(language)
    questions = _questions(session, scope, flt)
    top: dict[str, list[Question]] = {}  # key → its definitions, newest first
    children: dict[int, list[Question]] = {}
    for question in questions:
        if question.parent_id is None:
            top.setdefault(question.key, []).append(question)
        else:
            children.setdefault(question.parent_id, []).append(question)
    group_rows = _group_rows(session, scope, flt) if any(q[0].kind == "group" for q in top.values()) else {}
    columns: list[Column] = []
    for key, versions in top.items():
        question = versions[0]
        label = _label(question, language)
        if question.kind == "group":
            columns.extend(_group_columns(key, versions, children, group_rows.get(key, 0), language))
        elif question.kind in FILE_KINDS:
            columns.append(Column(label, question.kind, ("files", key)))
        else:
            columns.append(Column(label, question.kind, ("answer", key), _choices(versions, language)))
    with force_locale(language):
        return Layout(columns, _("Yes"), _("No"))


def _group_columns(
    key: str, versions: list[Question], children: dict[int, list[Question]], rows: int, language: str
) -> list[Column]:
    subs: dict[str, list[Question]] = {}
    for version in versions:
        for sub in children.get(version.id, []):
            subs.setdefault(sub.key, []).append(sub)
    choice_key = next((k for k, defs in subs.items() if defs[0].kind == "single_choice"), None)
    columns: list[Column] = []
    if choice_key is not None:
        choices = _choices(subs[choice_key], language)
        for code, choice_label in choices.items():
            for sub_key, defs in subs.items():
                if sub_key == choice_key:
                    continue
                header = f"{_label(defs[0], language)} – {choice_label}"
                columns.append(
                    Column(header, defs[0].kind, ("choice_sub", key, code, sub_key), _choices(defs, language))
                )
        return columns
    for item in range(rows):
        for sub_key, defs in subs.items():
            if len(columns) >= MAX_GROUP_COLUMNS:
                return columns
            header = f"{_label(defs[0], language)} {item + 1}"
            columns.append(
                Column(header, defs[0].kind, ("row_sub", key, item, sub_key), _choices(defs, language))
            )
    return columns


# -- rows ------------------------------------------------------------------------------------

REPORT_COLUMNS = (
    Report.id.label("report_id"),
    Location.name.label("store"),
    Location.city.label("city"),
    Territory.name.label("territory"),
    Project.name.label("project"),
    Job.title.label("job"),
    Promoter.first_name.label("first_name"),
    Promoter.last_name.label("last_name"),
    Report.kind.label("kind"),
    Report.status.label("status"),
    Report.actual_start.label("actual_start"),
    Report.actual_end.label("actual_end"),
    Report.break_minutes.label("break_minutes"),
)


def _rows_statement(scope: Scope, flt: ReportFilter) -> Select:
    """The reports with their answers (outer join: a report without any too) and, in a
    second part, their files; sorted by day, store and report."""

    reports = _filtered(scope, flt)
    columns = [REPORT_COLUMNS[0], reports.c.day.label("day"), *REPORT_COLUMNS[1:]]

    def base(*extra) -> Select:
        return (
            select(*columns, *extra)
            .select_from(reports)
            .join(Report, Report.id == reports.c.id)
            .join(Job, Job.id == reports.c.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Project, Project.id == Job.project_id)
            .outerjoin(Territory, Territory.id == Location.territory_id)
            .join(Promoter, Promoter.id == Report.promoter_id)
        )

    answers = base(
        ReportAnswer.question_key.label("question_key"),
        ReportAnswer.group_key.label("group_key"),
        ReportAnswer.item.label("item"),
        ReportAnswer.value_text.label("value_text"),
        ReportAnswer.value_number.label("value_number"),
        literal(0).label("is_file"),
    ).outerjoin(ReportAnswer, ReportAnswer.report_id == Report.id)
    files = base(
        ReportFile.question_key,
        ReportFile.group_key,
        ReportFile.item,
        null(),
        null(),
        literal(1),
    ).join(ReportFile, ReportFile.report_id == Report.id)
    both = union_all(answers, files).subquery("report_line")
    return select(both).order_by(both.c.day, both.c.store, both.c.report_id)


@dataclass
class _Collected:
    answers: dict[str, list[tuple[str | None, float | None]]] = field(default_factory=dict)
    #: group key → item → sub key → (text, number)
    groups: dict[str, dict[int, dict[str, tuple[str | None, float | None]]]] = field(default_factory=dict)
    files: dict[tuple[str, str | None, int], int] = field(default_factory=dict)


def _collect(lines: list) -> _Collected:
    collected = _Collected()
    for line in lines:
        key = line.question_key
        if key is None:
            continue
        if line.is_file:
            slot = (key, line.group_key, line.item or 0)
            collected.files[slot] = collected.files.get(slot, 0) + 1
        elif line.group_key is None:
            collected.answers.setdefault(key, []).append((line.value_text, line.value_number))
        else:
            rows = collected.groups.setdefault(line.group_key, {})
            rows.setdefault(line.item or 0, {})[key] = (line.value_text, line.value_number)
    return collected


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value


def _convert(kind: str, values: list[tuple[str | None, float | None]], column: Column, layout: Layout) -> Any:
    """One question's answer(s) as a cell value."""
    if not values:
        return None
    text, number = values[0]
    if kind in NUMBER_KINDS:
        return _number(number)
    if kind == "yes_no":
        if number is None:
            return None
        return layout.yes if number else layout.no
    if kind == "single_choice":
        return column.choices.get(text, text) if text is not None else None
    if kind == "multiple_choice":
        return ", ".join(column.choices.get(t, t) for t, _n in values if t)
    if kind == "date" and text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    if kind == "time" and text:
        try:
            return dt.time.fromisoformat(text)
        except ValueError:
            return text
    return text


def _cells(collected: _Collected, layout: Layout) -> list[Any]:
    cells: list[Any] = []
    for column in layout.columns:
        source = column.source
        if source[0] == "answer":
            cells.append(_convert(column.kind, collected.answers.get(source[1], []), column, layout))
        elif source[0] == "files":
            count = sum(
                n for (key, group, _item), n in collected.files.items() if key == source[1] and group is None
            )
            cells.append(count)
        elif source[0] == "choice_sub":
            _kind, group, code, sub_key = source
            cells.append(_choice_sub(collected, group, code, sub_key, column, layout))
        else:
            _kind, group, item, sub_key = source
            if column.kind in FILE_KINDS:
                cells.append(collected.files.get((sub_key, group, item)))
                continue
            value = collected.groups.get(group, {}).get(item, {}).get(sub_key)
            cells.append(_convert(column.kind, [value] if value else [], column, layout))
    return cells


def _choice_sub(
    collected: _Collected, group: str, code: str, sub_key: str, column: Column, layout: Layout
) -> Any:
    """The sub-answer of the group's rows whose choice is ``code``: numbers and file counts
    added up, other answers joined."""
    rows = collected.groups.get(group, {})
    items = [item for item, subs in rows.items() if any(t == code for t, _n in subs.values())]
    if column.kind in FILE_KINDS:
        return sum(collected.files.get((sub_key, group, item), 0) for item in items) if items else None
    values = [rows[item][sub_key] for item in items if sub_key in rows[item]]
    if not values:
        return None
    if column.kind in NUMBER_KINDS:
        numbers = [n for _t, n in values if n is not None]
        return _number(sum(numbers)) if numbers else None
    converted = [_convert(column.kind, [v], column, layout) for v in values]
    return ", ".join(str(c) for c in converted if c not in (None, ""))


def header(layout: Layout, language: str) -> list[str]:
    with force_locale(_lang(language)):
        fixed = [
            _("Date"),
            _("Store"),
            _("City"),
            _("Territory"),
            _("Project"),
            _("Job"),
            _("Promoter"),
            _("Report"),
            _("Status"),
            _("Actual start"),
            _("Actual end"),
            _("Break (minutes)"),
        ]
    return fixed + [column.header for column in layout.columns]


def rows(session: Session, scope: Scope, flt: ReportFilter, layout: Layout, language: str) -> Iterator[list]:
    """One list of cell values per report, streamed (constant memory)."""
    with force_locale(_lang(language)):
        kinds = {code: str(text) for code, text in QUESTIONNAIRE_KINDS.items()}
        statuses = {code: str(text) for code, text in REPORT_STATUSES.items()}
    stmt = _rows_statement(scope, flt)
    result = session.connection().execution_options(yield_per=STREAM_BATCH).execute(stmt)
    for _id, lines in groupby(result, key=itemgetter(0)):
        lines = list(lines)  # one report's answers: a few dozen lines
        first = lines[0]
        promoter = f"{first.first_name} {(first.last_name or '')[:1]}."
        yield [
            first.day,
            first.store,
            first.city,
            first.territory,
            first.project,
            first.job,
            promoter,
            kinds.get(first.kind, first.kind),
            statuses.get(first.status, first.status),
            first.actual_start,
            first.actual_end,
            first.break_minutes,
            *_cells(_collect(lines), layout),
        ]


def stream_xlsx(
    session: Session, scope: Scope, flt: ReportFilter, language: str
) -> tuple[Iterator[bytes], str]:
    """The export for a download: (the pieces of the XLSX file, the file name).

    The columns are read at once (two small statements); the rows when the first piece is
    asked for — wrap the pieces in ``stream_with_context`` in the route. Content type:
    ``app.transfer.tables.CONTENT_TYPES["xlsx"]``.
    """
    from app.transfer.tables import iter_xlsx

    language = _lang(language)
    columns = layout(session, scope, flt, language)
    head = header(columns, language)
    with force_locale(language):
        title = _("Reports")
        base = _("reports")
        name = f"{base}-{flt.date_from.isoformat()}-{flt.date_to.isoformat()}.xlsx"
    return iter_xlsx(head, rows(session, scope, flt, columns, language), title), name
