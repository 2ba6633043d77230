"""The reporting charts: reportlab drawings, the same ones on the page (inline SVG) and in
the PDF, each with the table of its numbers (the accessible view of the chart).

Pure functions of the analytics results (:mod:`app.reporting.analytics`: ``Bucket`` with
``key``, ``label`` and ``values`` by ``FigureDef.id``; ``Progress``) — no queries here.
The shapes are drawn by hand on a small canvas (:data:`WIDTH` points wide) with few
ticks and short labels, so that the SVG, scaled to the width of a phone (320 px), stays
readable; rankings are horizontal bars with the store's name above its bar.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

if TYPE_CHECKING:
    from app.reporting.analytics import Bucket, FigureDef, FigureValue, Progress

#: The canvas width in points (the SVG's viewBox width; the PDF scales the drawing).
WIDTH = 340
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
CSS_FONTS = "Helvetica, Arial, sans-serif"
LABEL_SIZE = 11
TICK_SIZE = 10
#: Text and bars: contrast against white of at least 4.5:1 (text) and 3:1 (bars).
TEXT = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#4d4d4d")
GRID = colors.HexColor("#d0d0d0")
#: Series colours, each at least 4.5:1 against white and distinct for colour-blind readers
#: (blue, dark orange, green, purple, brown, magenta).
SERIES = ("#1f5f99", "#a64500", "#2e7d32", "#6a3d9a", "#7a5c00", "#b0185b")
#: Value measures of a figure (see FigureValue): total, average per report, per day.
MEASURES = ("total", "avg", "per_day")
#: At most this many axis labels below a weekly chart.
MAX_X_LABELS = 5
#: Bars of a weekly chart get their value above them up to this many weeks.
MAX_VALUE_LABELS = 8


@dataclass
class ChartTable:
    """The chart's numbers as a table: caption, column headers and rows, all text
    already formatted in the chart's language."""

    caption: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Chart:
    """A drawing (for the PDF; :meth:`svg` for the page) and its table."""

    id: str
    title: str
    description: str
    drawing: Drawing
    table: ChartTable

    def svg(self) -> Markup:
        """The drawing as inline SVG: responsive (viewBox, width 100%, no fixed size),
        ``role="img"`` labelled by its ``<title>`` and ``<desc>``, ids unique to this chart,
        no script."""
        return Markup(to_svg(self.drawing, self.id, self.title, self.description))


# -- formatting ------------------------------------------------------------------------------


def _lang(language: str | None) -> str:
    return "en" if str(language or "de").lower().startswith("en") else "de"


def format_number(value: float | None, language: str, decimals: int = 1) -> str:
    """1.234,5 in German, 1,234.5 in English; whole numbers without decimals; None → "–"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(round(value, decimals), format=pattern, locale=_lang(language))


def short_date(day: dt.date, language: str) -> str:
    """An axis label: "01.12." in German, "1 Dec" in English."""
    if _lang(language) == "de":
        return f"{day:%d.%m.}"
    return format_date(day, "d MMM", locale="en")


def full_date(day: dt.date, language: str) -> str:
    """A table cell: "01.12.2026" in German, "12/1/2026" in English."""
    if _lang(language) == "de":
        return f"{day:%d.%m.%Y}"
    return format_date(day, "M/d/yyyy", locale="en")


def measure_value(value: FigureValue | None, measure: str) -> float | None:
    """The figure's total, average per report or per day (None without answers)."""
    if value is None:
        return None if measure != "total" else 0.0
    if measure == "avg":
        return value.total / value.reports if value.reports else None
    if measure == "per_day":
        return value.total / value.days if value.days else None
    return float(value.total)


def measure_label(measure: str) -> str:
    """The measure's name in the current language (call within force_locale)."""
    if measure == "avg":
        return _("Average per report")
    if measure == "per_day":
        return _("Per day")
    return _("Total")


def _figure_label(figure: FigureDef, language: str) -> str:
    return figure.label(_lang(language))


def _bucket_label(bucket: Bucket, language: str) -> str:
    key = getattr(bucket, "key", None)
    if isinstance(key, dt.date) and not str(getattr(bucket, "label", "") or ""):
        return full_date(key, language)
    return str(getattr(bucket, "label", "") or key or "")


# -- SVG -------------------------------------------------------------------------------------

_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_ROOT = re.compile(r"<svg\b[^>]*>")
_PLACEHOLDERS = re.compile(r"\s*<title>\.\.\.</title>\s*<desc>\.\.\.</desc>")


def to_svg(drawing: Drawing, chart_id: str, title: str, description: str) -> str:
    """The drawing as an inline ``<svg>`` element (see :meth:`Chart.svg`)."""
    text = renderSVG.drawToString(drawing)
    text = _PROLOGUE.sub("", text, count=1)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", chart_id) or "chart"
    uid = f"{prefix}-{uuid.uuid4().hex[:6]}"
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(drawing.width)} {_n(drawing.height)}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" class="chart-svg" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" focusable="false">'
        f'<title id="{uid}-title">{escape(title)}</title><desc id="{uid}-desc">{escape(description)}</desc>'
    )
    text = _ROOT.sub(lambda _m: root, text, count=1)
    text = _PLACEHOLDERS.sub("", text, count=1)
    # renderSVG's fixed ids: unique per chart (several charts on one page)
    text = text.replace('id="clip"', f'id="{uid}-clip"').replace("url(#clip)", f"url(#{uid}-clip)")
    text = text.replace('id="group"', f'id="{uid}-group"')
    # reportlab's font names → CSS (a browser knows no "Helvetica-Bold" family)
    text = text.replace("font-family: Helvetica-Bold;", f"font-family: {CSS_FONTS}; font-weight: bold;")
    text = text.replace("font-family: Helvetica;", f"font-family: {CSS_FONTS};")
    return text.strip()


def _n(value: float) -> str:
    return f"{value:g}"


# -- drawing helpers -------------------------------------------------------------------------


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and about ``count`` round steps up to at least ``maximum`` (1, 2, 2.5 or 5 × 10ⁿ)."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    top = math.ceil(maximum / step - 1e-9) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def fit(text: str, width: float, size: float = LABEL_SIZE, font: str = FONT) -> str:
    """``text`` shortened with "…" to fit ``width`` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _string(
    x: float, y: float, text: str, size: float = TICK_SIZE, anchor: str = "start", **kw: Any
) -> String:
    return String(
        x,
        y,
        text,
        fontName=kw.pop("fontName", FONT),
        fontSize=size,
        fillColor=kw.pop("fill", TEXT),
        textAnchor=anchor,
        **kw,
    )


def _empty(drawing: Drawing, message: str) -> Drawing:
    drawing.add(_string(drawing.width / 2, drawing.height / 2, message, LABEL_SIZE, "middle", fill=MUTED))
    return drawing


# -- charts ----------------------------------------------------------------------------------


def column_chart(
    points: Sequence[tuple[str, float | None]],
    language: str,
    *,
    height: float = 220,
    color: str = SERIES[0],
    decimals: int = 1,
    empty_message: str = "",
    front: Sequence[float | None] | None = None,
    front_color: str = SERIES[0],
    outline: bool = False,
    legend: Sequence[tuple[str, bool]] = (),
) -> Drawing:
    """Vertical bars, one per point (label, value): few y ticks with grid lines, at most
    :data:`MAX_X_LABELS` x labels, values above the bars when there are few. ``front``:
    a second series drawn in front of the first on the same scale (e.g. done in planned).
    ``legend``: (label, outlined) per series, drawn above the plot."""
    drawing = Drawing(WIDTH, height)
    values = [v for _label, v in points if v is not None] + [v for v in front or () if v is not None]
    if not values:
        return _empty(drawing, empty_message)
    ticks = nice_ticks(max(values))
    tick_labels = [format_number(t, language, 2) for t in ticks]
    left = max(stringWidth(t, FONT, TICK_SIZE) for t in tick_labels) + 8
    bottom, top_pad, right = 20, 16, 4
    if legend:
        top_pad += 18
        x = left
        for text, outlined in legend:
            fill, stroke = (
                (colors.white, colors.HexColor(color)) if outlined else (colors.HexColor(front_color), None)
            )
            drawing.add(Rect(x, height - 13, 10, 9, fillColor=fill, strokeColor=stroke))
            drawing.add(_string(x + 14, height - 12, text, TICK_SIZE, fill=MUTED))
            x += 14 + stringWidth(text, FONT, TICK_SIZE) + 14
    plot_w, plot_h = WIDTH - left - right, height - bottom - top_pad
    scale = plot_h / ticks[-1]
    for tick, text in zip(ticks, tick_labels, strict=True):
        y = bottom + tick * scale
        drawing.add(Line(left, y, WIDTH - right, y, strokeColor=GRID if tick else MUTED, strokeWidth=0.6))
        drawing.add(_string(left - 4, y - 3.5, text, anchor="end", fill=MUTED))
    slot = plot_w / len(points)
    bar = max(min(slot * 0.7, 40), 1.0)
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    bars = Group()
    for index, (label, value) in enumerate(points):
        x = left + index * slot + (slot - bar) / 2
        if value:
            fill, stroke = (
                (colors.white, colors.HexColor(color)) if outline else (colors.HexColor(color), None)
            )
            shape = Rect(x, bottom, bar, max(value * scale, 0.5), fillColor=fill, strokeColor=stroke)
            bars.add(shape)
        if front and front[index]:
            inner = bar * 0.6
            bars.add(
                Rect(
                    x + (bar - inner) / 2,
                    bottom,
                    inner,
                    max(front[index] * scale, 0.5),
                    fillColor=colors.HexColor(front_color),
                    strokeColor=None,
                )
            )
        if len(points) <= MAX_VALUE_LABELS and value is not None:
            y = bottom + (value or 0) * scale + 3
            bars.add(_string(x + bar / 2, y, format_number(value, language, decimals), TICK_SIZE, "middle"))
        if index % every == 0:
            bars.add(_string(x + bar / 2, bottom - 13, label, TICK_SIZE, "middle", fill=MUTED))
    drawing.add(bars)
    return drawing


def bar_list(
    rows: Sequence[tuple[str, float | None, str]],
    language: str,
    *,
    decimals: int = 1,
    empty_message: str = "",
    headings: dict[int, str] | None = None,
) -> Drawing:
    """Horizontal bars, one per row (label, value, colour), the label above its bar and the
    value after it; ``headings`` puts a bold line before the row of that index (groups of
    bars, each group scaled to its own largest value when ``headings`` is given)."""
    headings = headings or {}
    row_h, heading_h = 30, 20
    height = 6 + len(rows) * row_h + len(headings) * heading_h
    drawing = Drawing(WIDTH, max(height, 60))
    if not any(v is not None for _l, v, _c in rows):
        return _empty(drawing, empty_message)
    # a group runs from its heading to the next; without headings one group of all rows
    starts = sorted(headings) or [0]
    group_of = {
        i: max(s for s in starts if s <= i) if i >= starts[0] else starts[0] for i in range(len(rows))
    }
    maxima: dict[int, float] = {}
    for i, (_label, value, _c) in enumerate(rows):
        if value is not None:
            maxima[group_of[i]] = max(maxima.get(group_of[i], 0.0), value)
    texts = [format_number(v, language, decimals) for _l, v, _c in rows]
    value_w = max(stringWidth(t, FONT, LABEL_SIZE) for t in texts) + 6
    bar_max = WIDTH - value_w - 2
    y = drawing.height - 4
    for i, ((label, value, color), text) in enumerate(zip(rows, texts, strict=True)):
        if i in headings:
            y -= heading_h
            drawing.add(
                _string(
                    0, y + 5, fit(headings[i], WIDTH, LABEL_SIZE, FONT_BOLD), LABEL_SIZE, fontName=FONT_BOLD
                )
            )
        y -= row_h
        drawing.add(_string(0, y + 17, fit(label, WIDTH, TICK_SIZE), TICK_SIZE))
        top = maxima.get(group_of[i]) or 1.0
        width = max((value or 0) / top * bar_max, 0.0)
        if width:
            drawing.add(
                Rect(0, y + 2, max(width, 1.0), 12, fillColor=colors.HexColor(color), strokeColor=None)
            )
        drawing.add(_string(width + 4, y + 4, text, LABEL_SIZE))
    return drawing


def _localised(language: str, make: Callable[[], Chart]) -> Chart:
    with force_locale(_lang(language)):
        return make()


def _as_date(key: object) -> dt.date | None:
    if isinstance(key, dt.datetime):
        return key.date()
    if isinstance(key, dt.date):
        return key
    if isinstance(key, str):
        try:
            return dt.date.fromisoformat(key[:10])
        except ValueError:
            return None
    return None


def _mondays(
    buckets: Sequence[Bucket], period: tuple[dt.date, dt.date] | None
) -> list[tuple[dt.date, Bucket | None]]:
    """Every week from the first to the last (of the period, if given), with its bucket
    or None: a week without answers is a gap, not left out."""
    by_day = {day: bucket for bucket in buckets if (day := _as_date(bucket.key)) is not None}
    days = list(by_day)
    if period is not None:
        days += [
            period[0] - dt.timedelta(days=period[0].weekday()),
            period[1] - dt.timedelta(days=period[1].weekday()),
        ]
    if not days:
        return []
    first, last = min(days), max(days)
    weeks = []
    day = first
    while day <= last and len(weeks) < 400:
        weeks.append((day, by_day.get(day)))
        day += dt.timedelta(days=7)
    return weeks


def weekly_trend(
    buckets: Sequence[Bucket],
    figure: FigureDef,
    language: str,
    measure: str = "total",
    period: tuple[dt.date, dt.date] | None = None,
) -> Chart:
    """One figure per week (buckets of ``figures_by(..., "week")``, keys the Mondays):
    vertical bars with the weeks' dates (dd.mm. in German) below. Weeks without answers
    between the first and the last (or within ``period``) show as 0."""
    language = _lang(language)

    def make() -> Chart:
        name = _figure_label(figure, language)
        what = measure_label(measure)
        points = []
        rows = []
        for monday, bucket in _mondays(buckets, period):
            value = measure_value(bucket.values.get(figure.id) if bucket else None, measure)
            points.append((short_date(monday, language), value))
            rows.append([full_date(monday, language), format_number(value, language)])
        title = _("%(figure)s per week", figure=name)
        if any(value for _label, value in points):
            description = _(
                "%(measure)s of %(figure)s per week from %(first)s to %(last)s, as bars; "
                "the table below lists the values.",
                measure=what,
                figure=name,
                first=rows[0][0],
                last=rows[-1][0],
            )
        else:
            description = _("No approved reports in this period.")
        drawing = column_chart(points, language, empty_message=_("No data"))
        table = ChartTable(title, [_("Week from"), f"{name} ({what})"], rows)
        return Chart(_chart_id("trend", figure.id), title, description, drawing, table)

    return _localised(language, make)


def store_ranking(
    buckets: Sequence[Bucket], figure: FigureDef, language: str, top: int = 15, measure: str = "total"
) -> Chart:
    """The ``top`` stores by a figure (buckets of ``figures_by(..., "store")``), largest
    first: horizontal bars with the store's name above its bar."""
    language = _lang(language)

    def make() -> Chart:
        name = _figure_label(figure, language)
        what = measure_label(measure)
        ranked = [
            (_bucket_label(b, language), measure_value(b.values.get(figure.id), measure)) for b in buckets
        ]
        ranked = [(label, value) for label, value in ranked if value is not None]
        ranked.sort(key=lambda item: (-item[1], item[0]))
        shown = ranked[:top]
        title = _("Stores by %(figure)s", figure=name)
        if shown:
            description = _(
                "The %(count)d stores with the highest %(figure)s (%(measure)s), largest first; "
                "the table below lists the values.",
                count=len(shown),
                figure=name,
                measure=what,
            )
        else:
            description = _("No approved reports in this period.")
        drawing = bar_list(
            [(label, value, SERIES[0]) for label, value in shown], language, empty_message=_("No data")
        )
        rows = [
            [str(rank), label, format_number(value, language)] for rank, (label, value) in enumerate(shown, 1)
        ]
        table = ChartTable(title, [_("Rank"), _("Store"), f"{name} ({what})"], rows)
        return Chart(_chart_id("ranking", figure.id), title, description, drawing, table)

    return _localised(language, make)


#: Bars in a territory comparison before it compares fewer figures.
COMPARED_BARS = 24


def territory_comparison(
    buckets: Sequence[Bucket], figures: Sequence[FigureDef], language: str, measure: str = "avg"
) -> Chart:
    """Sub-territories side by side (buckets of ``figures_by(..., "territory")``): per figure
    one bar per territory, each figure on its own scale (average per report by default,
    so that territories of different size compare). With many territories fewer figures are
    compared (at most :data:`COMPARED_BARS` bars, at least the first figure)."""
    language = _lang(language)
    figures = list(figures)[: max(1, COMPARED_BARS // max(len(buckets), 1))]

    def make() -> Chart:
        what = measure_label(measure)
        names = [_bucket_label(b, language) for b in buckets]
        rows: list[tuple[str, float | None, str]] = []
        headings: dict[int, str] = {}
        table_rows = []
        for figure in figures:
            label = _figure_label(figure, language)
            headings[len(rows)] = label
            for index, (bucket, territory) in enumerate(zip(buckets, names, strict=True)):
                value = measure_value(bucket.values.get(figure.id), measure)
                rows.append((territory, value, SERIES[index % len(SERIES)]))
                table_rows.append([label, territory, format_number(value, language)])
        title = _("Territories compared")
        if buckets and figures:
            description = _(
                "%(measure)s of each figure in %(territories)s, one group of bars per figure, "
                "each group on its own scale; the table below lists the values.",
                measure=what,
                territories=", ".join(names),
            )
        else:
            description = _("No approved reports in this period.")
        drawing = bar_list(rows, language, empty_message=_("No data"), headings=headings)
        table = ChartTable(title, [_("Figure"), _("Territory"), what], table_rows)
        return Chart("territories", title, description, drawing, table)

    return _localised(language, make)


def progress_weeks(weeks: Sequence[tuple[dt.date, Progress]], language: str) -> Chart:
    """Appointments per week (``progress_by_week``): an outlined bar for all of them (still
    planned and done, not cancelled) with the done ones filled in."""
    language = _lang(language)

    def make() -> Chart:
        title = _("Appointments per week")
        labels = [short_date(monday, language) for monday, _p in weeks]
        planned = [(label, float(p.planned + p.done)) for label, (_m, p) in zip(labels, weeks, strict=True)]
        drawing = column_chart(
            planned,
            language,
            color=SERIES[0],
            outline=True,
            decimals=0,
            empty_message=_("No data"),
            front=[float(p.done) for _m, p in weeks],
            legend=((_("Planned and done"), True), (_("Done"), False)),
        )
        rows = [
            [
                full_date(monday, language),
                str(p.planned),
                str(p.done),
                str(p.cancelled),
                str(p.missing_report),
            ]
            for monday, p in weeks
        ]
        description = _(
            "Appointments per week (planned and done) as outlined bars with the done ones filled "
            "in; the table below lists planned, done, cancelled and missing reports."
        )
        headers = [_("Week from"), _("Planned"), _("Done"), _("Cancelled"), _("Report missing")]
        return Chart("progress-weeks", title, description, drawing, ChartTable(title, headers, rows))

    return _localised(language, make)


def _chart_id(kind: str, figure_id: str) -> str:
    """An id usable in HTML (``trend-products-units_sold-turbo_kreisel``)."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", figure_id).strip("-")
