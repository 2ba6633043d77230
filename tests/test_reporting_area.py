"""The customer's reporting area (/portal/reporting/) and the agency's dashboard, on the demo.

adm.nord sees the progress and figures of his 12 northern stores from approved reports
only — the page's numbers equal a count over the database done here by hand —, opens a
photo and its report, and gets a 404 for a southern or an unapproved report; vertrieb sees
north against south in English. Broken filter input gets a message (or the input guard's
400), never a server error. The agency's dashboard and punctuality are agency screens.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.demo.data import NORTH, SOUTH
from tests.conftest import visible_text
from tests.helpers import client_for
from tests.visibility_helpers import db_session, local_today, table_rows


def _period(app) -> dict[str, str]:
    """A period that holds every demo report: four months back, one ahead."""
    today = local_today(app)
    return {
        "from": (today - dt.timedelta(days=120)).isoformat(),
        "to": (today + dt.timedelta(days=30)).isoformat(),
    }


def _number(text: str) -> float:
    """A German number of the page ("1.334", "43,9") as a float."""
    return float(text.strip().replace(".", "").replace(",", "."))


def _north_south(app):
    from app.models.crm import Location, Territory

    with db_session(app) as session:
        rows = session.execute(
            select(Location.id, Location.name, Territory.name).join(
                Territory, Territory.id == Location.territory_id
            )
        ).all()
    north = {name for _id, name, territory in rows if territory == NORTH}
    south = {name for _id, name, territory in rows if territory == SOUTH}
    return north, south


def _approved_units_sold(app, territory: str, period: dict[str, str]) -> tuple[float, int]:
    """By hand: units sold over the approved reports of the territory's stores in the period,
    and how many reports have such an answer."""
    from app.models.crm import Location, Territory
    from app.models.planning import Appointment, Job
    from app.models.reporting import Report, ReportAnswer

    first, last = dt.date.fromisoformat(period["from"]), dt.date.fromisoformat(period["to"])
    day = func.coalesce(Appointment.date, Report.week_start)
    with db_session(app) as session:
        total, reports = session.execute(
            select(func.sum(ReportAnswer.value_number), func.count(func.distinct(Report.id)))
            .join(Report, Report.id == ReportAnswer.report_id)
            .join(Job, Job.id == Report.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Territory, Territory.id == Location.territory_id)
            .outerjoin(Appointment, Appointment.id == Report.appointment_id)
            .where(
                Report.status == "approved",
                Territory.name == territory,
                ReportAnswer.group_key == "products",
                ReportAnswer.question_key == "units_sold",
                ReportAnswer.value_number.is_not(None),
                day >= first,
                day <= last,
            )
        ).one()
    return float(total or 0), int(reports or 0)


def _report_of(app, territory: str, status: str, kind: str = "day") -> int:
    from app.models.crm import Location, Territory
    from app.models.planning import Job
    from app.models.reporting import Report

    with db_session(app) as session:
        report_id = session.scalar(
            select(Report.id)
            .join(Job, Job.id == Report.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Territory, Territory.id == Location.territory_id)
            .where(Territory.name == territory, Report.status == status, Report.kind == kind)
            .order_by(Report.id)
            .limit(1)
        )
    assert report_id is not None, f"the demo has no {status} report in {territory}"
    return report_id


# ---------------------------------------------------------------- adm.nord


def test_adm_nord_sees_his_northern_stores_and_approved_figures_only(app):
    period = _period(app)
    client = client_for(app, "adm.nord", "de")
    north, south = _north_south(app)

    stores = client.get("/portal/reporting/stores", query_string=period)
    assert stores.status_code == 200
    html = stores.get_data(as_text=True)
    shown = {row[0].rsplit(",", 1)[0] for row in table_rows(html, "stores-table")}
    assert len(north) == 12
    assert shown == north
    assert not any(name in html for name in south)

    overview = client.get("/portal/reporting/", query_string=period)
    assert overview.status_code == 200
    html = overview.get_data(as_text=True)
    assert not any(name in html for name in south)
    assert 'aria-current="page">Berichte<' in html  # the menu entry
    rows = {row[0]: row for row in table_rows(html, "figures-table")}
    sold = next(row for label, row in rows.items() if label.startswith("Verkauft") and "–" not in label)
    total, reports = _approved_units_sold(app, NORTH, period)
    assert total > 0
    assert _number(sold[1]) == total
    assert int(_number(sold[4])) == reports
    # the weekly trend's table adds up to the same units
    trend = table_rows(html, "chart-trend-table")
    assert sum(_number(value) for _week, value in trend if value != "–") == total
    ranking = table_rows(html, "chart-ranking-table")
    assert {store.rsplit(",", 1)[0] for _rank, store, _value in ranking} <= north
    # one territory only: no comparison
    assert 'id="chart-territories"' not in html
    # the chosen figure (units sold) by week (the default), month and job adds up to the same units
    weeks = table_rows(html, "breakdown-table")
    assert all(week.startswith("Woche ab ") for week, *_rest in weeks) and len(weeks) >= 2
    assert sum(_number(row[1]) for row in weeks) == total
    by_month = client.get("/portal/reporting/", query_string={**period, "by": "month"}).get_data(as_text=True)
    months = table_rows(by_month, "breakdown-table")
    assert all(re.fullmatch(r"\d\d/\d{4}", month) for month, *_rest in months), months
    assert sum(_number(row[1]) for row in months) == total
    by_job = client.get("/portal/reporting/", query_string={**period, "by": "job"}).get_data(as_text=True)
    jobs = table_rows(by_job, "breakdown-table")
    assert len(jobs) == 12 and sum(_number(row[1]) for row in jobs) == total
    assert sum(int(_number(row[4])) for row in jobs) == reports


def test_adm_nord_opens_a_photo_and_its_report(app):
    client = client_for(app, "adm.nord", "de")
    page = client.get("/portal/reporting/photos", query_string=_period(app))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    thumbs = re.findall(r'src="(/portal/reporting/files/(\d+)/thumbnail)"', html)
    assert thumbs, "no photo in the gallery"
    image = client.get(thumbs[0][0])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    full = client.get(f"/portal/reporting/files/{thumbs[0][1]}")
    assert full.status_code == 200 and full.mimetype.startswith("image/")
    report_path = re.search(r'href="(/portal/reporting/reports/\d+)"', html).group(1)
    report = client.get(report_path)
    assert report.status_code == 200
    text = visible_text(report.get_data(as_text=True))
    assert "Tagesbericht" in text or "Wochenbericht" in text

    from app.models.promoter import Promoter
    from app.models.reporting import Report

    with db_session(app) as session:
        promoter = session.scalar(
            select(Promoter)
            .join(Report, Report.promoter_id == Promoter.id)
            .where(Report.id == int(report_path.rsplit("/", 1)[1]))
        )
        display, last_name = promoter.display_name, promoter.last_name
    assert display in text
    assert last_name not in text  # the display name only


def test_a_report_shows_the_groups_as_a_table_in_the_questionnaires_order(app):
    client = client_for(app, "adm.nord", "en")
    report_id = _report_of(app, NORTH, "approved")
    html = client.get(f"/portal/reporting/reports/{report_id}").get_data(as_text=True)
    keys = re.findall(r'data-question="([^"]+)"', html)
    assert keys.index("contacts") < keys.index("products") < keys.index("mood")
    group = re.search(r"<table[^>]*report-group.*?</table>", html, re.S).group(0)
    assert "Units sold" in group or "Sold" in group


def test_a_weekly_report_shows_its_week(app):
    client = client_for(app, "adm.nord", "de")
    report_id = _report_of(app, NORTH, "approved", kind="week")
    answer = client.get(f"/portal/reporting/reports/{report_id}")
    assert answer.status_code == 200
    text = visible_text(answer.get_data(as_text=True))
    assert "Wochenbericht" in text and "Woche ab" in text


@pytest.mark.parametrize("which", ["southern approved", "northern submitted", "unknown"])
def test_adm_nord_gets_404_for_reports_he_may_not_see(app, which):
    report_id = {
        "southern approved": lambda: _report_of(app, SOUTH, "approved"),
        "northern submitted": lambda: _report_of(app, NORTH, "submitted"),
        "unknown": lambda: 99999999,
    }[which]()
    client = client_for(app, "adm.nord", "de")
    assert client.get(f"/portal/reporting/reports/{report_id}").status_code == 404


def test_a_southern_photo_is_not_served_to_adm_nord(app):
    from app.models.crm import Location, Territory
    from app.models.planning import Job
    from app.models.reporting import Report, ReportFile

    with db_session(app) as session:
        file_id = session.scalar(
            select(ReportFile.id)
            .join(Report, Report.id == ReportFile.report_id)
            .join(Job, Job.id == Report.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Territory, Territory.id == Location.territory_id)
            .where(Territory.name == SOUTH, Report.status == "approved")
            .limit(1)
        )
    assert file_id is not None
    client = client_for(app, "adm.nord", "de")
    assert client.get(f"/portal/reporting/files/{file_id}/thumbnail").status_code == 404
    assert (
        client_for(app, "adm.sued", "de").get(f"/portal/reporting/files/{file_id}/thumbnail").status_code
        == 200
    )


# ---------------------------------------------------------------- vertrieb


def test_vertrieb_compares_north_and_south_in_english(app):
    client = client_for(app, "vertrieb", "en")
    html = client.get("/portal/reporting/", query_string=_period(app)).get_data(as_text=True)
    assert 'id="chart-territories"' in html
    text = visible_text(html)
    assert "Reporting" in text and "Progress" in text and "Figures" in text
    assert "Berichte" not in text.replace("Deutsch", "")
    rows = table_rows(html, "chart-territories-table")
    sold = [row for row in rows if row[0] == "Units sold"]
    by_territory = {territory: float(value.replace(",", "")) for _figure, territory, value in sold}
    assert set(by_territory) == {NORTH, SOUTH}, rows
    # the comparison is per report: the territories' averages by hand
    for territory in (NORTH, SOUTH):
        total, reports = _approved_units_sold(app, territory, _period(app))
        assert by_territory[territory] == pytest.approx(total / reports, abs=0.051)


# ---------------------------------------------------------------- broken input


@pytest.mark.parametrize(
    "path, args, message",
    [
        ("/portal/reporting/", {"from": "31.02.2026"}, "is not a date"),
        ("/portal/reporting/", {"to": "2026-13-45"}, "is not a date"),
        ("/portal/reporting/", {"from": "01.12.2026", "to": "01.11.2026"}, "before its start"),
        ("/portal/reporting/", {"from": "01.01.1900", "to": "31.12.2999"}, "at most three years"),
        ("/portal/reporting/", {"from": "31.12.9999"}, "before its start"),
        ("/portal/reporting/", {"to": "01.01.1000"}, "No approved reports with figures"),
        ("/portal/reporting/", {"from": "01.01.1000", "to": "31.12.9999"}, "at most three years"),
        ("/portal/reporting/photos", {"from": "01.12.9999", "to": "31.12.9999"}, "No photos"),
        ("/portal/reporting/", {"store": "99999999"}, "store is not available"),
        ("/portal/reporting/", {"project": "99999999999999999999"}, "project is not available"),
        ("/portal/reporting/", {"territory": "-1"}, "territory is not available"),
        ("/portal/reporting/", {"range": "forever"}, "Unknown period"),
        ("/portal/reporting/", {"figure": "<script>x</script>"}, "figure is not available"),
        ("/portal/reporting/stores", {"store": "abc"}, "store is not available"),
        ("/portal/reporting/photos", {"page": "999999999999"}, "no such page"),
        ("/portal/reporting/photos", {"page": "99999"}, "no photos on this page"),
        ("/portal/reporting/photos", {"question": "nope"}, "question is not available"),
        ("/portal/reporting/", {"by": "decade"}, "Unknown breakdown"),
    ],
)
def test_broken_filters_get_a_message_not_an_error(app, path, args, message):
    client = client_for(app, "adm.nord", "en")
    answer = client.get(path, query_string=args)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert message in visible_text(html)
    assert "<script>x</script>" not in html


def test_a_southern_store_as_filter_is_refused_for_adm_nord(app):
    from app.models.crm import Location, Territory

    with db_session(app) as session:
        store_id = session.scalar(
            select(Location.id)
            .join(Territory, Territory.id == Location.territory_id)
            .where(Territory.name == SOUTH)
        )
    client = client_for(app, "adm.nord", "en")
    html = client.get("/portal/reporting/stores", query_string={"store": store_id}).get_data(as_text=True)
    assert "store is not available" in visible_text(html)
    _north, south = _north_south(app)
    assert not any(name in html for name in south)


@pytest.mark.parametrize(
    "path",
    [
        "/portal/reporting/?from=%00",
        "/portal/reporting/photos?question=a%00b",
        "/portal/reporting/stores?store=1%00",
    ],
)
def test_nul_bytes_are_refused_with_a_message(app, path):
    answer = client_for(app, "adm.nord", "en").get(path)
    assert answer.status_code in (200, 400)
    assert answer.status_code < 500
    assert "cannot be stored" in visible_text(answer.get_data(as_text=True)) or answer.status_code == 200


def _workbook_stores(data: bytes) -> set[str]:
    """The store names of a downloaded workbook (the column headed Markt/Store)."""
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    column = next(i for i, text in enumerate(rows[0]) if str(text) in ("Markt", "Store"))
    return {str(row[column]) for row in rows[1:] if row[column]}


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_adm_nord_downloads_excel_and_pdf_with_northern_stores_only(app):
    client = client_for(app, "adm.nord", "de")
    period = _period(app)
    north, south = _north_south(app)
    xlsx = client.get("/portal/reporting/export.xlsx", query_string=period)
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"
    assert "attachment" in xlsx.headers["Content-Disposition"]
    stores = _workbook_stores(xlsx.data)
    assert stores and {name.rsplit(",", 1)[0] for name in stores} <= north, stores
    pdf = client.get("/portal/reporting/report.pdf", query_string=period)
    assert pdf.status_code == 200
    assert pdf.data[:5] == b"%PDF-"
    text = _pdf_text(pdf.data)
    assert "Kampagnenbericht" in text
    assert any(name in text for name in north)
    assert not any(name in text for name in south)
    # a broken filter still downloads (the default period), never a server error
    assert client.get("/portal/reporting/export.xlsx", query_string={"from": "31.02.2026"}).status_code == 200
    assert client.get("/portal/reporting/report.pdf", query_string={"store": "x"}).status_code == 200


def test_the_agency_downloads_any_project_and_territory(app):
    from app.models.crm import Territory
    from app.models.planning import Project

    with db_session(app) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == "Supertoy Sales Promotion"))
        south_id = session.scalar(select(Territory.id).where(Territory.name == SOUTH))
    north, south = _north_south(app)
    client = client_for(app, "agentur", "en")
    args = {**_period(app), "project": project_id, "territory": south_id}
    xlsx = client.get("/reporting/dashboard/export.xlsx", query_string=args)
    assert xlsx.status_code == 200
    stores = {name.rsplit(",", 1)[0] for name in _workbook_stores(xlsx.data)}
    assert stores and stores <= south
    pdf = client.get("/reporting/dashboard/report.pdf", query_string=args)
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    assert "Campaign report" in text and SOUTH in text
    assert not any(name in text for name in north)


def test_the_area_works_on_the_customer_host(app, database_url):
    from app import create_app
    from tests.conftest import DEMO_PASSWORD

    host = "kunden.promoplan.test"
    hosted = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "CUSTOMER_HOST": host,
            "REPORT_STORAGE_PATH": app.config["REPORT_STORAGE_PATH"],
        }
    )
    client = hosted.test_client()
    login = client.post(
        "/login", headers={"Host": host}, data={"username": "adm.nord", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 302
    page = client.get("/reporting/", headers={"Host": host}, query_string=_period(app))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    photos = re.search(r'href="([^"]+)" id="link-photos"', html).group(1)
    gallery = client.get(photos.replace("&amp;", "&"), headers={"Host": host})
    assert gallery.status_code == 200
    thumb = re.search(r'src="([^"]+/thumbnail)"', gallery.get_data(as_text=True)).group(1)
    assert client.get(thumb, headers={"Host": host}).status_code == 200


def test_the_area_needs_a_customer_login(app):
    anonymous = app.test_client().get("/portal/reporting/")
    assert anonymous.status_code == 302 and "/portal/login" in anonymous.headers["Location"]
    for user in ("promoter01", "agentur"):
        assert client_for(app, user).get("/portal/reporting/").status_code == 403


# ---------------------------------------------------------------- the agency


@pytest.mark.parametrize(
    "path",
    [
        "/reporting/dashboard/",
        "/reporting/dashboard/stores",
        "/reporting/dashboard/photos",
        "/reporting/punctuality/",
    ],
)
def test_the_agency_dashboard_renders_for_the_admin(app, path):
    client = client_for(app, "admin", "en")
    answer = client.get(path, query_string=_period(app))
    assert answer.status_code == 200
    text = visible_text(answer.get_data(as_text=True))
    assert "Period" in text


def test_the_agency_dashboard_shows_every_territory_and_the_punctuality(app):
    client = client_for(app, "agentur", "de")
    html = client.get("/reporting/dashboard/", query_string=_period(app)).get_data(as_text=True)
    assert 'id="chart-territories"' in html
    punctuality = client.get("/reporting/punctuality/", query_string=_period(app)).get_data(as_text=True)
    rows = table_rows(punctuality, "punctuality-table")
    assert rows, "no promoter in the punctuality table"
    for row in rows:
        due, on_time, late, missing = (int(_number(cell)) for cell in row[1:5])
        assert due == on_time + late + missing


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2026-11-02", "to": "2026-11-29"},  # no change of the clocks
        {"from": "2026-10-19", "to": "2026-11-15"},  # summer time ends on 25 October
        {"from": "2026-03-16", "to": "2026-04-12"},  # summer time begins on 29 March
    ],
)
def test_the_punctuality_renders_in_any_period(app, period):
    answer = client_for(app, "agentur", "en").get("/reporting/punctuality/", query_string=period)
    assert answer.status_code == 200
    assert 'id="punctuality-table"' in answer.get_data(as_text=True)


def test_the_agency_menu_has_dashboard_and_punctuality(app):
    for locale, entries in (("de", ("Auswertung", "Pünktlichkeit")), ("en", ("Dashboard", "Punctuality"))):
        html = client_for(app, "agentur", locale).get("/").get_data(as_text=True)
        for entry in entries:
            assert re.search(rf"<a [^>]*href=\"/reporting/[^\"]*\"[^>]*>.*?{entry}", html, re.S), entry


@pytest.mark.parametrize("user", ["adm.nord", "promoter01", None])
@pytest.mark.parametrize(
    "path", ["/reporting/dashboard/", "/reporting/punctuality/", "/reporting/dashboard/export.xlsx"]
)
def test_the_agency_dashboard_is_closed_to_others(app, user, path):
    answer = client_for(app, user).get(path)
    assert answer.status_code in (302, 403, 404)
    if answer.status_code == 302:
        assert "login" in answer.headers["Location"]


def test_a_long_store_list_says_it_is_cut(app, monkeypatch):
    from app.reporting import dashboard_data

    monkeypatch.setattr(dashboard_data, "STORE_ROWS", 5)
    html = client_for(app, "agentur", "en").get("/reporting/dashboard/stores", query_string=_period(app))
    html = html.get_data(as_text=True)
    assert len(table_rows(html, "stores-table")) == 5
    assert "Only the first 5 stores are listed" in visible_text(html)
    html = client_for(app, "adm.nord", "en").get("/portal/reporting/stores", query_string=_period(app))
    assert "Only the first 5 stores" in visible_text(html.get_data(as_text=True))


def test_the_agency_over_all_projects_narrows_before_it_sums_too_many_reports(app, monkeypatch):
    """Over all projects the agency's figures are summed only up to AGENCY_MAX_REPORTS
    approved reports (seconds per aggregate at a million appointments): above it the page
    shows the progress and asks for a project; with the project chosen the figures come."""
    from app.models.planning import Project
    from app.reporting import dashboard_data

    monkeypatch.setattr(dashboard_data, "AGENCY_MAX_REPORTS", 5)
    client = client_for(app, "agentur", "en")
    html = client.get("/reporting/dashboard/", query_string=_period(app)).get_data(as_text=True)
    text = visible_text(html)
    assert "More than 5 approved reports in this period" in text
    assert 'id="figures-capped"' in html and 'id="chart-trend"' not in html
    assert 'id="chart-progress"' in html  # the progress is still there
    with db_session(app) as session:
        demo = session.scalar(select(Project.id).where(Project.name.like("Supertoy%")))
    html = client.get("/reporting/dashboard/", query_string={**_period(app), "project": demo}).get_data(
        as_text=True
    )
    assert 'id="figures-capped"' not in html and 'id="chart-trend"' in html
    assert table_rows(html, "figures-table")
