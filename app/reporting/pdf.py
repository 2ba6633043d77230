"""The campaign report as PDF (reportlab platypus): the filtered period's key figures,
the charts (the same drawings as on the page), the store table and a page of photos, in
the language given (the contact's, not the browser's).

All numbers come from :mod:`app.reporting.analytics` with the caller's scope (customer:
``scope.resolved(session)``) — nothing is filtered here. Photos: up to :data:`MAX_PHOTOS`
thumbnails of the filtered approved reports (analytics.photos, then their storage keys
read once more through the scope's condition on ReportFile), from the report storage.

Fonts: reportlab's standard Helvetica (WinAnsi): German umlauts, ß, € and the other
Latin-1 letters print; letters outside it (e.g. Polish ł, Cyrillic, Chinese) would print
as blanks — the report registers no TrueType font.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab import rl_config
from reportlab.graphics.shapes import Drawing, Group
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.reporting import ReportFile
from app.reporting import charts
from app.reporting.charts import format_number, full_date
from app.security.visibility import Scope

if TYPE_CHECKING:
    from app.reporting.analytics import FigureDef, ReportFilter

# Images as binary streams: reportlab's ASCII85 encoding of JPEG bytes runs in pure Python
# (without the optional rl_accel extension) and took a third of the report's time.
rl_config.useA85 = 0

#: Photos on the photo page at most (3 columns × 4 rows).
MAX_PHOTOS = 12
#: Stores in the store table at most (the rest is summed up in a note).
MAX_STORES = 200
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
#: The tallest a chart may be drawn: a page's frame less its title and some air (a ranking of
#: many stores is made smaller rather than overflowing the page).
CHART_MAX_HEIGHT = PAGE_HEIGHT - 2 * MARGIN - 80
HEADER_BG = colors.HexColor("#e8eef5")
RULE = colors.HexColor("#b0b0b0")


def _lang(language: str | None) -> str:
    return "en" if str(language or "de").lower().startswith("en") else "de"


def main_figure(figures: list[FigureDef]) -> FigureDef | None:
    """The figure the report's trend and ranking show: units sold (a group's total over its
    choices) if the questionnaire asks for them, else the first figure that is no per-choice one."""
    for figure in figures:
        if figure.question_key == "units_sold" and figure.choice is None:
            return figure
    return next((f for f in figures if f.choice is None), figures[0] if figures else None)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontName="Helvetica-Bold", fontSize=20, alignment=TA_LEFT
        ),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=14, spaceBefore=10
        ),
        "h3": ParagraphStyle(
            "h3", parent=base["Heading3"], fontName="Helvetica-Bold", fontSize=11, spaceBefore=6
        ),
        "body": ParagraphStyle(
            "body", parent=base["BodyText"], fontName="Helvetica", fontSize=9.5, leading=12
        ),
        "small": ParagraphStyle(
            "small", parent=base["BodyText"], fontName="Helvetica", fontSize=8, leading=10
        ),
        "cell": ParagraphStyle(
            "cell", parent=base["BodyText"], fontName="Helvetica", fontSize=8.5, leading=10.5
        ),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _table(
    header: list[str], rows: list[list[Any]], widths: list[float], styles, numeric_from: int = 1
) -> Table:
    """A table with a shaded, repeated header; columns from ``numeric_from`` right-aligned."""
    data = [[_p(h, styles["cell"]) for h in header]]
    data += [
        [_p(cell, styles["cell"]) if i < numeric_from else str(cell) for i, cell in enumerate(row)]
        for row in rows
    ]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def scaled(drawing: Drawing, width: float, max_height: float = CHART_MAX_HEIGHT) -> Drawing:
    """The drawing scaled to ``width`` points, or smaller where it would be taller than
    ``max_height`` (a new drawing; the chart's stays as it is)."""
    factor = min(width / drawing.width, max_height / drawing.height)
    group = Group(*drawing.contents)
    group.scale(factor, factor)
    return Drawing(drawing.width * factor, drawing.height * factor, group)


def _chart_flowables(chart: charts.Chart, styles, width: float) -> list:
    drawing = scaled(chart.drawing, width)
    return [
        CondPageBreak(drawing.height + 30),
        _p(chart.title, styles["h3"]),
        drawing,
        Spacer(1, 6),
    ]


def _percent(share: float | None, language: str) -> str:
    if share is None:
        return "–"
    return f"{format_number(share * 100, language, 0)} %"


def _photo_flowables(session: Session, scope: Scope, flt: ReportFilter, language: str, styles) -> list:
    """Up to :data:`MAX_PHOTOS` thumbnails in a grid, each with its store and day; a file the
    storage does not have or that is no image is left out."""
    from app.reporting import analytics
    from app.reporting.storage import storage_for

    page = analytics.photos(session, scope, flt, page=1, per_page=MAX_PHOTOS)
    if not page.items:
        return []
    ids = [item.file_id for item in page.items]
    keys = dict(
        (file_id, thumbnail or key)
        for file_id, key, thumbnail in session.execute(
            select(ReportFile.id, ReportFile.storage_key, ReportFile.thumbnail_key).where(
                ReportFile.id.in_(ids), scope.condition(ReportFile)
            )
        )
    )
    storage = storage_for(current_app)
    cell_width = FRAME_WIDTH / 3 - 4
    cells = []
    for item in page.items:
        key = keys.get(item.file_id)
        if key is None:
            continue
        try:
            image = Image(io.BytesIO(storage.open(key)))
            ratio = image.imageWidth / image.imageHeight if image.imageHeight else 1
        except Exception:  # noqa: BLE001 - a missing or broken file: left out, not the whole report
            continue
        width = cell_width - 4
        height = min(width / ratio, 48 * mm)
        image.drawWidth, image.drawHeight = height * ratio, height
        caption = f"{item.location_name}, {full_date(item.day, language)}"
        cells.append([image, _p(caption, styles["small"])])
    if not cells:
        return []
    grid = [cells[i : i + 3] + [""] * (3 - len(cells[i : i + 3])) for i in range(0, len(cells), 3)]
    table = Table(grid, colWidths=[FRAME_WIDTH / 3] * 3)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [PageBreak(), _p(_("Photos"), styles["h2"]), table]


def campaign_report(
    session: Session,
    scope: Scope,
    flt: ReportFilter,
    language: str,
    title: str = "",
    *,
    customer: str = "",
    project: str = "",
    territory: str = "",
    generated_at: dt.datetime | None = None,
) -> bytes:
    """The campaign report of the filtered period as PDF bytes, in ``language`` ("de"/"en").

    ``title``, ``customer``, ``project`` and ``territory`` are printed in the header as
    given (the caller knows what the filter means); ``generated_at``: local time (default
    now in the configured TIMEZONE). Needs an app context (storage, TIMEZONE, translations).
    """
    from app.common.timezone import local_now
    from app.reporting import analytics

    language = _lang(language)
    generated_at = generated_at or local_now()
    with force_locale(language):
        styles = _styles()
        story: list = []
        heading = _("Campaign report")
        story.append(_p(f"{heading}: {title}" if title else heading, styles["title"]))
        period = f"{full_date(flt.date_from, language)} – {full_date(flt.date_to, language)}"
        facts = [
            (_("Customer"), customer),
            (_("Project"), project),
            (_("Territory"), territory),
            (_("Period"), period),
        ]
        stamp = f"{full_date(generated_at.date(), language)}, {generated_at:%H:%M}"
        facts.append((_("Generated"), stamp))
        story.append(
            Table(
                [[_p(label, styles["body"]), _p(value, styles["body"])] for label, value in facts if value],
                colWidths=[35 * mm, FRAME_WIDTH - 35 * mm],
                style=TableStyle(
                    [("LEFTPADDING", (0, 0), (-1, -1), 0), ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold")]
                ),
                hAlign="LEFT",
            )
        )

        # key figures: progress
        progress = analytics.progress(session, scope, flt)
        story.append(_p(_("Key figures"), styles["h2"]))
        number = lambda value, decimals=1: format_number(value, language, decimals)  # noqa: E731
        progress_rows = [
            [_("Appointments planned (not yet done)"), number(progress.planned, 0)],
            [_("Appointments done"), number(progress.done, 0)],
            [_("Appointments cancelled"), number(progress.cancelled, 0)],
            [_("Appointments missing a report"), number(progress.missing_report, 0)],
            [_("Hours planned"), number(progress.hours_planned)],
            [_("Hours worked"), number(progress.hours_worked)],
            [_("Days staffed"), f"{number(progress.staffed_days, 0)} / {number(progress.days, 0)}"],
            [_("Share of days staffed"), _percent(progress.staffed_share, language)],
        ]
        story.append(_table([_("Appointments"), _("Value")], progress_rows, [110 * mm, 40 * mm], styles))

        # key figures: every figure
        figure_list = analytics.figure_defs(session, scope, flt)
        values = analytics.figures(session, scope, flt)
        if figure_list:
            rows = []
            for figure in figure_list:
                value = values.get(figure.id)
                total = value.total if value else 0
                rows.append(
                    [
                        figure.label(language),
                        number(total),
                        number(charts.measure_value(value, "avg")),
                        number(charts.measure_value(value, "per_day")),
                    ]
                )
            header = [_("Figure"), _("Total"), _("Average per report"), _("Per day")]
            story.append(Spacer(1, 8))
            story.append(_table(header, rows, [80 * mm, 30 * mm, 34 * mm, 30 * mm], styles))
        else:
            story.append(_p(_("No approved reports in this period."), styles["body"]))

        # charts
        main = main_figure(figure_list)
        chart_list = [charts.progress_weeks(analytics.progress_by_week(session, scope, flt), language)]
        by_store = analytics.figures_by(session, scope, flt, "store") if main else []
        if main is not None:
            weeks = analytics.figures_by(session, scope, flt, "week")
            chart_list.append(charts.weekly_trend(weeks, main, language, period=(flt.date_from, flt.date_to)))
            chart_list.append(charts.store_ranking(by_store, main, language))
            if analytics.compares_territories(session, scope, flt):
                territories = analytics.figures_by(session, scope, flt, "territory")
                shown = [main, *(f for f in figure_list if f.choice is None and f is not main)][:4]
                chart_list.append(charts.territory_comparison(territories, shown, language))
        story.append(PageBreak())
        story.append(_p(_("Charts"), styles["h2"]))
        for chart in chart_list:
            story.extend(_chart_flowables(chart, styles, min(FRAME_WIDTH, 150 * mm)))

        # stores
        stores = analytics.progress_by_store(session, scope, flt, limit=MAX_STORES)
        main_by_store = {bucket.key: bucket.values.get(main.id) for bucket in by_store} if main else {}
        header = [_("Store"), _("City"), _("Planned"), _("Done"), _("Report missing")]
        if main is not None:
            header.append(main.label(language))
        rows = []
        for store in stores:
            row = [
                store.name,
                store.city,
                number(store.progress.planned, 0),
                number(store.progress.done, 0),
                number(store.progress.missing_report, 0),
            ]
            if main is not None:
                value = main_by_store.get(store.location_id)
                row.append(number(value.total if value else 0))
            rows.append(row)
        story.append(CondPageBreak(60 * mm))
        story.append(_p(_("Stores"), styles["h2"]))
        if rows:
            widths = [52 * mm, 34 * mm, 18 * mm, 18 * mm, 22 * mm, 30 * mm][: len(header)]
            story.append(_table(header, rows, widths, styles, numeric_from=2))
        else:
            story.append(_p(_("No appointments in this period."), styles["body"]))

        story.extend(_photo_flowables(session, scope, flt, language, styles))
        footer = f"{heading} · {period}"

    def on_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#4d4d4d"))
        canvas.drawString(MARGIN, 10 * mm, footer)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, str(doc.page))
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{heading}: {title}" if title else heading,
        author="promoplan",
        lang=language,
    )
    document.build([KeepTogether(story[:2]), *story[2:]], onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
