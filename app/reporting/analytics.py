"""The reporting area's figures: every aggregate over reports, answers and appointments.

Everything here is a GROUP BY in the database; Python only shapes the aggregated rows
(a few hundred at most). Every query is restricted by the caller's visibility
:class:`~app.security.visibility.Scope` in SQL (``scope.condition(...)``): a customer
sees only approved reports of the jobs in their territories. Figures and photos are
over APPROVED reports only for the agency too (the numbers the customer sees).

Definitions used throughout:

- a report's *day* is its appointment's date (day reports) or its ``week_start``
  (weekly reports); the filter's period is inclusive on both ends;
- a *figure* is a number question (integer, decimal) or a number sub-question of a group;
  when the group also has a single-choice sub-question (e.g. the product), the figure is
  also broken down per choice (``"products.units_sold:turbo_kreisel"``) besides the
  group's total (``"products.units_sold"``);
- a figure's ``days`` are the distinct (job, day) pairs — promotion days at a store —
  with at least one answer: ``per_day`` is the average per promotion day;
- labels come from the questions of the questionnaire versions the filtered reports
  were written with; for a key the newest version's label wins.

The functions (all take the session, the scope and a :class:`ReportFilter`):

- :func:`figure_defs` / :func:`figures` / :func:`figures_by` (week, month, store, job,
  territory) — :class:`FigureDef`, :class:`FigureValue`, :class:`Bucket`;
- :func:`sell_through` — opening and closing stock per product (:class:`SellThrough`);
- :func:`progress` / :func:`progress_by_week` / :func:`progress_by_store` — appointments
  planned, done, cancelled, missing a report, hours, staffed days (:class:`Progress`);
- :func:`photos` (a page of :class:`PhotoRow`), :func:`photo_questions`;
- :func:`question_defs`, :func:`group_sizes` and :func:`report_rows` — the columns and
  the streamed rows of the XLSX export (:class:`QuestionDef`, :class:`ReportRow`, :class:`AnswerRow`);
- :func:`territory_choices`, :func:`compares_territories` — the territory filter and
  whether a territory comparison is worth showing;
- :func:`punctuality` — the agency's day-report punctuality per promoter.

Dates and weeks are computed in SQL by small dialect helpers (:func:`week_start`,
:func:`month_start`, :func:`day_number`, :func:`minutes_between`) for SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    and_,
    case,
    cast,
    distinct,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from app.models.crm import Location, Territory, contact_territory
from app.models.planning import Appointment, Booking, Job, Project
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
from app.security.visibility import Scope

NUMBER_KINDS = ("integer", "decimal")
#: Sub-question keys of a group that make a sell-through figure.
OPENING_STOCK = "opening_stock"
CLOSING_STOCK = "closing_stock"
#: Appointment statuses counted by :func:`progress` (proposals and rejected proposals are not).
PROGRESS_STATUSES = ("planned", "done", "cancelled")
DIMENSIONS = ("week", "month", "store", "job", "territory")
#: The largest id of an INTEGER column (PostgreSQL); larger ids in a filter match nothing.
MAX_ID = 2**31 - 1


# ---------------------------------------------------------------- filter and periods


@dataclass(frozen=True)
class ReportFilter:
    date_from: dt.date  # inclusive
    date_to: dt.date  # inclusive
    project_id: int | None = None
    territory_id: int | None = None  # the store's territory or below
    location_id: int | None = None
    job_id: int | None = None
    question_key: str | None = None  # photos only

    def __post_init__(self) -> None:
        # an id beyond the database's integers (typed into a URL) matches nothing, never an error
        for name in ("project_id", "territory_id", "location_id", "job_id"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= MAX_ID:
                object.__setattr__(self, name, 0)


RANGES = ("this_week", "last_week", "last_4_weeks", "this_month", "last_month", "this_year", "custom")


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def period_of(range_code: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of a named period around ``today``.

    Weeks start on Monday; "last_4_weeks" is this week and the three before it;
    "custom" gives this month (the form's starting values). Unknown codes: ValueError.
    """
    monday = today - dt.timedelta(days=today.weekday())
    first = today.replace(day=1)
    if range_code == "this_week":
        return monday, monday + dt.timedelta(days=6)
    if range_code == "last_week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if range_code == "last_4_weeks":
        return monday - dt.timedelta(days=21), monday + dt.timedelta(days=6)
    if range_code in ("this_month", "custom"):
        return first, _month_end(first)
    if range_code == "last_month":
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        return previous, _month_end(previous)
    if range_code == "this_year":
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    raise ValueError(f"unknown range {range_code!r}")


# ---------------------------------------------------------------- dialect helpers


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def week_start(session: Session, day) -> ColumnElement[dt.date]:
    """The Monday of ``day``'s week, as SQL of the session's database."""
    if _dialect(session) == "sqlite":
        return func.date(day, "weekday 0", "-6 days", type_=Date)
    return cast(func.date_trunc("week", day), Date)


def month_start(session: Session, day) -> ColumnElement[dt.date]:
    """The first of ``day``'s month, as SQL of the session's database."""
    if _dialect(session) == "sqlite":
        return func.date(day, "start of month", type_=Date)
    return cast(func.date_trunc("month", day), Date)


def day_number(session: Session, day) -> ColumnElement[int]:
    """Days since 1 January 2000 (a whole number per date), as SQL of the session's database."""
    if _dialect(session) == "sqlite":
        return cast(func.julianday(day) - 2451544.5, Integer)
    return cast(day - literal(dt.date(2000, 1, 1), Date), Integer)


def minutes_between(session: Session, start, end) -> ColumnElement[int]:
    """Whole minutes from time ``start`` to time ``end`` of the same day (negative if before)."""
    if _dialect(session) == "sqlite":
        return cast((func.strftime("%s", end) - func.strftime("%s", start)) / 60, Integer)
    return cast(func.extract("epoch", end - start) / 60, Integer)


# ---------------------------------------------------------------- shared building blocks


def territory_subtree(territory_id: int):
    """Ids of the territory and every territory below it."""
    tree = (
        select(Territory.id.label("id"))
        .where(Territory.id == territory_id)
        .cte("filter_tree", recursive=True)
    )
    child = aliased(Territory)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)


def _job_conditions(flt: ReportFilter) -> list[ColumnElement[bool]]:
    """The filter's project, store, job and territory as conditions on Job (and Location)."""
    conditions: list[ColumnElement[bool]] = []
    if flt.project_id is not None:
        conditions.append(Job.project_id == flt.project_id)
    if flt.location_id is not None:
        conditions.append(Job.location_id == flt.location_id)
    if flt.job_id is not None:
        conditions.append(Job.id == flt.job_id)
    if flt.territory_id is not None:
        conditions.append(
            Job.location_id.in_(
                select(Location.id).where(Location.territory_id.in_(territory_subtree(flt.territory_id)))
            )
        )
    return conditions


def _approved_day_reports(session: Session, scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions for day reports joined to their appointments: approved and visible
    (``scope.condition(Report)``, and the appointment's too).

    The planner should start from the appointments of the period (``appointment (job_id,
    date)`` or ``(date, status)``, then the report by ``report.appointment_id``), never from
    the status index over every approved report. PostgreSQL's statistics see to that;
    SQLite has none, so there the status is compared through coalesce (not indexable) and a
    customer's visibility is taken from the appointment's job, with the report on the same
    job (a day report's job is its appointment's) — the same rows.
    """
    if scope.kind not in ("agency", "customer"):
        return [false()]
    if _dialect(session) != "sqlite":
        return [scope.condition(Report), Report.status == "approved", scope.condition(Appointment)]
    approved = func.coalesce(Report.status, "") == "approved"
    if scope.kind == "agency":
        return [approved]
    return [approved, scope.condition(Appointment), Report.job_id == Appointment.job_id]


def filtered_reports(session: Session, scope: Scope, flt: ReportFilter, name: str = "filtered_report"):
    """The approved, visible reports of the filter as a subquery (id, job_id, day, version_id).

    Two branches, each along its own index: day reports from their appointments of the
    period (see :func:`_approved_day_reports`), weekly reports by ``report (job_id,
    week_start)`` (customers) or ``report (status, week_start)`` (the agency).
    """
    jobs = _job_conditions(flt)
    day_reports = (
        select(
            Report.id.label("id"),
            Report.job_id.label("job_id"),
            Appointment.date.label("day"),
            Report.questionnaire_version_id.label("version_id"),
        )
        .select_from(Appointment)
        .join(Report, Report.appointment_id == Appointment.id)
        .where(
            *_approved_day_reports(session, scope),
            Appointment.date >= flt.date_from,
            Appointment.date <= flt.date_to,
        )
    )
    week_reports = (
        select(Report.id, Report.job_id, Report.week_start, Report.questionnaire_version_id)
        .select_from(Report)
        .where(
            scope.condition(Report),
            Report.status == "approved",
            Report.week_start >= flt.date_from,
            Report.week_start <= flt.date_to,
            Report.kind == "week",
        )
    )
    if jobs:
        day_reports = day_reports.join(Job, Job.id == Appointment.job_id).where(*jobs)
        week_reports = week_reports.join(Job, Job.id == Report.job_id).where(*jobs)
    return union_all(day_reports, week_reports).subquery(name)


# ---------------------------------------------------------------- questions and figure definitions


@dataclass(frozen=True)
class QuestionDef:
    """One question of the versions the filtered reports use (newest version per key).

    ``group_key`` is the key of the group a sub-question belongs to; ``choices`` are
    (code, German, English) of choice questions (union over the versions, newest label).
    """

    key: str
    group_key: str | None
    kind: str
    label_de: str
    label_en: str
    unit: str | None
    choices: tuple[tuple[str, str, str], ...]
    questionnaire_kind: str
    order: tuple

    def label(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label_de

    def choice_label(self, code: str, language: str) -> str:
        for choice, de, en in self.choices:
            if choice == code:
                return en if language == "en" else de
        return code


def _parse_choices(text: str | None) -> list[tuple[str, str, str]]:
    parsed = []
    for line in (text or "").splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not parts or not parts[0]:
            continue
        german = parts[1] if len(parts) > 1 and parts[1] else parts[0]
        english = parts[2] if len(parts) > 2 and parts[2] else german
        parsed.append((parts[0], german, english))
    return parsed


def _used_version_ids(session: Session, scope: Scope, flt: ReportFilter) -> list[int]:
    reports = filtered_reports(session, scope, flt)
    return list(session.scalars(select(distinct(reports.c.version_id))))


def question_defs(session: Session, scope: Scope, flt: ReportFilter) -> list[QuestionDef]:
    """The questions of the versions the filtered reports were written with, in questionnaire
    order (day reports' first), one per (group, key) — the newest version's wording.

    Remembered for the session's current transaction (a page asks for figures, figures by
    week and by store, the sell-through … of the same filter: two statements once)."""
    key = ("question_defs", scope, replace(flt, question_key=None))
    transaction = session.connection().get_transaction()  # (begins it if need be)
    memo = session.info.get("analytics_memo")
    if memo is None or memo[0] is not transaction:
        memo = (transaction, {})
        session.info["analytics_memo"] = memo
    if key not in memo[1]:
        memo[1][key] = _question_defs(session, scope, flt)
    return list(memo[1][key])


def _question_defs(session: Session, scope: Scope, flt: ReportFilter) -> list[QuestionDef]:
    version_ids = _used_version_ids(session, scope, flt)
    if not version_ids:
        return []
    parent = aliased(Question)
    rows = session.execute(
        select(
            Question,
            parent.key,
            parent.position,
            QuestionnairePage.position,
            Questionnaire.kind,
            Questionnaire.id,
        )
        .join(QuestionnairePage, QuestionnairePage.id == Question.page_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .outerjoin(parent, parent.id == Question.parent_id)
        .where(Question.version_id.in_(version_ids))
        .order_by(QuestionnaireVersion.id.desc(), Question.id)
    ).all()
    found: dict[tuple[str | None, str], QuestionDef] = {}
    extra_choices: dict[tuple[str | None, str], list[tuple[str, str, str]]] = {}
    for question, group_key, parent_position, page_position, kind, questionnaire_id in rows:
        ident = (group_key, question.key)
        choices = _parse_choices(question.choices)
        if ident in found:
            extra_choices.setdefault(ident, []).extend(choices)
            continue
        top_position = parent_position if group_key is not None else question.position
        order = (
            0 if kind == "day" else 1,
            questionnaire_id,
            page_position,
            top_position,
            question.position if group_key is not None else -1,
        )
        found[ident] = QuestionDef(
            key=question.key,
            group_key=group_key,
            kind=question.kind,
            label_de=question.label_de,
            label_en=question.label_en or question.label_de,
            unit=question.unit,
            choices=tuple(choices),
            questionnaire_kind=kind,
            order=order,
        )
    for ident, more in extra_choices.items():
        known = {code for code, _de, _en in found[ident].choices}
        added = []
        for choice in more:
            if choice[0] not in known:
                known.add(choice[0])
                added.append(choice)
        if added:
            old = found[ident]
            found[ident] = QuestionDef(**{**old.__dict__, "choices": old.choices + tuple(added)})
    return sorted(found.values(), key=lambda q: q.order)


@dataclass(frozen=True)
class FigureDef:
    """One numeric figure: a number question, or a number sub-question of a group (per choice)."""

    id: str  # stable, url-safe: "contacts", "products.units_sold", "products.units_sold:turbo_kreisel"
    question_key: str
    group_key: str | None
    choice: str | None
    label_de: str
    label_en: str
    choice_de: str | None
    choice_en: str | None
    unit: str | None

    def label(self, language: str) -> str:
        """ "Verkauft – Turbo-Kreisel" (English labels fall back to German)."""
        base = self.label_en if language == "en" and self.label_en else self.label_de
        if self.choice is None:
            return base
        choice = self.choice_en if language == "en" and self.choice_en else self.choice_de
        return f"{base} – {choice or self.choice}"


def _figure_id(question_key: str, group_key: str | None, choice: str | None = None) -> str:
    base = question_key if group_key is None else f"{group_key}.{question_key}"
    return base if choice is None else f"{base}:{choice}"


def _choice_keys(questions: list[QuestionDef]) -> dict[str, QuestionDef]:
    """group key → its (first) single-choice sub-question."""
    keys: dict[str, QuestionDef] = {}
    for question in questions:
        if question.group_key is not None and question.kind == "single_choice":
            keys.setdefault(question.group_key, question)
    return keys


def _figure_defs(questions: list[QuestionDef]) -> list[FigureDef]:
    choice_of = _choice_keys(questions)
    defs: list[FigureDef] = []
    for q in questions:
        if q.kind not in NUMBER_KINDS:
            continue
        defs.append(
            FigureDef(
                _figure_id(q.key, q.group_key),
                q.key,
                q.group_key,
                None,
                q.label_de,
                q.label_en,
                None,
                None,
                q.unit,
            )
        )
        chooser = choice_of.get(q.group_key) if q.group_key else None
        if chooser is None:
            continue
        for code, de, en in chooser.choices:
            defs.append(
                FigureDef(
                    _figure_id(q.key, q.group_key, code),
                    q.key,
                    q.group_key,
                    code,
                    q.label_de,
                    q.label_en,
                    de,
                    en,
                    q.unit,
                )
            )
    return defs


def figure_defs(session: Session, scope: Scope, flt: ReportFilter) -> list[FigureDef]:
    """The figures of the filtered reports' questionnaires, in questionnaire order."""
    return _figure_defs(question_defs(session, scope, flt))


# ---------------------------------------------------------------- figures


@dataclass
class FigureValue:
    """Sum of a figure's answers; ``answers`` rows, ``reports`` with an answer, ``days``
    promotion days (job and day) with an answer — for a weekly report's figure the "day"
    is its week (one per job and week)."""

    total: float = 0.0
    answers: int = 0
    reports: int = 0
    days: int = 0

    @property
    def avg(self) -> float | None:
        """Per report."""
        return self.total / self.reports if self.reports else None

    @property
    def per_day(self) -> float | None:
        return self.total / self.days if self.days else None


@dataclass
class Bucket:
    """One group of :func:`figures_by`: ``key`` a date (week's Monday, month's first) or an id."""

    key: object
    label: str
    values: dict[str, FigureValue] = field(default_factory=dict)


def _figure_rows(session: Session, scope: Scope, flt: ReportFilter, questions: list[QuestionDef], dimension):
    """(dimension value, figure id, FigureValue) of the filtered reports, in one statement.

    The number answers (each with the choice of its group row, if the group has a
    single-choice column) are read once (a CTE) and aggregated twice: per figure and per
    figure and choice. ``dimension``: a function (reports subquery) → (column, joiner) or
    None. A promotion day is counted by a key of job and day (distinct per figure).
    """
    number_keys = sorted({q.key for q in questions if q.kind in NUMBER_KINDS})
    if not number_keys:
        return []
    wanted = {(q.group_key, q.key) for q in questions if q.kind in NUMBER_KINDS}
    choice_of = _choice_keys(questions)
    choice_groups = sorted(g for g in choice_of if any(group == g for group, _k in wanted))
    reports = filtered_reports(session, scope, flt)
    answer = aliased(ReportAnswer, name="a")
    chosen = aliased(ReportAnswer, name="c")
    dim = dimension(reports) if dimension else None
    day_key = cast(reports.c.job_id, BigInteger) * 100_000 + day_number(session, reports.c.day)
    base = (
        select(
            (dim[0] if dim else literal_column("0")).label("dim"),
            answer.question_key.label("question_key"),
            answer.group_key.label("group_key"),
            (chosen.value_text if choice_groups else null()).label("choice"),
            answer.value_number.label("value"),
            answer.report_id.label("report_id"),
            day_key.label("day_key"),
        )
        .select_from(reports)
        .join(answer, answer.report_id == reports.c.id)
    )
    if choice_groups:
        if len(choice_groups) == 1:
            key_condition = and_(
                answer.group_key == choice_groups[0], chosen.question_key == choice_of[choice_groups[0]].key
            )
        else:
            key_condition = chosen.question_key == case(
                {g: choice_of[g].key for g in choice_groups}, value=answer.group_key
            )
        base = base.outerjoin(
            chosen,
            and_(
                chosen.report_id == answer.report_id,
                chosen.group_key == answer.group_key,
                chosen.item == answer.item,
                key_condition,
            ),
        )
    if dim:
        base = dim[1](base)
    base = base.where(answer.question_key.in_(number_keys), answer.value_number.is_not(None)).cte(
        "number_answer"
    )

    def aggregate(per_choice: bool):
        choice = base.c.choice if per_choice else null()
        statement = select(
            base.c.dim,
            base.c.question_key,
            base.c.group_key,
            choice.label("choice"),
            func.sum(base.c.value),
            func.count(base.c.value),
            func.count(distinct(base.c.report_id)),
            func.count(distinct(base.c.day_key)),
        )
        keys = [base.c.dim, base.c.question_key, base.c.group_key]
        if per_choice:
            statement = statement.where(base.c.choice.is_not(None))
            keys.append(base.c.choice)
        return statement.group_by(*keys)

    statement = aggregate(False)
    if choice_groups:
        statement = union_all(statement, aggregate(True))
    results = []
    for key, question_key, group_key, choice, total, answers, n_reports, days in session.execute(statement):
        if (group_key, question_key) not in wanted:
            continue
        value = FigureValue(float(total or 0), int(answers or 0), int(n_reports or 0), int(days or 0))
        results.append((key, _figure_id(question_key, group_key, choice), value))
    return results


def totals_of(buckets: list[Bucket], defs: list[FigureDef]) -> dict[str, FigureValue]:
    """:func:`figures` added up from ``figures_by(..., "week")`` (or "month") without another
    query: every report, answer and promotion day lies in exactly one week, so the sums,
    answers, reports and days of the weeks add up to the period's."""
    values = {d.id: FigureValue() for d in defs}
    for bucket in buckets:
        for figure_id, value in bucket.values.items():
            if figure_id in values:
                sum_ = values[figure_id]
                values[figure_id] = FigureValue(
                    sum_.total + value.total,
                    sum_.answers + value.answers,
                    sum_.reports + value.reports,
                    sum_.days + value.days,
                )
    return values


def approved_count(session: Session, scope: Scope, flt: ReportFilter, limit: int) -> int:
    """How many approved, visible reports the filter holds, counted up to ``limit + 1`` (a
    page decides whether it can afford the figures without counting every report)."""
    reports = filtered_reports(session, scope, flt, "counted_report")
    return (
        session.scalar(select(func.count()).select_from(select(reports.c.id).limit(limit + 1).subquery()))
        or 0
    )


def figures(session: Session, scope: Scope, flt: ReportFilter) -> dict[str, FigureValue]:
    """Every figure of :func:`figure_defs` by id (zero values for figures without answers)."""
    questions = question_defs(session, scope, flt)
    values = {d.id: FigureValue() for d in _figure_defs(questions)}
    for _key, figure_id, value in _figure_rows(session, scope, flt, questions, None):
        if figure_id in values:
            values[figure_id] = value
    return values


def _territory_buckets(session: Session, scope: Scope, flt: ReportFilter):
    """A CTE (territory_id, bucket_id): each territory to the sub-territory directly below
    the base it lies in (or the base itself for territories that are a base).

    Bases: the filter's territory; else a customer's own territories (the uppermost ones);
    else (the agency) the roots of the tree.
    """
    if flt.territory_id is not None:
        bases = select(Territory.id).where(Territory.id == flt.territory_id)
    elif scope.kind == "customer":
        own = select(contact_territory.c.territory_id).where(
            contact_territory.c.contact_id.in_(scope.contact_ids())
        )
        # only the uppermost: an own territory below another own territory is no base
        up = select(Territory.id.label("id"), Territory.parent_id.label("ancestor_id"))
        up = up.where(Territory.id.in_(own)).cte("own_ancestor", recursive=True)
        parent = aliased(Territory)
        up = up.union_all(
            select(up.c.id, parent.parent_id).where(
                parent.id == up.c.ancestor_id, parent.parent_id.is_not(None)
            )
        )
        nested = select(up.c.id).where(up.c.ancestor_id.in_(own))
        bases = select(Territory.id).where(Territory.id.in_(own), Territory.id.not_in(nested))
    elif scope.kind == "agency":
        bases = select(Territory.id).where(Territory.parent_id.is_(None))
    else:
        bases = select(Territory.id).where(false())
    tree = (
        select(Territory.id.label("territory_id"), Territory.id.label("bucket_id"))
        .where(Territory.parent_id.in_(bases), Territory.id.not_in(bases))
        .cte("territory_bucket", recursive=True)
    )
    child = aliased(Territory)
    tree = tree.union_all(
        select(child.id, tree.c.bucket_id).where(
            child.parent_id == tree.c.territory_id, child.id.not_in(bases)
        )
    )
    mapping = union_all(
        select(tree.c.territory_id, tree.c.bucket_id),
        select(Territory.id.label("territory_id"), Territory.id.label("bucket_id")).where(
            Territory.id.in_(bases)
        ),
    ).subquery("territory_map")
    return mapping


def _dimension(session: Session, scope: Scope, flt: ReportFilter, dimension: str):
    """A function (reports subquery) → (column, joiner): the dimension's column and what it
    needs joined to a statement selecting from the reports subquery."""

    def unchanged(statement):
        return statement

    def by_week(reports):
        return week_start(session, reports.c.day), unchanged

    def by_month(reports):
        return month_start(session, reports.c.day), unchanged

    def by_store(reports):
        return Job.location_id, lambda st: st.join(Job, Job.id == reports.c.job_id)

    def by_job(reports):
        return reports.c.job_id, unchanged

    def by_territory(reports):
        mapping = _territory_buckets(session, scope, flt)
        return (
            mapping.c.bucket_id,
            lambda st: (
                st.join(Job, Job.id == reports.c.job_id)
                .join(Location, Location.id == Job.location_id)
                .join(mapping, mapping.c.territory_id == Location.territory_id)
            ),
        )

    choices = {
        "week": by_week,
        "month": by_month,
        "store": by_store,
        "job": by_job,
        "territory": by_territory,
    }
    if dimension not in choices:
        raise ValueError(f"unknown dimension {dimension!r}")
    return choices[dimension]


def _labels(session: Session, dimension: str, keys) -> dict:
    keys = [k for k in keys if k is not None]
    if dimension == "week":
        return {k: f"{k.isocalendar()[1]:02d}/{k.isocalendar()[0]}" for k in keys}
    if dimension == "month":
        return {k: f"{k.month:02d}/{k.year}" for k in keys}
    if not keys:
        return {}
    if dimension == "store":
        rows = session.execute(select(Location.id, Location.name, Location.city).where(Location.id.in_(keys)))
        return {i: f"{name}, {city}" if city else name for i, name, city in rows}
    if dimension == "job":
        rows = session.execute(
            select(Job.id, Job.title, Location.name)
            .join(Location, Location.id == Job.location_id)
            .where(Job.id.in_(keys))
        )
        return {i: title or name for i, title, name in rows}
    rows = session.execute(select(Territory.id, Territory.name).where(Territory.id.in_(keys)))
    return dict(rows.all())


def _sorted_buckets(dimension: str, buckets: dict) -> list[Bucket]:
    if dimension in ("week", "month"):
        return [buckets[k] for k in sorted(buckets)]
    return sorted(buckets.values(), key=lambda b: (b.label.casefold(), str(b.key)))


def figures_by(session: Session, scope: Scope, flt: ReportFilter, dimension: str) -> list[Bucket]:
    """The figures per week (Monday), month (first day), store (location id), job or
    territory (see :func:`_territory_buckets`). A bucket's ``values`` hold only the figures
    with answers in it. Weeks and months ascending, the rest by label."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    questions = question_defs(session, scope, flt)
    known = {d.id for d in _figure_defs(questions)}
    rows = _figure_rows(session, scope, flt, questions, _dimension(session, scope, flt, dimension))
    labels = _labels(session, dimension, {key for key, _f, _v in rows})
    buckets: dict = {}
    for key, figure_id, value in rows:
        if key is None or figure_id not in known:
            continue
        bucket = buckets.setdefault(key, Bucket(key, labels.get(key, str(key))))
        bucket.values[figure_id] = value
    return _sorted_buckets(dimension, buckets)


# ---------------------------------------------------------------- sell-through


@dataclass
class SellThrough:
    """Opening and closing stock of one choice (product) of a group, summed over the rows
    that have both; ``choice`` None = the group's total."""

    group_key: str
    choice: str | None
    label_de: str
    label_en: str
    opening: float
    closing: float

    @property
    def sold(self) -> float:
        return self.opening - self.closing

    @property
    def share(self) -> float | None:
        return self.sold / self.opening if self.opening else None

    def label(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label_de


def sell_through(session: Session, scope: Scope, flt: ReportFilter) -> list[SellThrough]:
    """Sell-through per choice of every group with the sub-questions ``opening_stock`` and
    ``closing_stock`` (a convention of the questionnaires: the stock at the start and at
    the end of the day). Only rows (items) with both values count; the choice is the
    group's single-choice sub-question (None when it has none or a row has no choice).
    Per group: its choices in questionnaire order, then the total (choice None)."""
    questions = question_defs(session, scope, flt)
    groups: dict[str, set[str]] = {}
    for q in questions:
        if q.group_key is not None and q.kind in NUMBER_KINDS and q.key in (OPENING_STOCK, CLOSING_STOCK):
            groups.setdefault(q.group_key, set()).add(q.key)
    groups = {g: keys for g, keys in groups.items() if len(keys) == 2}
    if not groups:
        return []
    group_defs = {q.key: q for q in questions if q.group_key is None and q.kind == "group"}
    choice_of = _choice_keys(questions)
    opening = aliased(ReportAnswer, name="o")
    closing = aliased(ReportAnswer, name="cl")
    chosen = aliased(ReportAnswer, name="ch")
    choice_keys = {g: choice_of[g].key for g in groups if g in choice_of}
    if choice_keys:
        key_condition = chosen.question_key == case(choice_keys, value=opening.group_key, else_=None)
        choice_column = chosen.value_text
    else:
        key_condition = false()
        choice_column = null()
    reports = filtered_reports(session, scope, flt)
    statement = (
        select(
            opening.group_key,
            choice_column.label("choice"),
            func.sum(opening.value_number),
            func.sum(closing.value_number),
        )
        .select_from(reports)
        .join(opening, opening.report_id == reports.c.id)
        .join(
            closing,
            and_(
                closing.report_id == opening.report_id,
                closing.group_key == opening.group_key,
                closing.item == opening.item,
                closing.question_key == CLOSING_STOCK,
                closing.value_number.is_not(None),
            ),
        )
        .outerjoin(
            chosen,
            and_(
                chosen.report_id == opening.report_id,
                chosen.group_key == opening.group_key,
                chosen.item == opening.item,
                key_condition,
            ),
        )
    )
    statement = statement.where(
        opening.question_key == OPENING_STOCK,
        opening.group_key.in_(sorted(groups)),
        opening.value_number.is_not(None),
    )
    statement = statement.group_by(opening.group_key, *([chosen.value_text] if choice_keys else []))
    sums: dict[tuple[str, str | None], tuple[float, float]] = {}
    for group_key, choice, open_sum, close_sum in session.execute(statement):
        sums[(group_key, choice)] = (float(open_sum or 0), float(close_sum or 0))
    result: list[SellThrough] = []
    for group_key in sorted(groups, key=lambda g: group_defs[g].order if g in group_defs else ()):
        group = group_defs.get(group_key)
        label_de = group.label_de if group else group_key
        label_en = group.label_en if group else group_key
        chooser = choice_of.get(group_key)
        present = {choice for g, choice in sums if g == group_key}
        ordered = [code for code, _de, _en in chooser.choices] if chooser else []
        ordered += sorted(c for c in present if c is not None and c not in ordered)
        for code in ordered:
            if (group_key, code) not in sums:
                continue
            de = chooser.choice_label(code, "de") if chooser else code
            en = chooser.choice_label(code, "en") if chooser else code
            o, c = sums[(group_key, code)]
            result.append(SellThrough(group_key, code, de, en, o, c))
        o = sum(v[0] for (g, _c), v in sums.items() if g == group_key)
        c = sum(v[1] for (g, _c), v in sums.items() if g == group_key)
        result.append(SellThrough(group_key, None, label_de, label_en, o, c))
    return result


# ---------------------------------------------------------------- territories


def territory_choices(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """The territories the user may filter by, depth first (parents before their children,
    siblings by name): a customer's own and those below them; the agency's all."""
    if scope.kind == "customer":
        visible = set(session.scalars(scope.territory_ids()))
    elif scope.kind == "agency":
        visible = None
    else:
        return []
    rows = session.execute(select(Territory.id, Territory.name, Territory.parent_id)).all()
    children: dict[int | None, list[tuple[str, int]]] = {}
    for territory_id, name, parent_id in rows:
        children.setdefault(parent_id, []).append((name, territory_id))
    ordered: list[tuple[int, str]] = []

    def walk(parent_id: int | None) -> None:
        for name, territory_id in sorted(children.get(parent_id, []), key=lambda c: c[0].casefold()):
            if visible is None or territory_id in visible:
                ordered.append((territory_id, name))
            walk(territory_id)

    walk(None)
    return ordered


def compares_territories(session: Session, scope: Scope, flt: ReportFilter) -> bool:
    """True if the visible stores of the filter lie in more than one bucket of
    ``figures_by(..., "territory")`` — then the territory comparison is worth showing."""
    mapping = _territory_buckets(session, scope, flt)
    count = session.scalar(
        select(func.count(distinct(mapping.c.bucket_id)))
        .select_from(Job)
        .join(Location, Location.id == Job.location_id)
        .join(mapping, mapping.c.territory_id == Location.territory_id)
        .where(scope.condition(Job), *_job_conditions(flt))
    )
    return (count or 0) > 1


# ---------------------------------------------------------------- progress


@dataclass
class Progress:
    """Appointments of the visible jobs in the period.

    ``planned``: status planned (agreed, not done yet); ``done``; ``cancelled`` —
    proposals and rejected proposals are not counted. ``missing_report``: planned or
    done appointments that need a day report (a published day questionnaire of the
    appointment, else its job's, else its project's), are done or lie before today, and
    have no approved report. Minutes: planned from the appointments' times (not
    cancelled); worked from the approved day reports' actual times minus the break.
    ``days``: appointment days (job and date, not cancelled); ``staffed_days``: of them
    with a confirmed booking.
    """

    planned: int = 0
    done: int = 0
    cancelled: int = 0
    missing_report: int = 0
    planned_minutes: int = 0
    worked_minutes: int = 0
    days: int = 0
    staffed_days: int = 0

    @property
    def staffed_share(self) -> float | None:
        return self.staffed_days / self.days if self.days else None

    @property
    def hours_planned(self) -> float:
        return self.planned_minutes / 60

    @property
    def hours_worked(self) -> float:
        return self.worked_minutes / 60

    @property
    def appointments(self) -> int:
        """Planned and done (not cancelled)."""
        return self.planned + self.done


@dataclass
class StoreProgress:
    location_id: int
    name: str
    city: str
    progress: Progress


def _published_questionnaires():
    """Ids of the questionnaires with a published version (their appointments need a report)."""
    return select(QuestionnaireVersion.questionnaire_id).where(QuestionnaireVersion.published_at.is_not(None))


def _progress_rows(
    session: Session, scope: Scope, flt: ReportFilter, dimension: str | None, today: dt.date | None
):
    """(dimension value, Progress) rows in one statement: per appointment its flags, per
    (dimension, job, date) the day's, then summed per dimension value."""
    if today is None:
        from app.common.timezone import local_today

        today = local_today()
    approved = aliased(Report, name="approved_report")
    questionnaire = func.coalesce(
        Appointment.day_questionnaire_id, Job.day_questionnaire_id, Project.day_questionnaire_id
    )
    published = questionnaire.in_(_published_questionnaires())
    confirmed = (
        select(Booking.id)
        .where(Booking.appointment_id == Appointment.id, Booking.status == "confirmed")
        .exists()
    )
    active = Appointment.status != "cancelled"
    worked = minutes_between(session, approved.actual_start, approved.actual_end) - func.coalesce(
        approved.break_minutes, 0
    )
    one, zero = literal_column("1"), literal_column("0")
    if dimension == "week":
        dim = week_start(session, Appointment.date)
    elif dimension == "store":
        dim = Job.location_id
    else:
        dim = None
    dim_column = (dim if dim is not None else literal_column("0")).label("dim")
    per_appointment = (
        select(
            dim_column,
            Appointment.job_id.label("job_id"),
            Appointment.date.label("date"),
            case((Appointment.status == "planned", one), else_=zero).label("planned"),
            case((Appointment.status == "done", one), else_=zero).label("done"),
            case((Appointment.status == "cancelled", one), else_=zero).label("cancelled"),
            case(
                (
                    and_(
                        active,
                        approved.id.is_(None),
                        or_(Appointment.status == "done", Appointment.date < today),
                        published,
                    ),
                    one,
                ),
                else_=zero,
            ).label("missing"),
            case(
                (active, minutes_between(session, Appointment.start_time, Appointment.end_time)), else_=zero
            ).label("planned_minutes"),
            case(
                (
                    and_(
                        active,
                        approved.actual_start.is_not(None),
                        approved.actual_end.is_not(None),
                        approved.actual_end > approved.actual_start,
                    ),
                    worked,
                ),
                else_=zero,
            ).label("worked_minutes"),
            case((active, one), else_=zero).label("active"),
            case((and_(active, confirmed), one), else_=zero).label("staffed"),
        )
        .select_from(Appointment)
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .outerjoin(approved, and_(approved.appointment_id == Appointment.id, approved.status == "approved"))
        .where(
            scope.condition(Appointment),
            Appointment.date >= flt.date_from,
            Appointment.date <= flt.date_to,
            Appointment.status.in_(PROGRESS_STATUSES),
            *_job_conditions(flt),
        )
        .subquery("per_appointment")
    )
    a = per_appointment.c
    per_day = (
        select(
            a.dim,
            func.sum(a.planned).label("planned"),
            func.sum(a.done).label("done"),
            func.sum(a.cancelled).label("cancelled"),
            func.sum(a.missing).label("missing"),
            func.sum(a.planned_minutes).label("planned_minutes"),
            func.sum(a.worked_minutes).label("worked_minutes"),
            func.max(a.active).label("active"),
            func.max(a.staffed).label("staffed"),
        )
        .group_by(a.dim, a.job_id, a.date)
        .subquery("per_day")
    )
    d = per_day.c
    statement = select(
        d.dim,
        func.sum(d.planned),
        func.sum(d.done),
        func.sum(d.cancelled),
        func.sum(d.missing),
        func.sum(d.planned_minutes),
        func.sum(d.worked_minutes),
        func.sum(d.active),
        func.sum(d.staffed),
    ).group_by(d.dim)
    return [(row[0], Progress(*(int(v or 0) for v in row[1:]))) for row in session.execute(statement)]


def progress(session: Session, scope: Scope, flt: ReportFilter, today: dt.date | None = None) -> Progress:
    """The period's progress (see :class:`Progress`); ``today`` defaults to the local date."""
    rows = _progress_rows(session, scope, flt, None, today)
    return rows[0][1] if rows else Progress()


def progress_by_week(
    session: Session, scope: Scope, flt: ReportFilter, today: dt.date | None = None
) -> list[tuple[dt.date, Progress]]:
    """Progress per week (Monday, ascending), only weeks with appointments."""
    return sorted(_progress_rows(session, scope, flt, "week", today), key=lambda r: r[0])


def progress_by_store(
    session: Session, scope: Scope, flt: ReportFilter, limit: int = 500, today: dt.date | None = None
) -> list[StoreProgress]:
    """Progress per store with appointments in the period, by city and name (at most ``limit``)."""
    rows = dict(_progress_rows(session, scope, flt, "store", today))
    if not rows:
        return []
    stores = session.execute(
        select(Location.id, Location.name, Location.city)
        .where(Location.id.in_(list(rows)))
        .order_by(Location.city, Location.name, Location.id)
        .limit(limit)
    )
    return [StoreProgress(i, name, city or "", rows[i]) for i, name, city in stores]


# ---------------------------------------------------------------- photos


@dataclass(frozen=True)
class PhotoRow:
    file_id: int
    report_id: int
    day: dt.date
    location_name: str
    city: str
    question_key: str
    label_de: str
    label_en: str
    has_thumbnail: bool = False


@dataclass
class PhotoPage:
    items: list[PhotoRow]
    has_more: bool
    page: int = 1


def photos(session: Session, scope: Scope, flt: ReportFilter, page: int = 1, per_page: int = 24) -> PhotoPage:
    """The image files of the filtered approved reports (``flt.question_key``: of one question),
    newest day first; the label is the question's in the report's own version."""
    page = max(1, min(int(page), 100_000))
    per_page = max(1, min(int(per_page), 200))
    reports = filtered_reports(session, scope, flt)
    day = reports.c.day
    question = aliased(Question)
    statement = (
        select(
            ReportFile.id,
            ReportFile.report_id,
            day,
            Location.name,
            Location.city,
            ReportFile.question_key,
            question.label_de,
            question.label_en,
            ReportFile.thumbnail_key,
        )
        .select_from(reports)
        .join(ReportFile, ReportFile.report_id == reports.c.id)
        .join(Job, Job.id == reports.c.job_id)
        .join(Location, Location.id == Job.location_id)
        .outerjoin(
            question,
            and_(question.version_id == reports.c.version_id, question.key == ReportFile.question_key),
        )
        .where(ReportFile.content_type.like("image/%"))
    )
    if flt.question_key:
        statement = statement.where(ReportFile.question_key == flt.question_key)
    statement = (
        statement.order_by(day.desc(), ReportFile.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)
    )
    rows = session.execute(statement).all()
    items = [
        PhotoRow(
            file_id,
            report_id,
            day_,
            name,
            city or "",
            key,
            label_de or key,
            label_en or label_de or key,
            bool(thumbnail),
        )
        for file_id, report_id, day_, name, city, key, label_de, label_en, thumbnail in rows[:per_page]
    ]
    return PhotoPage(items=items, has_more=len(rows) > per_page, page=page)


def photo_questions(session: Session, scope: Scope, flt: ReportFilter) -> list[QuestionDef]:
    """The photo questions of the filtered reports' questionnaires (the gallery's filter)."""
    return [q for q in question_defs(session, scope, flt) if q.kind == "photo"]


# ---------------------------------------------------------------- rows for the XLSX export


def group_sizes(session: Session, scope: Scope, flt: ReportFilter) -> dict[str, int]:
    """Per group key the most rows (items) one filtered report has — how many column sets a
    flattened export needs before it streams the rows (one statement)."""
    reports = filtered_reports(session, scope, flt)
    statement = (
        select(ReportAnswer.group_key, func.max(ReportAnswer.item))
        .select_from(reports)
        .join(ReportAnswer, ReportAnswer.report_id == reports.c.id)
        .where(ReportAnswer.group_key.is_not(None))
        .group_by(ReportAnswer.group_key)
    )
    return {group_key: int(top) + 1 for group_key, top in session.execute(statement)}


@dataclass(frozen=True)
class ReportRow:
    """One approved report of :func:`report_rows` (the promoter by display name only)."""

    report_id: int
    kind: str
    day: dt.date
    location_id: int
    location_name: str
    city: str
    project_name: str
    job_id: int
    job_title: str
    promoter: str
    questionnaire_version_id: int
    start_time: dt.time | None
    end_time: dt.time | None
    actual_start: dt.time | None
    actual_end: dt.time | None
    break_minutes: int | None
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None


@dataclass(frozen=True)
class AnswerRow:
    """One stored answer: ``value_number`` for numbers and yes/no (1/0), ``value_text`` for
    the rest (choice codes, ISO dates, HH:MM); ``group_key``/``item`` for a group's row."""

    question_key: str
    group_key: str | None
    item: int
    value_text: str | None
    value_number: float | None


#: Rows fetched per round trip while streaming.
STREAM_BATCH = 1000


def report_rows(
    session: Session, scope: Scope, flt: ReportFilter
) -> Iterator[tuple[ReportRow, list[AnswerRow]]]:
    """The filtered approved reports, ordered by day, store and id, each with its answers
    (in the order they were stored) — streamed in exactly two statements (reports and
    answers, both in the same order, merged here), so memory stays flat for any number of
    reports. Columns for the workbook: :func:`question_defs` and :func:`group_sizes` (same
    scope and filter): a group's sub-answers have ``group_key`` and their row ``item``
    (0, 1, …); choices are codes (labels: ``QuestionDef.choice_label``); yes/no are 1/0.

    Consume the iterator completely (or close it) before using the session for other
    statements on PostgreSQL (the two statements are server-side cursors).
    """
    filtered = filtered_reports(session, scope, flt)
    order = (filtered.c.day, Location.name, filtered.c.id)
    reports = (
        select(
            Report.id,
            Report.kind,
            filtered.c.day,
            Location.id,
            Location.name,
            Location.city,
            Project.name,
            Job.id,
            Job.title,
            Promoter.first_name,
            Promoter.last_name,
            Report.questionnaire_version_id,
            Appointment.start_time,
            Appointment.end_time,
            Report.actual_start,
            Report.actual_end,
            Report.break_minutes,
            Report.submitted_at,
            Report.reviewed_at,
        )
        .select_from(filtered)
        .join(Report, Report.id == filtered.c.id)
        .join(Job, Job.id == filtered.c.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Project, Project.id == Job.project_id)
        .join(Promoter, Promoter.id == Report.promoter_id)
        .outerjoin(Appointment, Appointment.id == Report.appointment_id)
        .order_by(*order)
    )
    answers = (
        select(
            ReportAnswer.report_id,
            ReportAnswer.question_key,
            ReportAnswer.group_key,
            ReportAnswer.item,
            ReportAnswer.value_text,
            ReportAnswer.value_number,
        )
        .select_from(filtered)
        .join(ReportAnswer, ReportAnswer.report_id == filtered.c.id)
        .join(Job, Job.id == filtered.c.job_id)
        .join(Location, Location.id == Job.location_id)
        .order_by(*order, ReportAnswer.id)
    )
    options = {"yield_per": STREAM_BATCH}
    report_result = session.execute(reports, execution_options=options)
    answer_result = session.execute(answers, execution_options=options)
    try:
        pending = next(answer_result, None)
        for row in report_result:
            mine: list[AnswerRow] = []
            while pending is not None and pending[0] == row[0]:
                mine.append(AnswerRow(*pending[1:]))
                pending = next(answer_result, None)
            promoter = f"{row[9]} {(row[10] or '')[:1]}." if row[10] else row[9]
            yield (
                ReportRow(
                    report_id=row[0],
                    kind=row[1],
                    day=row[2],
                    location_id=row[3],
                    location_name=row[4],
                    city=row[5] or "",
                    project_name=row[6],
                    job_id=row[7],
                    job_title=row[8],
                    promoter=promoter,
                    questionnaire_version_id=row[11],
                    start_time=row[12],
                    end_time=row[13],
                    actual_start=row[14],
                    actual_end=row[15],
                    break_minutes=row[16],
                    submitted_at=row[17],
                    reviewed_at=row[18],
                ),
                mine,
            )
    finally:
        report_result.close()
        answer_result.close()


# ---------------------------------------------------------------- punctuality (agency)


@dataclass
class PunctualityRow:
    """One promoter's day reports due in the period (see :func:`punctuality`)."""

    promoter_id: int
    name: str  # full name (agency only)
    display_name: str
    due: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    #: Average hours from the appointment's end to the submission, over the submitted reports.
    avg_delay_hours: float | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


def _utc_offsets(zone_name: str, first: dt.date, last: dt.date) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """Local wall-clock intervals [start, end) with their constant UTC offset in minutes,
    covering ``first`` … ``last`` (plus a day either side), for databases without time zones."""
    zone = ZoneInfo(zone_name)
    start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time())

    def offset(moment: dt.datetime) -> int:
        return int(moment.replace(tzinfo=zone).utcoffset().total_seconds() // 60)

    intervals = []
    current_start, current = start, offset(start)
    moment = start
    while moment < end:
        moment += dt.timedelta(hours=1)
        value = offset(moment)
        if value != current:
            intervals.append((current_start, moment, current))
            current_start, current = moment, value
    intervals.append((current_start, end + dt.timedelta(days=1), current))
    return intervals


def punctuality(
    session: Session,
    flt: ReportFilter,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> list[PunctualityRow]:
    """Day-report punctuality per promoter (agency only), by name.

    Due: the confirmed bookings of planned or done appointments of the period that need a
    day report (a published day questionnaire, inherited from job and project) and whose
    deadline — the appointment's end (local time, TIMEZONE) plus REPORT_REMINDER_HOURS —
    has passed by ``now`` or whose report was submitted. On time: the appointment's report
    was submitted (``submitted_at``, any later status) by the deadline; late: after it;
    missing: not submitted (no report, or still a draft). The delay is measured from the
    appointment's end. One statement.
    """
    from flask import current_app

    if scope is not None and scope.kind != "agency":
        return []
    hours = int(current_app.config.get("REPORT_REMINDER_HOURS", 24))
    zone_name = current_app.config["TIMEZONE"]
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is not None:
        now = now.astimezone(dt.UTC).replace(tzinfo=None)
    questionnaire = func.coalesce(
        Appointment.day_questionnaire_id, Job.day_questionnaire_id, Project.day_questionnaire_id
    )
    published = questionnaire.in_(_published_questionnaires())
    report = aliased(Report, name="day_report")
    submitted = report.submitted_at
    if _dialect(session) == "postgresql":
        local_end = Appointment.date + Appointment.end_time
        end_utc = func.timezone("UTC", func.timezone(zone_name, local_end))
        deadline = end_utc + func.make_interval(0, 0, 0, 0, hours)
        delay_hours = func.extract("epoch", submitted - end_utc) / 3600.0
    else:
        intervals = _utc_offsets(zone_name, flt.date_from, flt.date_to)
        local_end = func.datetime(Appointment.date, Appointment.end_time)
        whens = [
            (local_end < to.strftime("%Y-%m-%d %H:%M:%S"), -minutes) for _s, to, minutes in intervals[:-1]
        ]
        shift = literal_column(str(-intervals[-1][2]))
        if whens:
            shift = case(*whens, else_=shift)
        end_utc = func.datetime(local_end, func.printf("%+d minutes", shift))
        deadline = func.datetime(end_utc, f"+{hours} hours")
        delay_hours = (func.julianday(submitted) - func.julianday(end_utc)) * 24.0
    submitted_at = submitted if _dialect(session) == "postgresql" else func.datetime(submitted)
    is_submitted = submitted.is_not(None)
    on_time = and_(is_submitted, submitted_at <= deadline)
    late = and_(is_submitted, submitted_at > deadline)
    now_value = now if _dialect(session) == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S")
    due = or_(is_submitted, deadline < now_value)
    one, zero = literal_column("1"), literal_column("0")
    statement = (
        select(
            Promoter.id,
            Promoter.first_name,
            Promoter.last_name,
            func.sum(case((due, one), else_=zero)),
            func.sum(case((on_time, one), else_=zero)),
            func.sum(case((late, one), else_=zero)),
            func.sum(case((and_(due, ~is_submitted), one), else_=zero)),
            func.avg(case((is_submitted, cast(delay_hours, Float)), else_=None)),
        )
        .select_from(Booking)
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Project, Project.id == Job.project_id)
        .join(Promoter, Promoter.id == Booking.promoter_id)
        .outerjoin(report, report.appointment_id == Appointment.id)
    )
    statement = (
        statement.where(
            Booking.status == "confirmed",
            Appointment.status.in_(("planned", "done")),
            Appointment.date >= flt.date_from,
            Appointment.date <= flt.date_to,
            published,
            *_job_conditions(flt),
        )
        .group_by(Promoter.id, Promoter.first_name, Promoter.last_name)
        .order_by(Promoter.last_name, Promoter.first_name, Promoter.id)
    )
    result = []
    for promoter_id, first, last, n_due, n_on_time, n_late, n_missing, delay in session.execute(statement):
        if not n_due:
            continue
        result.append(
            PunctualityRow(
                promoter_id,
                f"{first} {last}",
                f"{first} {last[:1]}.",
                int(n_due),
                int(n_on_time or 0),
                int(n_late or 0),
                int(n_missing or 0),
                None if delay is None else float(delay),
            )
        )
    return result
