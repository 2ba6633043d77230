"""Promoter route × record: a promoter never sees or changes another promoter's rows.

Every URL rule of the promoter system (taken from ``app.url_map``: every rule under
/promoter/) is requested with every method it accepts by promoter01, with its record
arguments filled with the rows of other promoters:

- promoter02 (a demo promoter with its demo bookings and applications), given a
  request, a confirmed booking, an application and a period of unavailability of
  its own by this module;
- a promoter made by this module whose names all carry a unique tag, with the
  same four kinds of rows.

A request about a foreign record must be refused (400/403/404/405); pages without
a record argument may answer (200, or a redirect inside the promoter system); the
other promoters' names and e-mail addresses (and the tag) must never be in a body;
and no row of bookings, applications, unavailabilities, promoters or the outbox may
change. Writes are sent as a forger would: the foreign ids in the URL and in the form.

Customers (adm.nord) and anonymous visitors get 403 or the promoter login on every
promoter page; promoters get 403 (or the login) on agency screens and customer pages.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.visibility_helpers import DENIED, REDIRECTS, Rows, db_session, local_today, new_tag, table_snapshot

#: Routes without records and without login (the login form, the language switch, and
#: "forgot password" with its one-time link; see tests/test_accounts.py).
OPEN_ENDPOINTS = ("promoter.login", "promoter.language", "promoter.forgot_password", "promoter.set_password")
FEED_ENDPOINT = "promoter.feed"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")

#: URL argument -> key of the foreign record set.
ID_ARGUMENTS = {
    "booking_id": ("requested", "confirmed", "demo_booking"),
    "application_id": ("application", "demo_application"),
    "unavailability_id": ("unavailability",),
    "job_id": ("job",),
    "file_id": ("report_file",),
    "report_id": ("report",),
    "appointment_id": ("appointment",),
}


def promoter_rules(app) -> list:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.rule.startswith("/promoter/")),
        key=lambda r: (r.rule, r.endpoint),
    )


# ---------------------------------------------------------------- the records


def _add_rows(rows: Rows, promoter: int, job: int, day: dt.date, tag: str) -> dict[str, int]:
    from app.models.planning import Application, Appointment, Booking
    from app.models.promoter import Unavailability

    ids: dict[str, int] = {}
    for key, start, status in (
        ("requested", dt.time(9), "requested"),
        ("confirmed", dt.time(14), "confirmed"),
    ):
        appointment = rows.add(
            Appointment,
            job_id=job,
            date=day,
            start_time=start,
            end_time=start.replace(hour=start.hour + 4),
            status="planned",
            origin="agency",
            note=f"Matrix {tag}",
            version=1,
        )
        ids[key] = rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status=status)
    ids["appointment"] = appointment  # the confirmed one: its day report may be started
    ids["report"], ids["report_file"] = _add_report_file(rows, promoter, job, appointment, tag)
    ids["application"] = rows.add(Application, promoter_id=promoter, job_id=job, status="accepted")
    ids["unavailability"] = rows.add(
        Unavailability, promoter_id=promoter, start_date=day, end_date=day, note=f"Urlaub {tag}"
    )
    return ids


def _add_report_file(rows: Rows, promoter: int, job: int, appointment: int, tag: str) -> tuple[int, int]:
    """A day report of ``promoter`` (a draft: the promoter's form is open) with a stored PDF
    whose bytes carry the tag; (report, file)."""
    from app.models.reporting import Questionnaire, QuestionnaireVersion, Report, ReportFile
    from app.reporting.storage import new_key, storage_for

    questionnaire = rows.add(Questionnaire, name=f"Matrix {tag}", kind="day")
    version = rows.add(QuestionnaireVersion, questionnaire_id=questionnaire, number=1)
    report = rows.add(
        Report,
        kind="day",
        appointment_id=appointment,
        job_id=job,
        questionnaire_version_id=version,
        promoter_id=promoter,
        status="draft",
    )
    key = new_key("pdf")
    data = f"%PDF-1.4 Matrix {tag}".encode()
    storage_for(rows.app).put(key, data, "application/pdf")
    return report, rows.add(
        ReportFile,
        report_id=report,
        question_key="documents",
        storage_key=key,
        content_type="application/pdf",
        byte_size=len(data),
        original_name=f"Matrix {tag}.pdf",
    )


@pytest.fixture(scope="module")
def records(app):
    """Foreign record sets (promoter02, a tagged promoter) and the texts that identify them."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Location
    from app.models.planning import Application, Booking, Job
    from app.models.promoter import Promoter
    from tests.visibility_helpers import PROJECT_NAME

    rows = Rows(app)
    tag = new_tag("pmx")
    day = local_today(app) + dt.timedelta(days=450)
    with db_session(app) as session:
        from app.models.planning import Project

        project = session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))
        p2 = session.execute(
            select(Promoter).join(User, User.id == Promoter.user_id).where(User.username == "promoter02")
        ).scalar_one()
        p2_id, p2_texts = p2.id, [p2.full_name, p2.email, p2.last_name]
        demo_booking = session.scalar(
            select(Booking.id).where(Booking.promoter_id == p2_id).order_by(Booking.id)
        )
        demo_application = session.scalar(
            select(Application.id).where(Application.promoter_id == p2_id).order_by(Application.id)
        )
    location = rows.add(
        Location,
        name=f"Matrixmarkt {tag}",
        street=f"Matrixweg {tag}",
        postcode="20095",
        city=f"Hamburg-{tag}",
        federal_state="HH",
    )
    job = rows.add(Job, project_id=project, location_id=location, title=f"Matrix Job {tag}", status="staffed")
    tagged = rows.add(
        Promoter,
        first_name=f"Matrix{tag}",
        last_name=f"Promo{tag}",
        email=f"matrix-{tag}@example.org",
        phone="+49 170 5550123",
        city=f"Kiel-{tag}",
        active=True,
        feed_token=secrets.token_urlsafe(32),
    )
    sets = {
        "promoter02": {
            **_add_rows(rows, p2_id, job, day, tag),
            "job": job,
            "demo_booking": demo_booking,
            "demo_application": demo_application,
        },
        "tagged": {
            **_add_rows(rows, tagged, job, day + dt.timedelta(days=1), tag),
            "job": job,
            "demo_booking": demo_booking,
            "demo_application": demo_application,
        },
    }
    texts = {"promoter02": p2_texts, "tagged": [tag]}
    forged = {"promoter02": p2_id, "tagged": tagged}
    yield {"sets": sets, "texts": texts, "promoters": forged, "tag": tag}
    rows.cleanup()


def _models():
    from app.models.planning import Application, Appointment, Booking
    from app.models.promoter import Promoter, Unavailability
    from app.models.reporting import Report, ReportAnswer, ReportFile
    from app.outbox.models import OutboxMessage

    return (
        Booking,
        Application,
        Appointment,
        Unavailability,
        Promoter,
        OutboxMessage,
        Report,
        ReportAnswer,
        ReportFile,
    )


# ---------------------------------------------------------------- the matrix


@dataclass
class Result:
    method: str
    url: str
    endpoint: str
    status: int | str
    location: str = ""
    leaked: list[str] = field(default_factory=list)
    problem: str = ""


def _urls(rule, record_set: dict[str, int]) -> list[str]:
    urls = [rule.rule]
    for argument in sorted(rule.arguments):
        if argument in ID_ARGUMENTS:
            values = [str(record_set[key]) for key in ID_ARGUMENTS[argument]]
        elif argument == "token":
            values = [secrets.token_urlsafe(32)]
        elif argument == "locale":
            values = ["en"]
        elif argument == "week":  # a weekly report's Monday (this week's)
            today = dt.date.today()
            values = [(today - dt.timedelta(days=today.weekday())).isoformat()]
        else:
            raise AssertionError(f"no value for <{argument}> of {rule.rule}: add it to the promoter matrix")
        urls = [
            url.replace(f"<int:{argument}>", value).replace(f"<{argument}>", value)
            for url in urls
            for value in values
        ]
    return urls


def _forged_form(record_set: dict[str, int], promoter: int, email: str) -> dict[str, str]:
    """What a forger sends: the foreign promoter's ids and e-mail address, no valid dates."""
    return {
        **{key: str(value) for key, value in record_set.items()},
        "id": str(record_set["requested"]),
        "promoter_id": str(promoter),
        "promoter": str(promoter),
        "email": email,
        "phone": "forged",
        "city": "forged",
        "note": "forged",
        "status": "confirmed",
    }


def _request(client, method: str, url: str, **kwargs):
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an exception is a (reported) 500
        return f"exception {type(exc).__name__}: {exc}", "", ""
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def _judge(result: Result, has_record: bool, endpoint: str, body: str, texts: list[str]) -> None:
    result.leaked = [text for text in texts if text and text.lower() in body.lower()]
    status = result.status
    if not isinstance(status, int) or status >= 500:
        result.problem = f"server error {status}"
    elif has_record:
        if status not in DENIED - {401}:
            result.problem = f"answered {status} for a foreign record"
    elif status in REDIRECTS:
        if not urlsplit(result.location).path.startswith("/promoter/"):
            result.problem = f"redirect out of the promoter system to {result.location}"
    elif status not in (200, *DENIED) or status == 401:
        result.problem = f"answered {status}"


@pytest.fixture(scope="module")
def matrix(app, records):
    from app.models.promoter import Promoter

    client = app.test_client()
    login(client, "promoter01")
    before = table_snapshot(app, *_models())
    results = []
    for rule in promoter_rules(app):
        if rule.endpoint == "promoter.logout":
            continue  # would only end the session; see test_logout_… in test_promoter_system
        has_record = bool(set(rule.arguments) & set(ID_ARGUMENTS))
        methods = [m for m in METHODS if m in rule.methods]
        for name, record_set in records["sets"].items():
            with db_session(app) as session:
                email = session.get(Promoter, records["promoters"][name]).email
            texts = [t for texts in records["texts"].values() for t in texts]
            for url in _urls(rule, record_set):
                for method in methods:
                    kwargs = {}
                    if method in ("POST", "PUT", "PATCH"):
                        kwargs["data"] = _forged_form(record_set, records["promoters"][name], email)
                    status, location, body = _request(client, method, url, **kwargs)
                    entry = Result(method, url, rule.endpoint, status, location)
                    # A refused profile form echoes the address the forger typed in; that is no leak.
                    shown = (
                        body.replace(f'value="{email}"', "") if rule.endpoint == "promoter.profile" else body
                    )
                    _judge(entry, has_record, rule.endpoint, shown, texts)
                    results.append(entry)
    # The pages promoter01 reads after the forged writes show nothing foreign either.
    for path in (
        "/promoter/",
        "/promoter/requests",
        "/promoter/schedule",
        "/promoter/jobs",
        "/promoter/unavailability",
        "/promoter/profile",
        "/promoter/calendar",
        "/promoter/reports",
    ):
        status, location, body = _request(client, "GET", path)
        entry = Result("GET", path, "after", status, location)
        _judge(entry, False, "after", body, [t for texts in records["texts"].values() for t in texts])
        results.append(entry)
    after = table_snapshot(app, *_models())
    return {"results": results, "before": before, "after": after}


def _describe(results, limit: int = 30) -> str:
    lines = [
        f"{r.method} {r.url} -> {r.status} {r.location} {r.problem}"
        + (f" LEAK {r.leaked}" if r.leaked else "")
        for r in results[:limit]
    ]
    if len(results) > limit:
        lines.append(f"... and {len(results) - limit} more")
    return "\n".join(lines)


def test_summary(app, matrix, capsys):
    results = matrix["results"]
    statuses = Counter(str(r.status) for r in results)
    endpoints = {r.endpoint for r in results}
    with capsys.disabled():
        print(
            f"\npromoter matrix: {len(results)} requests as promoter01;"
            f" statuses {dict(sorted(statuses.items()))}"
        )
    expected = {r.endpoint for r in promoter_rules(app)} - {"promoter.logout"}
    assert expected <= endpoints
    assert len(results) > 50


def test_no_foreign_promoter_text_in_any_answer(matrix):
    leaks = [r for r in matrix["results"] if r.leaked]
    assert not leaks, f"{len(leaks)} leaks:\n{_describe(leaks)}"


def test_foreign_records_are_refused(matrix):
    problems = [r for r in matrix["results"] if r.problem]
    assert not problems, f"{len(problems)} problems:\n{_describe(problems)}"


def test_foreign_records_are_answered_with_404(matrix):
    """Not even 403: whether another promoter's record exists is not revealed."""
    writes = ("promoter.confirm", "promoter.decline", "promoter.apply", "promoter.withdraw")
    record_routes = [
        r for r in matrix["results"] if r.endpoint in (*writes, "promoter.delete_unavailability")
    ]
    assert record_routes
    assert {r.status for r in record_routes} == {404}


def test_nothing_changed(matrix):
    for table, rows in matrix["before"].items():
        assert matrix["after"][table] == rows, f"{table} changed"


# ---------------------------------------------------------------- other roles


def _fill(rule) -> str:
    url = rule.rule
    for argument in rule.arguments:
        value = {"locale": "en", "token": secrets.token_urlsafe(32)}.get(argument, "1")
        url = url.replace(f"<int:{argument}>", value).replace(f"<{argument}>", value)
    return url


@pytest.mark.parametrize("username", ["adm.nord", None])
def test_customers_and_visitors_get_no_promoter_page(app, username):
    from app.models.planning import Booking

    client = app.test_client()
    if username:
        login(client, username)
    with db_session(app) as session:
        bookings = session.scalar(select(func.count(Booking.id)).where(Booking.status == "confirmed"))
    checked = 0
    for rule in promoter_rules(app):
        if rule.endpoint in (*OPEN_ENDPOINTS, FEED_ENDPOINT, "promoter.logout"):
            continue
        for method in [m for m in METHODS if m in rule.methods]:
            answer = client.open(_fill(rule), method=method, data={"action": "create"})
            checked += 1
            if username:
                assert answer.status_code == 403, f"{method} {rule.rule}: {answer.status_code}"
            else:
                assert answer.status_code == 302, f"{method} {rule.rule}: {answer.status_code}"
                assert answer.headers["Location"].startswith("/promoter/login"), answer.headers["Location"]
    assert checked > 10
    # The customer's login is not a promoter login either.
    if username:
        page = client.get("/promoter/login")
        assert page.status_code == 200
    with db_session(app) as session:
        assert session.scalar(select(func.count(Booking.id)).where(Booking.status == "confirmed")) == bookings


def test_feed_needs_a_valid_token_for_everybody(app, records):
    for username in ("adm.nord", "promoter01", None):
        client = app.test_client()
        if username:
            login(client, username)
        for token in (secrets.token_urlsafe(32), "x", "../../etc/passwd", "a" * 300):
            assert client.get(f"/promoter/feed/{token}.ics").status_code == 404


AGENCY_PATHS = (
    "/companyview/list/",
    "/contactview/list/",
    "/bookingview/list/",
    "/applicationview/list/",
    "/promoterview/list/",
    "/appointmentview/list/",
    "/users/list/",
    "/visibility/",
    "/proposals/",
)


def test_promoters_get_no_agency_screen_and_no_customer_page(app):
    client = app.test_client()
    login(client, "promoter01")
    for path in AGENCY_PATHS:
        answer = client.get(path)
        assert answer.status_code == 403 or (
            answer.status_code == 302 and "/login" in answer.headers["Location"]
        ), f"{path}: {answer.status_code} {answer.headers.get('Location')}"
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("portal.") or rule.endpoint in (
            "portal.login",
            "portal.logout",
            "portal.language",
            "portal.forgot_password",
            "portal.set_password",
            "portal.feed",  # reached by its secret token only, not by login: checked below
        ):
            continue
        for method in [m for m in METHODS if m in rule.methods]:
            answer = client.open(_fill(rule), method=method)
            assert answer.status_code == 403, f"{method} {rule.rule}: {answer.status_code}"
            checked += 1
    assert checked >= 5
    assert client.get(f"/portal/feed/{secrets.token_urlsafe(32)}.ics").status_code == 404
