"""The reporting area's exports: the Excel workbook of the filtered reports, the campaign
report PDF and the charts (SVG on the page, table view), on the Supertoy demo.

A southern store set with an approved, tagged report (tests.visibility_helpers) must never
reach adm.nord's workbook or PDF; a northern demo report gets a formula-looking remark that
must stay text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.visibility_helpers import (
    Rows,
    add_report_set,
    add_store_set,
    db_session,
    demo_ids,
    expected_jobs,
    local_today,
    new_tag,
)

FORMULA = '=HYPERLINK("http://evil.example/","klick")'


@pytest.fixture(scope="module")
def data(app):
    """A southern store with an approved tagged report (yesterday), and a northern demo
    report of the period with a formula-looking remark."""
    from app.models.planning import Appointment, Job
    from app.models.reporting import Question, Report, ReportAnswer

    rows = Rows(app)
    ids = demo_ids(app)
    today = local_today(app)
    tag = new_tag("xp")
    south = add_store_set(
        rows,
        tag,
        project_id=ids["project"],
        territory_id=ids["south"],
        chain_id=ids["chain"],
        town="Augsburg",
        state="BY",
        day=today,
    )
    south.update(add_report_set(rows, tag, south, today))
    # a group without a single-choice sub-question on the southern questionnaire, two rows answered
    version, page = south["questionnaire_version"], south["questionnaire_page"]
    group = rows.add(
        Question,
        version_id=version,
        page_id=page,
        position=9,
        key="placements",
        kind="group",
        label_de="Platzierungen",
        label_en="Placements",
    )
    rows.add(
        Question,
        version_id=version,
        page_id=page,
        parent_id=group,
        position=0,
        key="facings",
        kind="integer",
        label_de="Facings",
        label_en="Facings",
    )
    for item, number in ((0, 4), (1, 7)):
        rows.add(
            ReportAnswer,
            report_id=south["report_approved"],
            question_key="facings",
            group_key="placements",
            item=item,
            value_number=number,
        )
    with db_session(app) as session:
        north_jobs = [row.job_id for row in expected_jobs(session, "adm.nord")]
        report_id = session.scalar(
            select(Report.id)
            .join(Appointment, Appointment.id == Report.appointment_id)
            .join(Job, Job.id == Report.job_id)
            .where(Report.status == "approved", Report.job_id.in_(north_jobs))
            .where(Appointment.date >= today - dt.timedelta(days=14))
            .order_by(Appointment.date.desc(), Report.id)
            .limit(1)
        )
        session.execute(
            ReportAnswer.__table__.delete().where(
                ReportAnswer.report_id == report_id, ReportAnswer.question_key == "remarks"
            )
        )
        session.commit()
    rows.add(ReportAnswer, report_id=report_id, question_key="remarks", item=0, value_text=FORMULA)
    yield {"tag": tag, "south": south, "north_report": report_id, "today": today, "ids": ids}
    rows.cleanup()


def _filter(today: dt.date, days: int = 28, **values):
    from app.reporting.analytics import ReportFilter

    return ReportFilter(date_from=today - dt.timedelta(days=days), date_to=today, **values)


def _scope(session, username: str):
    from flask import current_app

    from app.security.visibility import scope_for

    user = current_app.appbuilder.sm.find_user(username=username)
    return scope_for(user).resolved(session)


def _workbook(app, username: str, language: str, flt):
    from app.extensions import db
    from app.reporting.workbook import stream_xlsx

    with app.test_request_context():
        pieces, name = stream_xlsx(db.session, _scope(db.session, username), flt, language)
        data = b"".join(pieces)
        db.session.rollback()
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
    return name, data, cells


def _expected_units(session, username: str, flt, product: str) -> tuple[int, float]:
    """(approved day and weekly reports, units sold of ``product``) of the user's stores in the
    period, by plain joins."""
    from app.models.planning import Appointment
    from app.models.reporting import Report, ReportAnswer

    jobs = [row.job_id for row in expected_jobs(session, username)]
    day_reports = select(Report.id).join(Appointment, Appointment.id == Report.appointment_id)
    day_reports = day_reports.where(Appointment.date.between(flt.date_from, flt.date_to))
    week_reports = select(Report.id).where(Report.week_start.between(flt.date_from, flt.date_to))
    report_ids = {
        pk
        for stmt in (day_reports, week_reports)
        for pk in session.scalars(stmt.where(Report.status == "approved", Report.job_id.in_(jobs)))
    }
    answers = session.execute(
        select(ReportAnswer.report_id, ReportAnswer.item, ReportAnswer.question_key, ReportAnswer.value_text,
               ReportAnswer.value_number)
        .where(ReportAnswer.report_id.in_(report_ids), ReportAnswer.group_key == "products")
    ).all()  # fmt: skip
    chosen = {(r, i) for r, i, key, text, _n in answers if key == "product" and text == product}
    total = sum(n for r, i, key, _t, n in answers if key == "units_sold" and (r, i) in chosen)
    return len(report_ids), total


def test_workbook_german_headers_numbers_and_groups(app, data):
    flt = _filter(data["today"])
    name, _raw, cells = _workbook(app, "adm.nord", "de", flt)
    assert name.endswith(".xlsx") and name.startswith("berichte-")
    header = [value for value, _t in cells[0]]
    for text in ("Datum", "Markt", "Ort", "Gebiet", "Projekt", "Promoter", "Status", "Kundenkontakte"):
        assert text in header, text
    assert "Verkauft – Turbo-Kreisel" in header and "Anfangsbestand – Plüschdrache Fridolin" in header
    assert "Foto der Platzierung" in header
    body = cells[1:]
    with db_session(app) as session:
        reports, units = _expected_units(session, "adm.nord", flt, "turbo_kreisel")
    assert len(body) == reports > 0
    column = header.index("Verkauft – Turbo-Kreisel")
    values = [row[column] for row in body]
    assert all(kind == "n" for value, kind in values if value is not None)
    assert sum(value for value, _k in values if value is not None) == units
    contacts = header.index("Kundenkontakte")
    day_rows = [row for row in body if row[header.index("Bericht")][0] == "Tagesbericht"]
    assert day_rows and all(isinstance(row[contacts][0], int) for row in day_rows)
    # dates are dates with the German format, yes/no in German
    first_date = body[0][0][0]
    assert isinstance(first_date, dt.datetime) and flt.date_from <= first_date.date() <= flt.date_to
    competitors = header.index("Aktivität des Wettbewerbs")
    assert {value for (value, _k) in (row[competitors] for row in body)} <= {"Ja", "Nein", None}
    moods = {row[header.index("Stimmung im Markt")][0] for row in body}
    assert moods - {None} and moods <= {"Sehr gut", "Gut", "Ruhig", "Schlecht", None}
    sheet = load_workbook(io.BytesIO(_raw)).worksheets[0]
    assert sheet["A2"].number_format.upper() == "DD.MM.YYYY"


def test_workbook_english_headers(app, data):
    _name, _raw, cells = _workbook(app, "adm.nord", "en", _filter(data["today"]))
    header = [value for value, _t in cells[0]]
    for text in ("Date", "Store", "City", "Territory", "Customer contacts", "Units sold – Turbo Spinner"):
        assert text in header, text
    assert "Kundenkontakte" not in header and "Datum" not in header
    competitors = header.index("Competitor activity")
    assert {row[competitors][0] for row in cells[1:]} <= {"Yes", "No", None}


def test_workbook_formula_stays_text(app, data):
    _name, _raw, cells = _workbook(app, "adm.nord", "de", _filter(data["today"]))
    header = [value for value, _t in cells[0]]
    remarks = [row[header.index("Bemerkungen")] for row in cells[1:]]
    assert ("'" + FORMULA, "s") in remarks
    assert all(kind != "f" for row in cells for _value, kind in row)


def test_workbook_only_the_scopes_reports(app, data):
    tag = data["tag"]
    flt = _filter(data["today"])
    _name, raw_north, cells_north = _workbook(app, "adm.nord", "de", flt)
    assert tag not in str(cells_north)
    assert not any("Augsburg" in str(row[2][0]) for row in cells_north[1:])
    # the same export for all of Germany has the southern report, its question and its tagged answers
    _name, _raw, cells_all = _workbook(app, "pos.marketing", "de", flt)
    header = [value for value, _t in cells_all[0]]
    assert f"Leakcheck shelf {tag}" in header and f"Leakcheck shelf {tag}" not in str(cells_north[0])
    southern = [row for row in cells_all[1:] if f"Leakcheck Bemerkung {tag}" in str(row)]
    assert len(southern) == 1 and len(cells_all) > len(cells_north)
    # a group without a single-choice sub-question: one column per row and sub-question
    row = southern[0]
    assert row[header.index("Facings 1")] == (4, "n") and row[header.index("Facings 2")] == (7, "n")
    assert row[header.index(f"Leakcheck shelf {tag}")] == (1, "n")  # the photo, counted
    # the filter: only the store's reports
    location = data["south"]["location"]
    _name, _raw, only = _workbook(app, "pos.marketing", "de", _filter(data["today"], location_id=location))
    assert len(only) == 2 and f"Leakcheck Bemerkung {tag}" in str(only[1])


def test_workbook_statements_do_not_grow_with_reports(app, data):
    from sqlalchemy import event

    from app.extensions import db
    from app.reporting.workbook import stream_xlsx

    counts = []
    for days in (3, 28):
        statements = []
        with app.test_request_context():
            listener = lambda *args, seen=statements: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                scope = _scope(db.session, "adm.nord")
                before = len(statements)
                pieces, _name = stream_xlsx(db.session, scope, _filter(data["today"], days), "de")
                b"".join(pieces)
                counts.append(len(statements) - before)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
                db.session.rollback()
    assert counts[0] == counts[1] <= 3


# -- PDF -------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _pdf(app, username: str, language: str, flt, **kwargs) -> bytes:
    from app.extensions import db
    from app.reporting.pdf import campaign_report

    with app.test_request_context():
        data = campaign_report(db.session, _scope(db.session, username), flt, language, **kwargs)
        db.session.rollback()
    return data


def _progress(app, username: str, flt):
    from app.extensions import db
    from app.reporting import analytics

    with app.test_request_context():
        return analytics.progress(db.session, _scope(db.session, username), flt)


def test_pdf_german_key_figures_and_northern_stores_only(app, data):
    from app.reporting.charts import format_number

    flt = _filter(data["today"])
    pdf = _pdf(app, "adm.nord", "de", flt, title="Supertoy Sales Promotion", customer="Supertoy")
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert "Kampagnenbericht" in text and "Supertoy" in text
    assert f"{flt.date_from:%d.%m.%Y} – {flt.date_to:%d.%m.%Y}" in text
    progress = _progress(app, "adm.nord", flt)
    for label, value in (
        ("Termine durchgeführt", format_number(progress.done, "de", 0)),
        ("Geleistete Stunden", format_number(progress.hours_worked, "de")),
    ):
        assert re.search(re.escape(label) + r"\s*" + re.escape(value), text), (label, value)
    assert "Kundenkontakte" in text and "Verkauft – Turbo-Kreisel" in text
    with db_session(app) as session:
        stores = {row.store for row in expected_jobs(session, "adm.nord")}
        southern = {row.store for row in expected_jobs(session, "adm.sued")}
    flat = " ".join(text.split())
    assert any(store in flat for store in stores)
    assert not any(store in flat for store in southern - stores)
    assert data["tag"] not in text and "Augsburg" not in text


def test_pdf_english_for_all_of_germany(app, data):
    flt = _filter(data["today"])
    text = _pdf_text(_pdf(app, "vertrieb", "en", flt, title="Supertoy"))
    assert "Campaign report" in text and "Appointments done" in text and "Footfall in the store" in text
    assert "Besucherfrequenz" not in text and "Termine" not in text
    assert "Territories compared" in text  # vertrieb sees north and south
    assert f"{flt.date_from:%-m/%-d/%Y}" in text


def test_pdf_photos_page_and_broken_photos(app, data):
    """The tagged southern report's photo bytes are no image: left out, no error; the
    demo's generated display photos of the last week are in the grid."""
    flt = _filter(data["today"], days=6)
    pdf = _pdf(app, "pos.marketing", "de", flt)
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    images = sum(len(page.images) for page in reader.pages)
    assert 0 < images <= 12
    assert "Fotos" in _pdf_text(pdf)


# -- charts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    id: str
    question_key: str
    group_key: str | None
    choice: str | None
    label_de: str
    label_en: str
    choice_de: str | None = None
    choice_en: str | None = None
    unit: str | None = None

    def label(self, language: str) -> str:
        base = self.label_en if language == "en" else self.label_de
        choice = self.choice_en if language == "en" else self.choice_de
        return f"{base} – {choice}" if choice else base


@dataclass
class Value:
    total: float
    answers: int = 1
    reports: int = 1
    days: int = 1


@dataclass
class Group:
    key: object
    label: str
    values: dict


SOLD = Figure("products.units_sold:turbo_kreisel", "units_sold", "products", "turbo_kreisel", "Verkauft",
              "Units sold", "Turbo-Kreisel", "Turbo Spinner")  # fmt: skip
CONTACTS = Figure("contacts", "contacts", None, None, "Kundenkontakte", "Customer contacts")


def _svg_texts(svg: str) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]


@pytest.mark.parametrize("language", ["de", "en"])
def test_store_ranking_svg_and_table_agree(app, language):
    from app.reporting import charts

    stores = [
        Group(i, f"Markt {i} <Süd>", {SOLD.id: Value(1000.5 * i, reports=i, days=i)}) for i in range(1, 21)
    ]
    with app.test_request_context():
        chart = charts.store_ranking(stores, SOLD, language, top=15)
        svg = str(chart.svg())
    assert svg.startswith("<svg") and 'role="img"' in svg and 'width="100%"' in svg and "viewBox=" in svg
    assert "height=" not in svg.split(">", 1)[0] and "<script" not in svg.lower()
    title_id = re.search(r'<title id="([^"]+)">', svg).group(1)
    assert title_id in re.search(r'aria-labelledby="([^"]+)"', svg).group(1)
    assert ("Stores by" if language == "en" else "Märkte nach") in chart.title
    assert len(chart.table.rows) == 15 and chart.table.rows[0][1] == "Markt 20 <Süd>"
    assert chart.table.rows[0][2] == ("20,010" if language == "en" else "20.010")
    texts = _svg_texts(svg)
    for _rank, store, value in chart.table.rows:
        assert value in texts and store.replace("<", "&lt;").replace(">", "&gt;") in texts
    assert "Markt 5 &lt;Süd&gt;" not in texts  # beyond the top 15
    assert chart.table.rows[13][1:] == ["Markt 7 <Süd>", "7,003.5" if language == "en" else "7.003,5"]


def test_weekly_trend_dates_numbers_and_gaps(app):
    from app.reporting import charts

    monday = dt.date(2026, 10, 5)
    weeks = [Group(monday, "", {CONTACTS.id: Value(1234.5)}), Group(monday + dt.timedelta(weeks=2), "", {})]
    with app.test_request_context():
        german = charts.weekly_trend(weeks, CONTACTS, "de")
        english = charts.weekly_trend(weeks, CONTACTS, "en")
    assert german.table.headers[0] == "Woche ab" and german.table.rows == [
        ["05.10.2026", "1.234,5"],
        ["12.10.2026", "0"],
        ["19.10.2026", "0"],
    ]
    assert english.table.rows[0] == ["10/5/2026", "1,234.5"]
    texts = _svg_texts(str(german.svg()))
    assert "05.10." in texts and "1.234,5" in texts
    assert "Oct" in " ".join(_svg_texts(str(english.svg())))


def test_territory_comparison_and_unique_ids(app):
    from app.reporting import charts

    territories = [
        Group(1, "ADM Nord", {CONTACTS.id: Value(420, reports=10), SOLD.id: Value(50, reports=10)}),
        Group(2, "ADM Süd", {CONTACTS.id: Value(915, reports=15), SOLD.id: Value(120, reports=15)}),
    ]
    with app.test_request_context():
        chart = charts.territory_comparison(territories, [CONTACTS, SOLD], "de")
        other = charts.territory_comparison(territories, [CONTACTS], "de")
    assert chart.table.rows == [
        ["Kundenkontakte", "ADM Nord", "42"],
        ["Kundenkontakte", "ADM Süd", "61"],
        ["Verkauft – Turbo-Kreisel", "ADM Nord", "5"],
        ["Verkauft – Turbo-Kreisel", "ADM Süd", "8"],
    ]
    svg, svg2 = str(chart.svg()), str(other.svg())
    ids = set(re.findall(r'id="([^"]+)"', svg))
    assert ids and not ids & set(re.findall(r'id="([^"]+)"', svg2))
    assert {"42", "61", "ADM Süd"} <= set(_svg_texts(svg))


def test_empty_period_gives_a_header_only_workbook_and_a_short_pdf(app, data):
    flt = _filter(dt.date(2019, 1, 31), days=30)
    _name, _raw, cells = _workbook(app, "adm.nord", "de", flt)
    assert len(cells) == 1 and cells[0][0] == ("Datum", "s")
    text = _pdf_text(_pdf(app, "adm.nord", "de", flt))
    assert "Keine freigegebenen Berichte in diesem Zeitraum." in text and "Fotos" not in text


def test_a_tall_chart_is_made_to_fit_the_pdf_page(app):
    """A comparison of many territories is taller than a page: the PDF draws it smaller
    (it failed with reportlab's LayoutError before), and compares fewer figures."""
    from app.reporting import charts, pdf
    from app.reporting.analytics import Bucket, FigureDef, FigureValue

    figures = [
        FigureDef(f"f{n}", f"f{n}", None, None, f"Zahl {n}", f"Figure {n}", None, None, None)
        for n in range(4)
    ]
    buckets = [
        Bucket(n, f"Gebiet {n}", {f.id: FigureValue(10.0 + n, 1, 1, 1) for f in figures}) for n in range(40)
    ]
    with app.test_request_context():
        chart = charts.territory_comparison(buckets, figures, "de")
        assert {row[0] for row in chart.table.rows} == {"Zahl 0"}  # 40 territories: one figure
        assert chart.drawing.height > pdf.CHART_MAX_HEIGHT
        drawn = pdf.scaled(chart.drawing, pdf.FRAME_WIDTH)
        assert drawn.height <= pdf.CHART_MAX_HEIGHT and drawn.width <= pdf.FRAME_WIDTH
        few = charts.territory_comparison(buckets[:3], figures, "de")
        assert {row[0] for row in few.table.rows} == {f"Zahl {n}" for n in range(4)}
