"""The reports API (``/api/v1/report/``): who reads which reports, in which shape.

The expected rows are computed with plain joins on the tables (tests.visibility_helpers),
not with app.security.visibility, whose answers the API uses.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.test_sql_per_page import counted
from tests.visibility_helpers import (
    CUSTOMERS,
    NORTH,
    SOUTH,
    JwtClient,
    Rows,
    db_session,
    demo_ids,
    expected_jobs,
    local_today,
    new_tag,
    session_client,
)

CUSTOMER_KEYS = {
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
}


def collect(client, query: str = "", page_size: int = 500) -> tuple[int, list[dict]]:
    """``count`` and every report of the list, page by page."""
    rows: list[dict] = []
    page = 0
    count = None
    while True:
        response = client.get(f"/api/v1/report/?page={page}&page_size={page_size}{query}")
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
        body = response.get_json()
        count = body["count"] if count is None else count
        assert body["count"] == count, "the count changed between pages"
        assert body["ids"] == [row["id"] for row in body["result"]]
        rows.extend(body["result"])
        if len(body["result"]) < page_size:
            break
        page += 1
        assert page < 100, "runaway paging"
    assert len(rows) == count
    return count, rows


@pytest.fixture(scope="module")
def jwt(app):
    return {name: JwtClient(app, name) for name in (*CUSTOMERS, "agentur", "promoter01", "promoter02")}


def _reports_by_territory(app) -> dict[str, list[tuple[int, str, int]]]:
    """Territory name -> (report id, status, job id) of the demo's reports, by plain joins."""
    from app.models.crm import Location, Territory
    from app.models.planning import Job
    from app.models.reporting import Report

    found: dict[str, list] = {}
    with db_session(app) as session:
        rows = session.execute(
            select(Territory.name, Report.id, Report.status, Report.job_id)
            .join(Job, Job.id == Report.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Territory, Territory.id == Location.territory_id)
        )
        for territory, report_id, status, job_id in rows:
            found.setdefault(territory, []).append((report_id, status, job_id))
    return found


@pytest.mark.parametrize("username", CUSTOMERS)
def test_a_customer_reads_exactly_the_approved_reports_of_their_stores(app, jwt, username):
    with db_session(app) as session:
        jobs = {row.job_id for row in expected_jobs(session, username)}
    expected = sorted(
        report_id
        for reports in _reports_by_territory(app).values()
        for report_id, status, job_id in reports
        if status == "approved" and job_id in jobs
    )
    count, rows = collect(jwt[username])
    assert expected, "the demo has approved reports in the customer's stores"
    assert sorted(row["id"] for row in rows) == expected
    assert {row["status"] for row in rows} == {"approved"}
    for row in rows:
        assert set(row) == CUSTOMER_KEYS, "a customer gets no promoter and no review notes"


def test_adm_nord_reads_northern_reports_only_and_never_an_unapproved_one(app, jwt):
    by_territory = _reports_by_territory(app)
    _, rows = collect(jwt["adm.nord"])
    ids = {row["id"] for row in rows}
    north = {report_id for report_id, status, _ in by_territory[NORTH] if status == "approved"}
    unapproved = {report_id for report_id, status, _ in by_territory[NORTH] if status != "approved"}
    south = {report_id for report_id, _, _ in by_territory[SOUTH]}
    assert ids == north
    assert unapproved and not ids & unapproved
    assert not ids & south
    # one by one: a southern report and an unapproved northern one are not found
    for report_id in (min(south), min(unapproved)):
        assert jwt["adm.nord"].get(f"/api/v1/report/{report_id}").status_code == 404
    assert jwt["adm.nord"].get(f"/api/v1/report/{min(north)}").status_code == 200


def test_the_agency_reads_every_report(app, jwt):
    from app.models.reporting import Report

    with db_session(app) as session:
        total = session.scalar(select(func.count()).select_from(Report))
        statuses = Counter(session.scalars(select(Report.status)))
    count, rows = collect(jwt["agentur"])
    assert count == total
    assert Counter(row["status"] for row in rows) == statuses
    assert {"promoter_id", "return_comment", "reviewed_at"} <= set(rows[0])


@pytest.mark.parametrize("username", ["promoter01", "promoter02"])
def test_a_promoter_reads_their_own_reports_only(app, jwt, username):
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter
    from app.models.reporting import Report

    with db_session(app) as session:
        promoter_id = session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == username)
        )
        own = set(session.scalars(select(Report.id).where(Report.promoter_id == promoter_id)))
        foreign = session.scalar(select(Report.id).where(Report.promoter_id != promoter_id).limit(1))
    _, rows = collect(jwt[username])
    assert own and {row["id"] for row in rows} == own
    assert {row["promoter_id"] for row in rows} == {promoter_id}
    assert jwt[username].get(f"/api/v1/report/{foreign}").status_code == 404
    if username == "promoter01":
        # their own returned report, with the agency's comment
        returned = [row for row in rows if row["status"] == "returned"]
        assert returned and all(row["return_comment"] for row in returned)


def test_an_approved_day_report_in_detail(app, jwt):
    from app.models.planning import Appointment, Job
    from app.models.reporting import Report, ReportAnswer

    with db_session(app) as session:
        report = session.scalars(
            select(Report).where(Report.kind == "day", Report.status == "approved").order_by(Report.id)
        ).first()
        appointment = session.get(Appointment, report.appointment_id)
        location_id = session.get(Job, report.job_id).location_id
        stored = {
            (a.group_key, a.item, a.question_key): (a.value_text, a.value_number)
            for a in session.scalars(select(ReportAnswer).where(ReportAnswer.report_id == report.id))
        }
        expected_times = (report.actual_start.strftime("%H:%M"), report.actual_end.strftime("%H:%M"))
        break_minutes = report.break_minutes
        report_id = report.id
        day, appointment_id = appointment.date, appointment.id
    body = jwt["pos.marketing"].get(f"/api/v1/report/{report_id}").get_json()
    row = body["result"]
    assert body["id"] == report_id
    assert (row["kind"], row["status"], row["appointment_id"]) == ("day", "approved", appointment_id)
    assert (row["location_id"], row["date"], row["week_start"]) == (location_id, day.isoformat(), None)
    assert (row["actual_start"], row["actual_end"], row["break_minutes"]) == (*expected_times, break_minutes)
    assert row["submitted_at"].endswith("+00:00")
    answers = row["answers"]
    assert answers["contacts"] == int(stored[None, 0, "contacts"][1])
    assert isinstance(answers["contacts"], int) and isinstance(answers["footfall"], int)
    assert isinstance(answers["competitor_activity"], bool)
    assert answers["competitor_activity"] is bool(stored[None, 0, "competitor_activity"][1])
    assert answers["mood"] == stored[None, 0, "mood"][0]
    products = answers["products"]
    assert [p["product"] for p in products] == ["turbo_kreisel", "drache_fridolin", "weltraumstation"]
    for item, product in enumerate(products):
        assert set(product) == {"product", "opening_stock", "units_sold", "closing_stock"}
        assert product["units_sold"] == int(stored["products", item, "units_sold"][1])
        assert product["opening_stock"] - product["units_sold"] == product["closing_stock"]


@pytest.fixture(scope="module")
def own_report(app):
    """A report of promoter01 on a questionnaire with every kind of answer and two photos."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.planning import Appointment, Booking, Job
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

    rows = Rows(app)
    tag = new_tag("api")
    ids = demo_ids(app)
    with db_session(app) as session:
        promoter_id = session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == "promoter01")
        )
        job_id = session.scalar(select(Job.id).where(Job.project_id == ids["project"]).order_by(Job.id))
    day = local_today(app) + dt.timedelta(days=400)
    appointment = rows.add(
        Appointment,
        job_id=job_id,
        date=day,
        start_time=dt.time(9),
        end_time=dt.time(17),
        status="planned",
        origin="agency",
        version=1,
    )
    rows.add(Booking, appointment_id=appointment, promoter_id=promoter_id, status="confirmed")
    questionnaire = rows.add(Questionnaire, name=f"API {tag}", kind="day", created_at=dt.datetime.now())
    version = rows.add(
        QuestionnaireVersion,
        questionnaire_id=questionnaire,
        number=1,
        published_at=dt.datetime.now(),
        created_at=dt.datetime.now(),
    )
    page = rows.add(QuestionnairePage, version_id=version, position=0, title_de="Seite")
    kinds = {
        "price": "decimal",
        "colours": "multiple_choice",
        "visited": "date",
        "arrived": "time",
        "note": "text",
        "shelf": "photo",
        "receipt": "file",
    }
    for position, (key, kind) in enumerate(kinds.items()):
        extra = {"choices": "red | Rot | Red\nblue | Blau | Blue"} if kind == "multiple_choice" else {}
        rows.add(
            Question,
            version_id=version,
            page_id=page,
            position=position,
            key=key,
            kind=kind,
            label_de=key,
            required=False,
            **extra,
        )
    report = rows.add(
        Report,
        kind="day",
        appointment_id=appointment,
        job_id=job_id,
        questionnaire_version_id=version,
        promoter_id=promoter_id,
        status="draft",
        created_at=dt.datetime.now(),
        updated_at=dt.datetime.now(),
        revision=1,
    )
    for key, text, number in (
        ("price", None, 12.5),
        ("colours", "red", None),
        ("colours", "blue", None),
        ("visited", day.isoformat(), None),
        ("arrived", "09:05", None),
        ("note", f"Notiz {tag}", None),
    ):
        rows.add(
            ReportAnswer, report_id=report, question_key=key, item=0, value_text=text, value_number=number
        )
    files = [
        rows.add(
            ReportFile,
            report_id=report,
            question_key="shelf",
            item=0,
            storage_key=f"{tag}-{n}",
            thumbnail_key=f"{tag}-{n}-thumb",
            content_type="image/jpeg",
            byte_size=1000,
            width=800,
            height=600,
            created_at=dt.datetime.now(),
        )
        for n in range(2)
    ]
    pdf = rows.add(
        ReportFile,
        report_id=report,
        question_key="receipt",
        item=0,
        storage_key=f"{tag}-pdf",
        content_type="application/pdf",
        byte_size=1000,
        created_at=dt.datetime.now(),
    )
    yield {"report": report, "photos": files, "pdf": pdf, "tag": tag, "appointment": appointment}
    rows.cleanup()


def test_answers_of_every_kind_and_the_photo_urls(app, jwt, own_report):
    row = jwt["promoter01"].get(f"/api/v1/report/{own_report['report']}").get_json()["result"]
    assert row["status"] == "draft"
    assert row["answers"] == {
        "price": 12.5,
        "colours": ["red", "blue"],
        "visited": row["date"],
        "arrived": "09:05",
        "note": f"Notiz {own_report['tag']}",
    }
    assert [p["id"] for p in row["photos"]] == own_report["photos"]
    for photo in row["photos"]:
        assert photo["question"] == "shelf"
        assert photo["url"].endswith(f"/reporting/files/{photo['id']}")
        assert photo["thumbnail_url"].endswith(f"/reporting/files/{photo['id']}/thumbnail")
        assert photo["url"].startswith("http")
    assert [(f["id"], f["content_type"]) for f in row["files"]] == [(own_report["pdf"], "application/pdf")]
    # the draft is the promoter's: no customer and no other promoter finds it
    for username in ("pos.marketing", "adm.nord", "promoter02"):
        assert jwt[username].get(f"/api/v1/report/{own_report['report']}").status_code == 404
        _, rows = collect(jwt[username], f"&appointment_id={own_report['appointment']}")
        assert rows == []


def test_the_browser_session_works_too(app):
    client = session_client(app, "adm.sued")
    body = client.get("/api/v1/report/?page_size=5").get_json()
    assert body["count"] > 0 and len(body["result"]) == 5
    assert session_client(app, None).get("/api/v1/report/").status_code == 401


def test_filters(app, jwt):
    agency = jwt["agentur"]
    _, everything = collect(agency)
    day_reports = [row for row in everything if row["kind"] == "day"]
    some = day_reports[len(day_reports) // 2]
    _, rows = collect(agency, f"&appointment_id={some['appointment_id']}")
    assert [row["id"] for row in rows] == [some["id"]]
    _, rows = collect(agency, "&status=returned,submitted")
    assert rows and {row["status"] for row in rows} == {"returned", "submitted"}
    assert len(rows) == sum(1 for row in everything if row["status"] in ("returned", "submitted"))
    _, rows = collect(agency, "&kind=week")
    assert rows and {row["kind"] for row in rows} == {"week"}
    dates = sorted({row["date"] for row in day_reports})
    first, last = dates[3], dates[10]
    _, rows = collect(agency, f"&kind=day&from={first}&to={last}")
    assert {row["id"] for row in rows} == {row["id"] for row in day_reports if first <= row["date"] <= last}
    # the customer's filters stay within the customer's rows
    _, rows = collect(jwt["adm.nord"], "&status=submitted")
    assert rows == []


def test_paging_gives_every_row_once(app, jwt):
    count, whole = collect(jwt["adm.sued"])
    paged_count, paged = collect(jwt["adm.sued"], page_size=37)
    assert paged_count == count
    assert [row["id"] for row in paged] == [row["id"] for row in whole]
    assert len({row["id"] for row in paged}) == count


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=abc",
        "page=99999999999999999999999",
        "page_size=0",
        "page_size=100000",
        "status=finished",
        "status=,",
        "kind=month",
        "from=2025-13-01",
        "from=31.12.2025",
        "to=tomorrow",
        "from=2025-03-02&to=2025-03-01",
        "appointment_id=abc",
        "appointment_id=-3",
        "appointment_id=99999999999999999999999",
        "job_id=1.5",
        "status=approved%00",
    ],
)
def test_bad_parameters_are_answered_with_400_and_a_message(app, jwt, query):
    response = jwt["agentur"].get(f"/api/v1/report/?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["message"]


def test_bad_parameters_in_german(app):
    client = session_client(app, "adm.nord")  # a German contact
    client.get("/portal/lang/de")
    message = client.get("/api/v1/report/?status=finished").get_json()["message"]
    assert "status" in message and "approved" in message
    assert "muss einer oder mehrere" in message


def test_nothing_can_be_written(app, jwt, own_report):
    from app.models.reporting import Report

    report = own_report["report"]
    for client in (jwt["agentur"], jwt["promoter01"]):
        assert client.post("/api/v1/report/", json={"status": "approved"}).status_code == 405
        assert client.put(f"/api/v1/report/{report}", json={"status": "approved"}).status_code == 405
        assert client.delete(f"/api/v1/report/{report}").status_code == 405
    with db_session(app) as session:
        assert session.get(Report, report).status == "draft"


def test_a_page_of_reports_takes_the_same_queries_whatever_its_size(app, jwt):
    def statements(page_size: int) -> int:
        url = f"/api/v1/report/?page_size={page_size}"
        jwt["agentur"].get(url)
        with counted(app) as seen:
            response = jwt["agentur"].get(url)
        assert len(response.get_json()["result"]) == page_size
        return len(seen)

    assert statements(2) == statements(200)


def test_the_api_description_lists_the_report_routes(app):
    spec = session_client(app, "agentur").get("/api/v1/_openapi").get_json()
    paths = [path for path in spec["paths"] if "/report/" in path]
    assert len(paths) == 2, paths
    for path in paths:
        assert set(spec["paths"][path]) == {"get"}


def test_the_photo_urls_open_for_whoever_sees_the_report_only(app, jwt):
    """The demo's recent reports have photos: their URLs work with the same token (and
    session); adm.nord cannot open a photo of a southern store, adm.sued can."""
    recent = (local_today(app) - dt.timedelta(days=10)).isoformat()
    _, south = collect(jwt["adm.sued"], f"&from={recent}")
    _, north = collect(jwt["adm.nord"], f"&from={recent}")
    south_photos = [photo for row in south for photo in row["photos"]]
    north_photos = [photo for row in north for photo in row["photos"]]
    assert south_photos and north_photos
    assert {photo["question"] for photo in south_photos} == {"display_photo"}
    photo = south_photos[0]
    path, thumbnail = (urlsplit(photo[key]).path for key in ("url", "thumbnail_url"))
    answer = jwt["adm.sued"].get(path)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
    assert answer.data[:3] == b"\xff\xd8\xff"
    assert jwt["adm.sued"].get(thumbnail).status_code == 200
    assert session_client(app, "adm.sued").get(path).status_code == 200
    for client in (jwt["adm.nord"], session_client(app, "adm.nord"), jwt["promoter02"]):
        assert client.get(path).status_code == 404
        assert client.get(thumbnail).status_code == 404
    assert jwt["adm.nord"].get(urlsplit(north_photos[0]["url"]).path).status_code == 200
