"""What the reporting pages show, for the customer's area and the agency's dashboard alike.

- :func:`read_filter` turns a query string into an :class:`analytics.ReportFilter`: broken
  or foreign values are dropped with a message in the user's language (never a 500), the
  choices offered are the user's visible projects, territories and stores.
- :func:`overview` gathers the dashboard's numbers from :mod:`app.reporting.analytics` (every
  query there restricts by the visibility scope in SQL) and shapes the charts' data.
- :func:`photo_questions` and :func:`visible_report` read the photo filter's questions and one
  report — through :mod:`app.security.visibility` as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from app.common.dates import parse_day
from app.common.formatting import format_day
from app.models.planning import Job, Project
from app.models.reporting import Question, QuestionnaireVersion, Report
from app.reporting import analytics, charts
from app.security.visibility import Scope

#: Largest id accepted from a query string (larger ones name no record).
MAX_ID = 2**31 - 1
#: Largest page number of a paged list.
MAX_PAGE = 100_000
#: Longest period one page may cover (days): a few years of a campaign.
MAX_DAYS = 3 * 366 + 1
#: The period shown without a choice.
DEFAULT_RANGE = "last_4_weeks"
#: The chosen figure's table is broken down by this without a choice (weeks: the figures of
#: the charts' own query, no extra one).
DEFAULT_BREAKDOWN = "week"
#: The agency's dashboard over all projects computes figures up to this many reports.
AGENCY_MAX_REPORTS = 10_000
#: Rows of the breakdown table (stores: the filter narrows further).
BREAKDOWN_ROWS = 500
#: Stores in the ranking chart.
RANKING_SIZE = 15
#: Stores in the progress table (more: the user narrows the filter).
STORE_ROWS = 500


def range_labels() -> dict[str, str]:
    """The period choices of analytics.RANGES in the user's language."""
    labels = {
        "this_week": _("This week"),
        "last_week": _("Last week"),
        "last_4_weeks": _("Last 4 weeks"),
        "this_month": _("This month"),
        "last_month": _("Last month"),
        "this_year": _("This year"),
        "custom": _("Custom"),
    }
    return {code: labels.get(code, code) for code in analytics.RANGES}


def parse_id(value: str | None) -> int | None | bool:
    """An id from a query string: None when empty, False when it is no id at all."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 10 or int(value) > MAX_ID or int(value) < 1:
        return False
    return int(value)


@dataclass
class FilterState:
    """The filter a page shows: the values to fill the form with, the messages about what
    was dropped, and the filter the queries get."""

    flt: analytics.ReportFilter
    range: str
    values: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    page: int = 1
    figure: str | None = None
    #: The breakdown of the chosen figure: one of analytics.DIMENSIONS.
    by: str = DEFAULT_BREAKDOWN

    def args(self, *drop: str, **extra) -> dict[str, str]:
        """The query string arguments that reproduce this filter (for links and downloads)."""
        args = {k: v for k, v in self.values.items() if v and k not in drop}
        args.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
        return args

    def period_text(self) -> str:
        start, end = self.flt.date_from, self.flt.date_to
        return format_day(start) if start == end else f"{format_day(start)}–{format_day(end)}"


@dataclass
class Choices:
    """What the filter bar offers: (id, label) pairs (the agency's: only the chosen record of
    a remote select)."""

    projects: list[tuple[int, str]] = field(default_factory=list)
    territories: list[tuple[int, str]] = field(default_factory=list)
    stores: list[tuple[int, str]] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)

    def project_ids(self) -> set[int]:
        return {pk for pk, _label in self.projects}


def read_filter(
    args: Mapping[str, str], today: dt.date, choices: Choices, with_page: bool = False
) -> FilterState:
    """The filter of a query string. Values that are not offered (another customer's store,
    a date that does not exist, a period of decades) are dropped with a message."""
    messages: list[str] = []
    values: dict[str, str] = {}

    code = (args.get("range") or "").strip()
    if code and code not in analytics.RANGES:
        messages.append(_("Unknown period; showing the last 4 weeks."))
        code = ""
    code = code or DEFAULT_RANGE

    typed: dict[str, dt.date | None] = {}
    for name, text in (("from", _("From")), ("to", _("To"))):
        raw = (args.get(name) or "").strip()
        typed[name] = None
        if not raw:
            continue
        day = parse_day(raw[:40], "de") or parse_day(raw[:40], "en")
        if day is None:
            message = _('%(field)s: "%(value)s" is not a date; please enter it as dd.mm.yyyy.')
            messages.append(message % {"field": text, "value": raw[:40]})
            continue
        typed[name] = day
    date_from, date_to = typed["from"], typed["to"]
    if date_from or date_to or code == "custom":
        default_from, default_to = analytics.period_of(DEFAULT_RANGE, today)
        try:
            start = date_from or (date_to - dt.timedelta(days=27) if date_to else default_from)
            end = date_to or (date_from + dt.timedelta(days=27) if date_from else default_to)
        except OverflowError:  # four weeks after 31.12.9999
            start, end = dt.date.max, dt.date.min
        if end < start:
            messages.append(_("The end of the period lies before its start; showing the last 4 weeks."))
            start, end = default_from, default_to
            code = DEFAULT_RANGE
        elif (end - start).days > MAX_DAYS:
            messages.append(_("A period of at most three years can be shown; showing the last 4 weeks."))
            start, end = default_from, default_to
            code = DEFAULT_RANGE
        else:
            code = "custom"
            values["from"] = start.isoformat()
            values["to"] = end.isoformat()
    else:
        start, end = analytics.period_of(code, today)
    values["range"] = code

    chosen: dict[str, int | None] = {}
    offered = {
        "project": (choices.project_ids(), _("The chosen project is not available; showing all projects.")),
        "territory": (
            {pk for pk, _label in choices.territories},
            _("The chosen territory is not available; showing all territories."),
        ),
        "store": (
            {pk for pk, _label in choices.stores},
            _("The chosen store is not available; showing all stores."),
        ),
    }
    for name, (ids, message) in offered.items():
        value = parse_id(args.get(name))
        if value is False or (value is not None and value not in ids):
            messages.append(message)
            value = None
        chosen[name] = value
        if value is not None:
            values[name] = str(value)

    question = (args.get("question") or "").strip()
    if question and question not in {key for key, _label in choices.questions}:
        messages.append(_("The chosen question is not available; showing all photos."))
        question = ""
    if question:
        values["question"] = question

    page = 1
    if with_page:
        raw_page = (args.get("page") or "").strip()
        if raw_page:
            if raw_page.isdigit() and len(raw_page) <= 6 and 1 <= int(raw_page) <= MAX_PAGE:
                page = int(raw_page)
            else:
                messages.append(_("There is no such page; showing the first one."))

    flt = analytics.ReportFilter(
        date_from=start,
        date_to=end,
        project_id=chosen["project"],
        territory_id=chosen["territory"],
        location_id=chosen["store"],
        question_key=question or None,
    )
    figure = (args.get("figure") or "").strip()[:200] or None
    by = (args.get("by") or "").strip()
    if by and by not in analytics.DIMENSIONS:
        messages.append(_("Unknown breakdown; showing the figure by week."))
        by = ""
    state = FilterState(
        flt=flt,
        range=code,
        values=values,
        messages=messages,
        page=page,
        figure=figure,
        by=by or DEFAULT_BREAKDOWN,
    )
    if figure:
        values["figure"] = figure
    return state


def breakdown_labels() -> dict[str, str]:
    """The breakdowns of the chosen figure (analytics.DIMENSIONS) in the user's language."""
    labels = {
        "week": _("Week"),
        "month": _("Month"),
        "store": _("Store"),
        "job": _("Job"),
        "territory": _("Territory"),
    }
    return {code: labels.get(code, code) for code in analytics.DIMENSIONS}


# ---------------------------------------------------------------- the dashboard


@dataclass
class FigureRow:
    figure: analytics.FigureDef
    label: str
    value: analytics.FigureValue | None

    @property
    def total(self) -> float | None:
        return self.value.total if self.value else None

    @property
    def average(self) -> float | None:
        if not self.value or not self.value.reports:
            return None
        return self.value.total / self.value.reports

    @property
    def per_day(self) -> float | None:
        if not self.value or not self.value.days:
            return None
        return self.value.total / self.value.days


@dataclass
class Overview:
    progress: analytics.Progress
    weeks: list
    figures: list[FigureRow]
    sell_through: list
    figure: analytics.FigureDef | None
    figure_choices: list[tuple[str, str]]
    #: charts.Chart objects (drawing as inline SVG and its table); None where there is nothing to draw
    progress_chart: charts.Chart | None = None
    trend: charts.Chart | None = None
    ranking: charts.Chart | None = None
    territories: charts.Chart | None = None
    #: The chosen figure by week, month, store, job or territory (``by``): (label, value) rows.
    by: str = DEFAULT_BREAKDOWN
    breakdown: list[tuple[str, analytics.FigureValue]] = field(default_factory=list)
    #: Too many reports for the figures (see :func:`overview`'s ``max_reports``).
    capped: bool = False


def default_figure(defs: list[analytics.FigureDef]) -> analytics.FigureDef | None:
    """Units sold when the questionnaire asks for them (the group's total), else the first figure."""
    for figure in defs:
        if figure.question_key == "units_sold" and figure.choice is None:
            return figure
    return defs[0] if defs else None


def _compared(defs: list[analytics.FigureDef], figure: analytics.FigureDef) -> list[analytics.FigureDef]:
    """The figures of the territory comparison: the chosen one and the plain number questions."""
    chosen = [figure]
    for other in defs:
        if len(chosen) >= 4:
            break
        if other.group_key is None and other.choice is None and other.id != figure.id:
            chosen.append(other)
    return chosen


def overview(
    session: Session, scope: Scope, state: FilterState, language: str, max_reports: int | None = None
) -> Overview:
    """Every number of the dashboard for the filter (a fixed number of aggregate queries).

    ``max_reports``: above this many approved reports in the period the figures are not
    computed (the agency over all projects: at 1,000,000 appointments a month of every
    project is ~30,000 reports and 300,000 answers, seconds per aggregate on SQLite); the
    page asks to choose a project, customer or territory instead."""
    flt = state.flt
    defs = analytics.figure_defs(session, scope, flt)
    weeks = analytics.progress_by_week(session, scope, flt)
    progress = analytics.progress(session, scope, flt)
    if max_reports is not None and analytics.approved_count(session, scope, flt, max_reports) > max_reports:
        state.messages.append(
            _(
                "More than %(count)s approved reports in this period: choose a project, customer or "
                "territory (or a shorter period) to see the figures and charts.",
                count=format_decimal(max_reports),
            )
        )
        data = Overview(
            progress=progress, weeks=weeks, figures=[], sell_through=[], figure=None, figure_choices=[]
        )
        data.capped = True
        if weeks:
            data.progress_chart = charts.progress_weeks(weeks, language)
        return data
    by_week = analytics.figures_by(session, scope, flt, "week")
    values = analytics.totals_of(by_week, defs)
    rows = [FigureRow(figure=d, label=d.label(language), value=values.get(d.id)) for d in defs]
    figure = next((d for d in defs if d.id == state.figure), None)
    if state.figure and figure is None:
        state.messages.append(_("The chosen figure is not available; showing the default one."))
    figure = figure or default_figure(defs)
    data = Overview(
        progress=progress,
        weeks=weeks,
        figures=rows,
        sell_through=analytics.sell_through(session, scope, flt),
        figure=figure,
        figure_choices=[(d.id, d.label(language)) for d in defs],
    )
    if weeks:
        data.progress_chart = charts.progress_weeks(weeks, language)
    if figure is not None:
        buckets = {"week": by_week, "store": analytics.figures_by(session, scope, flt, "store")}
        data.trend = charts.weekly_trend(
            buckets["week"], figure, language, period=(flt.date_from, flt.date_to)
        )
        data.ranking = charts.store_ranking(buckets["store"], figure, language, top=RANKING_SIZE)
        if analytics.compares_territories(session, scope, flt):
            buckets["territory"] = analytics.figures_by(session, scope, flt, "territory")
            data.territories = charts.territory_comparison(
                buckets["territory"], _compared(defs, figure), language
            )
        data.by = state.by
        if state.by not in buckets:
            buckets[state.by] = analytics.figures_by(session, scope, flt, state.by)
        data.breakdown = _breakdown(buckets[state.by], figure, state)
    return data


def _breakdown(buckets: list, figure: analytics.FigureDef, state: FilterState) -> list:
    """(label, value) of the figure per bucket; weeks and months named by their first day."""
    rows = []
    for bucket in buckets:
        value = bucket.values.get(figure.id)
        if value is None:
            continue
        if state.by == "week":
            label = _("Week from %(day)s", day=format_day(bucket.key))
        elif state.by == "month":
            label = f"{bucket.key:%m/%Y}"
        else:
            label = bucket.label
        rows.append((label, value))
    if len(rows) > BREAKDOWN_ROWS:
        state.messages.append(
            _(
                "Only the first %(count)d rows are listed; choose a project, territory or store.",
                count=BREAKDOWN_ROWS,
            )
        )
    return rows[:BREAKDOWN_ROWS]


def store_progress(session: Session, scope: Scope, state: FilterState) -> list:
    """Progress per store (at most STORE_ROWS; a message says when there are more)."""
    stores = analytics.progress_by_store(session, scope, state.flt, limit=STORE_ROWS + 1)
    if len(stores) > STORE_ROWS:
        state.messages.append(
            _(
                "Only the first %(count)d stores are listed; choose a project, territory or store.",
                count=STORE_ROWS,
            )
        )
    return stores[:STORE_ROWS]


# ---------------------------------------------------------------- downloads


def download(body, content_type: str, name: str):
    """A file download that no cache keeps."""
    from flask import current_app

    response = current_app.response_class(body)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def xlsx_download(session: Session, scope: Scope, state: FilterState, language: str):
    """The filtered reports as a streamed Excel workbook (one row per report)."""
    from flask import stream_with_context

    from app.reporting import workbook
    from app.transfer.tables import CONTENT_TYPES

    pieces, name = workbook.stream_xlsx(session, scope, state.flt, language)
    return download(stream_with_context(pieces), CONTENT_TYPES["xlsx"], name)


def pdf_download(
    session: Session, scope: Scope, state: FilterState, choices: Choices, language: str, customer: str = ""
):
    """The campaign report of the filtered period as PDF, in the user's language."""
    from app.reporting import pdf

    flt = state.flt
    projects = dict(choices.projects)
    data = pdf.campaign_report(
        session,
        scope,
        flt,
        language,
        customer=customer,
        project=projects.get(flt.project_id, "") if flt.project_id else "",
        territory=dict(choices.territories).get(flt.territory_id, "") if flt.territory_id else "",
    )
    base = _("campaign-report")
    name = f"{base}-{flt.date_from.isoformat()}-{flt.date_to.isoformat()}.pdf"
    return download(data, "application/pdf", name)


# ---------------------------------------------------------------- photos and one report


def photo_questions(session: Session, scope: Scope, language: str) -> list[tuple[str, str]]:
    """The photo questions of the questionnaires the visible projects and jobs use (key, label)."""
    projects = select(Project.day_questionnaire_id).where(scope.condition(Project))
    projects = projects.union(select(Project.week_questionnaire_id).where(scope.condition(Project)))
    jobs = select(Job.day_questionnaire_id).where(scope.condition(Job), Job.day_questionnaire_id.is_not(None))
    jobs = jobs.union(
        select(Job.week_questionnaire_id).where(scope.condition(Job), Job.week_questionnaire_id.is_not(None))
    )
    rows = session.execute(
        select(Question.key, Question.label_de, Question.label_en)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Question.version_id)
        .where(
            Question.kind == "photo",
            or_(
                QuestionnaireVersion.questionnaire_id.in_(projects),
                QuestionnaireVersion.questionnaire_id.in_(jobs),
            ),
        )
        .order_by(QuestionnaireVersion.questionnaire_id, Question.position, Question.id)
    ).all()
    found: dict[str, str] = {}
    for key, label_de, label_en in rows:
        found.setdefault(key, (label_en if language == "en" and label_en else label_de) or key)
    return list(found.items())


def visible_report(session: Session, scope: Scope, report_id: int) -> Report | None:
    """One report the scope may see (a customer: approved, of a visible job), else None."""
    return session.scalar(
        select(Report)
        .where(Report.id == report_id, scope.condition(Report))
        .options(
            joinedload(Report.job).options(joinedload(Job.location), joinedload(Job.project)),
            joinedload(Report.appointment),
            joinedload(Report.promoter),
            joinedload(Report.questionnaire_version).joinedload(QuestionnaireVersion.questionnaire),
        )
    )
