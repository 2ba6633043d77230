"""The promoter system (/promoter/ or PROMOTER_HOST), as promoter01.

Pages in German and English, login security, applying and withdrawing,
confirming and declining requests (an overlapping request is refused with the
reason and nothing changes), unavailability, profile, the page for a login
without promoter profile, and the system on its own host.

The expected rows are read with plain SQLAlchemy joins on the tables, not with
:mod:`app.security.visibility`, whose answers the pages are built on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from app import create_app
from tests.conftest import DEMO_PASSWORD, visible_text
from tests.visibility_helpers import Rows, db_session, local_today, new_tag, table_rows

PROMOTER_HOST = "promoter.promoplan.test"
MAIN_HOST = "agentur.promoplan.test"

# ---------------------------------------------------------------- helpers


def promoter_client(app: Flask, username: str = "promoter01", locale: str | None = None) -> FlaskClient:
    client = app.test_client()
    if locale:
        client.get(f"/promoter/lang/{locale}")
    answer = client.post("/promoter/login", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 302, f"promoter login of {username}: {answer.status_code}"
    assert answer.headers["Location"] == "/promoter/", answer.headers["Location"]
    return client


def flashes(html: str) -> list[tuple[str, str]]:
    """(category, text) of the flash messages of a promoter page."""
    return [
        (category, visible_text(text).strip())
        for category, text in re.findall(r'<div class="alert alert-\w+ flash-(\w+)">(.*?)</div>', html, re.S)
    ]


def field_errors(html: str) -> list[str]:
    return [
        unescape(e).strip() for e in re.findall(r'<span class="help-block field-error">(.*?)</span>', html)
    ]


def promoter_id(app: Flask, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter

    with db_session(app) as session:
        return session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == username)
        )


def row(app: Flask, model, pk: int) -> dict | None:
    with db_session(app) as session:
        found = session.execute(select(model.__table__).where(model.__table__.c.id == pk)).mappings().first()
        return dict(found) if found else None


def outbox_ids(app: Flask, kind: str) -> set[int]:
    from app.outbox.models import OutboxMessage

    with db_session(app) as session:
        return set(session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == kind)))


def delete_outbox(app: Flask, ids: set[int]) -> None:
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    if ids:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(delete(OutboxMessage.__table__).where(OutboxMessage.__table__.c.id.in_(ids)))


def free_day(app: Flask, offset: int) -> dt.date:
    """A day far beyond the demo's bookings (no conflicts with them), different per offset."""
    return local_today(app) + dt.timedelta(days=400 + offset)


def demo_project_id(app: Flask) -> int:
    from app.models.planning import Project
    from tests.visibility_helpers import PROJECT_NAME

    with db_session(app) as session:
        return session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))


def add_store(rows: Rows, tag: str, project_id: int, status: str = "staffed") -> dict[str, int]:
    """A tagged store with its job (staffed: not offered to promoters)."""
    from app.models.crm import Location
    from app.models.planning import Job

    location = rows.add(
        Location,
        name=f"Testmarkt {tag}",
        street=f"Teststraße {tag[-4:]}",
        postcode="20095",
        city="Hamburg",
        federal_state="HH",
    )
    job = rows.add(
        Job, project_id=project_id, location_id=location, title=f"Promotion Testmarkt {tag}", status=status
    )
    return {"location": location, "job": job}


def add_booking(
    rows: Rows,
    job_id: int,
    promoter: int,
    day: dt.date,
    start: dt.time,
    end: dt.time,
    status: str = "requested",
) -> dict[str, int]:
    from app.models.planning import Appointment, Booking

    appointment = rows.add(
        Appointment,
        job_id=job_id,
        date=day,
        start_time=start,
        end_time=end,
        status="planned",
        origin="agency",
        version=1,
    )
    booking = rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status=status)
    return {"appointment": appointment, "booking": booking}


@pytest.fixture()
def rows(app) -> Iterator[Rows]:
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


# ---------------------------------------------------------------- pages in both languages

PAGES = {
    "/promoter/": ("Anfragen zum Bestätigen", "Requests to confirm"),
    "/promoter/requests": ("Anfragen", "Requests"),
    "/promoter/schedule": ("Mein Einsatzplan", "My schedule"),
    "/promoter/schedule?period=past": ("Vergangene", "Past"),
    "/promoter/jobs": ("Offene Jobs", "Open jobs"),
    "/promoter/unavailability": ("Tage, an denen ich nicht verfügbar bin", "Days I am unavailable"),
    "/promoter/profile": ("Mein Profil", "My profile"),
    "/promoter/calendar": ("Kalender-Abo", "Calendar subscription"),
}


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_in_german_and_english(app, path, locale):
    client = promoter_client(app, locale=locale)
    answer = client.get(path)
    assert answer.status_code == 200
    text = visible_text(answer.get_data(as_text=True))
    german, english = PAGES[path]
    assert (german if locale == "de" else english) in text
    assert ("Promotersystem" if locale == "de" else "Promoter system") in text
    if locale == "de":
        for english_word in ("Log out", "Requests to confirm", "My schedule", "Calendar subscription"):
            assert english_word not in text, f"{english_word!r} untranslated on {path}"


def test_german_is_the_default_and_english_can_be_chosen(app):
    client = promoter_client(app)
    assert "Abmelden" in visible_text(client.get("/promoter/").get_data(as_text=True))
    answer = client.get("/promoter/lang/en", headers={"Referer": "http://localhost/promoter/jobs"})
    assert answer.headers["Location"] == "/promoter/jobs"
    assert "Open jobs" in visible_text(client.get("/promoter/jobs").get_data(as_text=True))


def _expected_bookings(app, username: str, status: str, since: dt.date) -> list[tuple]:
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Location
    from app.models.planning import Appointment, Booking, Job
    from app.models.promoter import Promoter

    with db_session(app) as session:
        return list(
            session.execute(
                select(Appointment.date, Appointment.start_time, Appointment.end_time, Location.name)
                .select_from(Booking)
                .join(Appointment, Appointment.id == Booking.appointment_id)
                .join(Job, Job.id == Appointment.job_id)
                .join(Location, Location.id == Job.location_id)
                .join(Promoter, Promoter.id == Booking.promoter_id)
                .join(User, User.id == Promoter.user_id)
                .where(User.username == username, Booking.status == status, Appointment.date >= since)
                .where(Appointment.status.in_(("planned", "done")))
                .order_by(Appointment.date, Appointment.start_time, Location.name)
            )
        )


def test_start_page_shows_the_open_requests_and_the_next_confirmed_days(app):
    today = local_today(app)
    requested = _expected_bookings(app, "promoter01", "requested", today)
    confirmed = _expected_bookings(app, "promoter01", "confirmed", today)[:10]
    assert requested and confirmed, "the demo gives promoter01 requested and confirmed coming days"
    html = promoter_client(app).get("/promoter/").get_data(as_text=True)
    request_rows = table_rows(html, "requests")  # column 0: the checkbox for confirming several
    assert [(r[2], r[3]) for r in request_rows] == [
        (f"{s:%H:%M}–{e:%H:%M}", store) for _day, s, e, store in requested
    ]
    upcoming = table_rows(html, "upcoming")
    assert [(r[1], r[2]) for r in upcoming] == [
        (f"{s:%H:%M}–{e:%H:%M}", store) for _d, s, e, store in confirmed
    ]
    assert "Bestätigen" in visible_text(html) and "Ablehnen" in visible_text(html)


def _schedule_rows(html: str) -> list[tuple]:
    tables = re.findall(r'<table[^>]*id="(schedule-\d{4}-\d{2})"', html)
    assert len(tables) == len(set(tables)), "one table per month"
    return [tuple(r[:3]) for table in tables for r in table_rows(html, table)], tables


def _as_rows(bookings) -> list[tuple]:
    return [(d, f"{s:%H:%M}–{e:%H:%M}", store) for d, s, e, store in bookings]


def _matches(shown: list[tuple], expected: list[tuple]) -> bool:
    return len(shown) == len(expected) and all(
        f"{d:%d.%m.%Y}" in cell and (time, store) == (t, st)
        for (cell, t, st), (d, time, store) in zip(shown, expected, strict=True)
    )


def test_schedule_lists_the_confirmed_days_by_month(app):
    today = local_today(app)
    everything = _as_rows(_expected_bookings(app, "promoter01", "confirmed", dt.date(1970, 1, 1)))
    coming = [r for r in everything if r[0] >= today]
    past = sorted((r for r in everything if r[0] < today), key=lambda r: (r[0], r[1]), reverse=True)
    assert coming and past
    client = promoter_client(app)

    html = client.get("/promoter/schedule").get_data(as_text=True)
    shown, tables = _schedule_rows(html)
    assert _matches(shown, coming[:40])
    assert tables == sorted(tables)
    assert tables[0] == f"schedule-{coming[0][0]:%Y-%m}"
    assert f"{len(coming)} bestätigte Termine" in visible_text(html)

    html = client.get("/promoter/schedule?period=past").get_data(as_text=True)
    shown, tables = _schedule_rows(html)
    assert _matches(shown, past[:40])
    assert tables == sorted(tables, reverse=True)
    if len(past) > 40:
        assert "Seite 1 von" in visible_text(html)
        html = client.get("/promoter/schedule?period=past&page=2").get_data(as_text=True)
        assert _matches(_schedule_rows(html)[0], past[40:80])
    assert client.get("/promoter/schedule?page=x").status_code == 200
    assert client.get("/promoter/schedule?page=-5").status_code == 200


# ---------------------------------------------------------------- login


def test_login_only_for_promoters(app):
    for username, system in (
        ("adm.nord", "Kundensystem"),
        ("agentur", "Agentursystem"),
        ("admin", "Agentursystem"),
    ):
        client = app.test_client()
        answer = client.post("/promoter/login", data={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200
        assert f"Dieses Konto gehört zum {system}." in visible_text(answer.get_data(as_text=True))
        assert client.get("/promoter/").headers["Location"].startswith("/promoter/login")
    client = app.test_client()
    wrong = client.post("/promoter/login", data={"username": "promoter01", "password": "wrong"})
    assert "Unbekannter Benutzername oder falsches Passwort." in visible_text(wrong.get_data(as_text=True))


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/promoter/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/portal/",
    ],
)
def test_login_never_redirects_out_of_the_promoter_system(app, target):
    answer = app.test_client().post(
        "/promoter/login",
        query_string={"next": target},
        data={"username": "promoter01", "password": DEMO_PASSWORD},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/promoter/"


def test_login_returns_to_the_page_asked_for(app):
    client = app.test_client()
    first = client.get("/promoter/jobs")
    assert first.status_code == 302
    assert first.headers["Location"] == "/promoter/login?next=/promoter/jobs"
    answer = client.post(
        first.headers["Location"], data={"username": "promoter01", "password": DEMO_PASSWORD}
    )
    assert answer.headers["Location"] == "/promoter/jobs"


def test_language_chosen_before_login_stays_and_logout_is_a_post(app):
    client = promoter_client(app, locale="en")
    assert "Requests to confirm" in visible_text(client.get("/promoter/").get_data(as_text=True))
    assert client.get("/promoter/logout").status_code == 405
    answer = client.post("/promoter/logout")
    assert answer.headers["Location"] == "/promoter/login"
    assert client.get("/promoter/").status_code == 302
    assert "Log in" in visible_text(client.get("/promoter/login").get_data(as_text=True))


def test_login_page_is_not_cached(client):
    answer = client.get("/promoter/login")
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def _second_app(database_url, **config):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **config,
        }
    )


def test_login_is_rate_limited(app, database_url):
    strict = _second_app(
        database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        AUTH_RATE_LIMITED=True,
        AUTH_RATE_LIMIT="3 per minute",
    )
    client = strict.test_client()
    answers = [
        client.post("/promoter/login", data={"username": "promoter01", "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert 429 not in answers[:3]
    assert answers[3] == 429
    page = client.post("/promoter/login", data={"username": "promoter01", "password": DEMO_PASSWORD})
    assert page.status_code == 429
    assert "Zu viele Anmeldeversuche" in visible_text(page.get_data(as_text=True))


def test_forms_require_a_csrf_token(app, database_url):
    strict = _second_app(database_url, WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    answer = client.post("/promoter/login", data={"username": "promoter01", "password": DEMO_PASSWORD})
    assert answer.status_code == 400
    assert "Formular ist abgelaufen" in visible_text(answer.get_data(as_text=True))
    assert client.get("/promoter/").status_code == 302
    # With the token from the page the login works, and a button without one is refused.
    page = client.get("/promoter/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/promoter/login", data={"username": "promoter01", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302
    assert client.post("/promoter/calendar", data={"action": "create"}).status_code == 400


def test_promoter_logging_into_the_agency_system_is_told_where_the_account_belongs(app):
    client = app.test_client()
    answer = client.post("/login/", data={"username": "promoter01", "password": DEMO_PASSWORD})
    assert "Dieses Konto gehört zum Promotersystem." in visible_text(answer.get_data(as_text=True))
    assert 'href="/promoter/login"' in answer.get_data(as_text=True)
    # The start page of a logged-in promoter still leads to the promoter system.
    client.post("/promoter/login", data={"username": "promoter01", "password": DEMO_PASSWORD})
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/promoter/"


# ---------------------------------------------------------------- a login without promoter


@pytest.fixture()
def lone_user(app):
    """A login with role Promoter whose promoter is inactive (and later: none at all)."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.promoter import Promoter
    from app.security.roles import PROMOTER

    tag = new_tag("lone")
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            tag, "Lone", "User", f"{tag}@example.org", sm.find_role(PROMOTER), password=DEMO_PASSWORD
        )
        promoter = Promoter(first_name="Lone", last_name=tag, user_id=user.id, active=False)
        db.session.add(promoter)
        db.session.commit()
        ids = user.id, promoter.id
    yield tag, ids[1]
    with app.app_context():
        db.session.execute(delete(Promoter).where(Promoter.id == ids[1]))
        user = db.session.get(User, ids[0])
        user.roles = []
        db.session.delete(user)
        db.session.commit()


def test_a_login_without_active_promoter_gets_a_clear_page(app, lone_user):
    from app.extensions import db
    from app.models.promoter import Promoter

    username, pk = lone_user
    client = promoter_client(app, username)
    for path in ("/promoter/", "/promoter/jobs", "/promoter/calendar"):
        answer = client.get(path)
        assert answer.status_code == 403
        text = visible_text(answer.get_data(as_text=True))
        assert "Kein Promoter-Profil" in text
        assert "mit keinem aktiven Promoter-Profil verknüpft" in text
    with app.app_context():
        db.session.execute(delete(Promoter).where(Promoter.id == pk))
        db.session.commit()
    answer = client.get("/promoter/")
    assert answer.status_code == 403
    assert "Kein Promoter-Profil" in visible_text(answer.get_data(as_text=True))


# ---------------------------------------------------------------- jobs: apply and withdraw


def _job_without_application(app, promoter: int) -> tuple[int, str]:
    from app.models.planning import Application, Job

    with db_session(app) as session:
        applied = select(Application.job_id).where(Application.promoter_id == promoter)
        job = session.execute(
            select(Job.id, Job.title).where(Job.status == "open", Job.id.not_in(applied)).order_by(Job.id)
        ).first()
        return job.id, job.title


def test_apply_and_withdraw(app):
    from app.models.planning import Application

    me = promoter_id(app, "promoter01")
    job_id, title = _job_without_application(app, me)
    mails_before = outbox_ids(app, "application_withdrawn")
    client = promoter_client(app)
    page = client.get("/promoter/jobs").get_data(as_text=True)
    assert f'action="/promoter/jobs/{job_id}/apply"' in page
    application_id = None
    try:
        html = client.post(f"/promoter/jobs/{job_id}/apply", follow_redirects=True).get_data(as_text=True)
        assert ("success", f"Sie haben sich auf {title} beworben.") in flashes(html)
        with db_session(app) as session:
            application = session.scalar(
                select(Application).where(Application.promoter_id == me, Application.job_id == job_id)
            )
            application_id, status = application.id, application.status
        assert status == "applied"
        assert f'action="/promoter/applications/{application_id}/withdraw"' in html
        assert [r[3] for r in table_rows(html, "applications") if r[0] == title] == ["Beworben"]

        again = client.post(f"/promoter/jobs/{job_id}/apply", follow_redirects=True).get_data(as_text=True)
        assert ("danger", "Sie haben sich bereits auf diesen Job beworben.") in flashes(again)

        html = client.post(
            f"/promoter/applications/{application_id}/withdraw", follow_redirects=True
        ).get_data(as_text=True)
        assert ("success", f"Sie haben Ihre Bewerbung auf {title} zurückgezogen.") in flashes(html)
        assert row(app, Application, application_id)["status"] == "withdrawn"
        new_mails = outbox_ids(app, "application_withdrawn") - mails_before
        assert len(new_mails) >= 1, "the agency is told by mail"

        client.get("/promoter/lang/en")
        html = client.post(
            f"/promoter/applications/{application_id}/withdraw", follow_redirects=True
        ).get_data(as_text=True)
        assert ("danger", "This application cannot be withdrawn.") in flashes(html)
        assert outbox_ids(app, "application_withdrawn") - mails_before == new_mails

        html = client.post(f"/promoter/jobs/{job_id}/apply", follow_redirects=True).get_data(as_text=True)
        assert ("success", f"You have applied for {title}.") in flashes(html)
        assert row(app, Application, application_id)["status"] == "applied"
    finally:
        delete_outbox(app, outbox_ids(app, "application_withdrawn") - mails_before)
        if application_id is not None:
            tracker = Rows(app)
            tracker.adopt(Application, application_id)
            tracker.cleanup()


def test_only_open_jobs_are_offered(app, rows):
    from app.models.planning import Application

    tag = new_tag("shut")
    store = add_store(rows, tag, demo_project_id(app), status="staffed")
    client = promoter_client(app)
    assert tag not in client.get("/promoter/jobs").get_data(as_text=True)
    assert client.post(f"/promoter/jobs/{store['job']}/apply").status_code == 404
    with db_session(app) as session:
        assert not session.scalar(
            select(func.count(Application.id)).where(Application.job_id == store["job"])
        )


def test_open_jobs_come_in_pages(app, rows):
    """An agency has thousands of jobs open at once: the list shows 30 at a time, by city and
    store, with the city filter kept from page to page."""
    from app.models.crm import Location
    from app.models.planning import Job

    tag = new_tag("page")
    city = f"Seitenstadt {tag}"
    project = demo_project_id(app)
    jobs = []
    for n in range(35):
        location = rows.add(
            Location,
            name=f"Markt {n:02d} {tag}",
            street="Weg 1",
            postcode="20095",
            city=city,
            federal_state="HH",
        )
        jobs.append(
            rows.add(Job, project_id=project, location_id=location, title=f"Job {n:02d} {tag}", status="open")
        )
    client = promoter_client(app, locale="de")
    first = client.get("/promoter/jobs", query_string={"city": city}).get_data(as_text=True)
    shown = [int(pk) for pk in re.findall(r'<tr id="job-(\d+)">', first)]
    assert shown == jobs[:30]
    assert "Seite 1 von 2" in first
    link = unescape(re.search(r'<li class="next"><a href="([^"]+)"', first).group(1))
    second = client.get(link).get_data(as_text=True)
    assert [int(pk) for pk in re.findall(r'<tr id="job-(\d+)">', second)] == jobs[30:]
    assert client.get("/promoter/jobs?page=abc").status_code == 200


# ---------------------------------------------------------------- requests: confirm and decline


@pytest.fixture()
def overlapping(app, rows):
    """Two overlapping requests of promoter01 on one future day at two stores."""
    me = promoter_id(app, "promoter01")
    project = demo_project_id(app)
    day = free_day(app, 1)
    a = add_store(rows, new_tag("ova"), project)
    b = add_store(rows, new_tag("ovb"), project)
    first = add_booking(rows, a["job"], me, day, dt.time(10), dt.time(16))
    second = add_booking(rows, b["job"], me, day, dt.time(14), dt.time(20))
    return {"day": day, "a": {**a, **first}, "b": {**b, **second}, "promoter": me}


def _store_name(app, location_id: int) -> str:
    from app.models.crm import Location

    return row(app, Location, location_id)["name"]


def test_requests_show_their_conflicts(app, overlapping):
    html = promoter_client(app).get("/promoter/requests").get_data(as_text=True)
    a, b = overlapping["a"], overlapping["b"]
    first = visible_text(re.search(rf'<tr id="request-{a["booking"]}">(.*?)</tr>', html, re.S).group(1))
    second = visible_text(re.search(rf'<tr id="request-{b["booking"]}">(.*?)</tr>', html, re.S).group(1))
    assert (
        f"Überschneidet sich mit einer angefragten Buchung in {_store_name(app, b['location'])}, 14:00–20:00"
        in first
    )
    assert (
        f"Überschneidet sich mit einer angefragten Buchung in {_store_name(app, a['location'])}, 10:00–16:00"
        in second
    )


def test_confirming_an_overlapping_request_is_refused_with_the_reason(app, overlapping):
    from app.models.planning import Booking

    a, b = overlapping["a"], overlapping["b"]
    store_a = _store_name(app, a["location"])
    client = promoter_client(app)
    html = client.post(
        f"/promoter/requests/{a['booking']}/confirm", data={"next": "/promoter/"}, follow_redirects=True
    ).get_data(as_text=True)
    day = overlapping["day"].strftime("%d.%m.%Y")
    assert ("success", f"Bestätigt: {store_a} am {day}, 10:00–16:00.") in flashes(html)
    assert row(app, Booking, a["booking"])["status"] == "confirmed"
    before = row(app, Booking, b["booking"])

    html = client.post(f"/promoter/requests/{b['booking']}/confirm", follow_redirects=True).get_data(
        as_text=True
    )
    refusal = [text for category, text in flashes(html) if category == "danger"]
    assert refusal == [
        "Bestätigen nicht möglich: Überschneidet sich mit einer bestätigten Buchung"
        f" in {store_a}, 10:00–16:00"
    ]
    assert row(app, Booking, b["booking"]) == before
    assert row(app, Booking, a["booking"])["status"] == "confirmed"
    # The request stays listed, now with a blocking conflict.
    row_html = re.search(rf'<tr id="request-{b["booking"]}">(.*?)</tr>', html, re.S).group(1)
    assert "text-danger" in row_html

    client.get("/promoter/lang/en")
    html = client.post(f"/promoter/requests/{b['booking']}/confirm", follow_redirects=True).get_data(
        as_text=True
    )
    assert [t for c, t in flashes(html) if c == "danger"] == [
        f"Cannot confirm: Overlaps with a confirmed booking at {store_a}, 10:00–16:00"
    ]
    assert row(app, Booking, b["booking"]) == before


def test_decline_tells_the_agency(app, overlapping):
    from app.models.planning import Booking

    b = overlapping["b"]
    before = outbox_ids(app, "booking_declined")
    client = promoter_client(app)
    try:
        asked = client.get(f"/promoter/requests/{b['booking']}/decline")
        assert asked.status_code == 200 and 'id="reason"' in asked.get_data(as_text=True)
        assert row(app, Booking, b["booking"])["status"] == "requested"  # nothing happens without the reason
        no_reason = client.post(f"/promoter/requests/{b['booking']}/decline", data={"reason": "  "})
        assert no_reason.status_code == 400
        assert row(app, Booking, b["booking"])["status"] == "requested"
        html = client.post(
            f"/promoter/requests/{b['booking']}/decline", data={"reason": "Krank"}, follow_redirects=True
        ).get_data(as_text=True)
        day = overlapping["day"].strftime("%d.%m.%Y")
        assert ("success", f"Abgelehnt: {_store_name(app, b['location'])} am {day}, 14:00–20:00.") in flashes(
            html
        )
        assert row(app, Booking, b["booking"])["status"] == "declined"
        assert f'id="request-{b["booking"]}"' not in html
        mails = outbox_ids(app, "booking_declined") - before
        assert len(mails) >= 1
        again = client.post(
            f"/promoter/requests/{b['booking']}/decline", data={"reason": "Krank"}, follow_redirects=True
        )
        assert ("danger", "Diese Anfrage ist nicht mehr offen.") in flashes(again.get_data(as_text=True))
        assert outbox_ids(app, "booking_declined") - before == mails
        # A declined request cannot be confirmed any more.
        refused = client.post(f"/promoter/requests/{b['booking']}/confirm", follow_redirects=True)
        assert ("danger", "Diese Anfrage ist nicht mehr offen.") in flashes(refused.get_data(as_text=True))
        assert row(app, Booking, b["booking"])["status"] == "declined"
    finally:
        delete_outbox(app, outbox_ids(app, "booking_declined") - before)


def test_confirming_on_an_unavailable_day_is_refused(app, overlapping, rows):
    from app.models.planning import Booking
    from app.models.promoter import Unavailability

    rows.add(
        Unavailability,
        promoter_id=overlapping["promoter"],
        start_date=overlapping["day"],
        end_date=overlapping["day"],
        note="Urlaub",
    )
    a = overlapping["a"]
    html = (
        promoter_client(app)
        .post(f"/promoter/requests/{a['booking']}/confirm", follow_redirects=True)
        .get_data(as_text=True)
    )
    [refusal] = [t for c, t in flashes(html) if c == "danger"]
    assert refusal.startswith("Bestätigen nicht möglich: An diesem Tag nicht verfügbar")
    assert row(app, Booking, a["booking"])["status"] == "requested"


# ---------------------------------------------------------------- unavailability


def _own_periods(app, promoter: int) -> list[tuple]:
    from app.models.promoter import Unavailability

    with db_session(app) as session:
        return list(
            session.execute(
                select(
                    Unavailability.id, Unavailability.start_date, Unavailability.end_date, Unavailability.note
                )
                .where(Unavailability.promoter_id == promoter)
                .order_by(Unavailability.id)
            )
        )


def test_unavailability_add_list_and_delete(app, rows):
    from app.models.promoter import Unavailability

    me = promoter_id(app, "promoter01")
    before = _own_periods(app, me)
    start = free_day(app, 10)
    end = start + dt.timedelta(days=2)
    client = promoter_client(app)
    html = client.post(
        "/promoter/unavailability",
        data={"start_date": start.isoformat(), "end_date": end.isoformat(), "note": "Urlaub an der Ostsee"},
        follow_redirects=True,
    ).get_data(as_text=True)
    after = _own_periods(app, me)
    [added] = [p for p in after if p not in before]
    rows.adopt(Unavailability, added.id)
    assert (added.start_date, added.end_date, added.note) == (start, end, "Urlaub an der Ostsee")
    message = f"Sie sind vom {start:%d.%m.%Y} bis {end:%d.%m.%Y} als nicht verfügbar eingetragen."
    assert ("success", message) in flashes(html)
    listed = table_rows(html, "periods")
    assert [f"vom {start:%d.%m.%Y} bis {end:%d.%m.%Y}", "Urlaub an der Ostsee"] in [r[:2] for r in listed]

    html = client.post(f"/promoter/unavailability/{added.id}/delete", follow_redirects=True).get_data(
        as_text=True
    )
    assert ("success", f"Der Zeitraum vom {start:%d.%m.%Y} bis {end:%d.%m.%Y} wurde gelöscht.") in flashes(
        html
    )
    assert _own_periods(app, me) == before
    assert client.post(f"/promoter/unavailability/{added.id}/delete").status_code == 404


def test_unavailability_warns_about_confirmed_bookings_in_the_period(app, rows):
    from app.models.promoter import Unavailability

    me = promoter_id(app, "promoter01")
    day = free_day(app, 11)
    store = add_store(rows, new_tag("una"), demo_project_id(app))
    add_booking(rows, store["job"], me, day, dt.time(10), dt.time(18), status="confirmed")
    before = _own_periods(app, me)
    html = (
        promoter_client(app)
        .post(
            "/promoter/unavailability",
            data={"start_date": day.isoformat(), "end_date": day.isoformat()},
            follow_redirects=True,
        )
        .get_data(as_text=True)
    )
    for period in _own_periods(app, me):
        if period not in before:
            rows.adopt(Unavailability, period.id)
    assert (
        "warning",
        "Sie haben in diesem Zeitraum 1 bestätigte Buchung. Bitte sagen Sie der Agentur Bescheid,"
        " falls Sie den Termin nicht wahrnehmen können.",
    ) in flashes(html)


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (5, 3, "Das Ende des Zeitraums liegt vor seinem Beginn."),
        (-1, 2, "Der Zeitraum kann nicht in der Vergangenheit beginnen."),
        (None, 2, "Dieses Feld wird benötigt."),
        ("kein Datum", 2, "Kein gültiges Datum."),
    ],
)
def test_unavailability_validation(app, start, end, error):
    me = promoter_id(app, "promoter01")
    before = _own_periods(app, me)
    today = local_today(app)

    def value(v):
        if v is None:
            return ""
        return v if isinstance(v, str) else (today + dt.timedelta(days=v)).isoformat()

    answer = promoter_client(app).post(
        "/promoter/unavailability", data={"start_date": value(start), "end_date": value(end)}
    )
    assert answer.status_code == 400
    assert error in field_errors(answer.get_data(as_text=True))
    assert _own_periods(app, me) == before


# ---------------------------------------------------------------- profile


@pytest.fixture()
def own_profile(app):
    from app.models.promoter import Promoter

    me = promoter_id(app, "promoter01")
    before = row(app, Promoter, me)
    yield me, before
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            Promoter.__table__.update()
            .where(Promoter.__table__.c.id == me)
            .values(email=before["email"], phone=before["phone"], city=before["city"])
        )


def test_profile_shows_and_saves_own_data(app, own_profile):
    from app.models.promoter import Promoter

    me, before = own_profile
    client = promoter_client(app)
    html = client.get("/promoter/profile").get_data(as_text=True)
    assert f'value="{before["email"]}"' in html
    assert f"{before['first_name']} {before['last_name']}" in visible_text(html)
    html = client.post(
        "/promoter/profile",
        data={"email": "  Neue.Adresse@Example.ORG ", "phone": "+49 40 1234567", "city": "Lübeck"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert ("success", "Ihr Profil wurde gespeichert.") in flashes(html)
    saved = row(app, Promoter, me)
    assert (saved["email"], saved["phone"], saved["city"]) == (
        "neue.adresse@example.org",
        "+49 40 1234567",
        "Lübeck",
    )
    assert {k: v for k, v in saved.items() if k not in ("email", "phone", "city")} == {
        k: v for k, v in before.items() if k not in ("email", "phone", "city")
    }


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("keine-adresse", "Ungültige E-Mail-Adresse."),
        ("", "Dieses Feld wird benötigt."),
        ("PROMOTER02", "Diese E-Mail-Adresse wird bereits von einem anderen Promoter verwendet."),
    ],
)
def test_profile_validation(app, own_profile, email, error):
    from app.models.promoter import Promoter

    me, before = own_profile
    if email == "PROMOTER02":
        email = row(app, Promoter, promoter_id(app, "promoter02"))["email"].upper()
    answer = promoter_client(app).post(
        "/promoter/profile", data={"email": email, "phone": "040 1234567", "city": "X"}
    )
    assert answer.status_code == 400
    assert error in field_errors(answer.get_data(as_text=True))
    assert row(app, Promoter, me) == before


def test_profile_never_shows_another_promoter(app, own_profile):
    from app.models.promoter import Promoter

    other = row(app, Promoter, promoter_id(app, "promoter02"))
    client = promoter_client(app)
    answer = client.post("/promoter/profile", data={"email": other["email"], "phone": "1", "city": "Y"})
    text = visible_text(answer.get_data(as_text=True))
    assert other["last_name"] not in text and (other["phone"] or "§") not in text
    # Forged ids in the form are ignored: only the own row is ever written.
    client.post(
        "/promoter/profile",
        data={
            "email": "forged@example.org",
            "phone": "1",
            "city": "Y",
            "id": other["id"],
            "promoter_id": other["id"],
        },
    )
    assert row(app, Promoter, other["id"]) == other


# ---------------------------------------------------------------- the calendar page


def test_calendar_page_creates_renews_and_revokes_the_link(app):
    from app.models.promoter import Promoter

    me = promoter_id(app, "promoter01")
    client = promoter_client(app)
    try:
        html = client.get("/promoter/calendar").get_data(as_text=True)
        assert "Sie haben zurzeit keinen Kalender-Link." in visible_text(html) or 'id="feed-link"' in html
        client.post("/promoter/calendar", data={"action": "revoke"})
        html = client.post("/promoter/calendar", data={"action": "create"}, follow_redirects=True).get_data(
            as_text=True
        )
        assert ("success", "Ihr Kalender-Link wurde erstellt.") in flashes(html)
        token = row(app, Promoter, me)["feed_token"]
        assert token and len(token) >= 43
        link = re.search(r'id="feed-link" value="([^"]+)"', html).group(1)
        with app.app_context():
            assert link == f"{app.config['BASE_URL']}/promoter/feed/{token}.ics"
        html = client.post("/promoter/calendar", data={"action": "create"}, follow_redirects=True).get_data(
            as_text=True
        )
        assert ("success", "Ihr Kalender-Link besteht bereits.") in flashes(html)
        assert row(app, Promoter, me)["feed_token"] == token
        html = client.post("/promoter/calendar", data={"action": "renew"}, follow_redirects=True).get_data(
            as_text=True
        )
        assert (
            "success",
            "Ein neuer Kalender-Link wurde erstellt; der alte funktioniert nicht mehr.",
        ) in flashes(html)
        renewed = row(app, Promoter, me)["feed_token"]
        assert renewed and renewed != token
        html = client.post("/promoter/calendar", data={"action": "revoke"}, follow_redirects=True).get_data(
            as_text=True
        )
        assert row(app, Promoter, me)["feed_token"] is None
        assert "Sie haben zurzeit keinen Kalender-Link." in visible_text(html)
        assert client.post("/promoter/calendar", data={"action": "steal"}).status_code == 400
    finally:
        client.post("/promoter/calendar", data={"action": "revoke"})


# ---------------------------------------------------------------- PROMOTER_HOST


@pytest.fixture()
def hosted_app(app, database_url):
    return _second_app(database_url, PROMOTER_HOST=PROMOTER_HOST)


def test_promoter_host_serves_the_promoter_system_at_its_root(hosted_app):
    client = hosted_app.test_client()
    answer = client.get("/", headers={"Host": PROMOTER_HOST})
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/promoter/login")
    login = client.post(
        "/login", headers={"Host": PROMOTER_HOST}, data={"username": "promoter01", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 302
    start = client.get("/", headers={"Host": PROMOTER_HOST})
    assert start.status_code == 200
    assert "Anfragen zum Bestätigen" in visible_text(start.get_data(as_text=True))
    jobs = client.get("/jobs", headers={"Host": PROMOTER_HOST})
    assert jobs.status_code == 200 and "Offene Jobs" in visible_text(jobs.get_data(as_text=True))
    back = client.get("/lang/en", headers={"Host": PROMOTER_HOST, "Referer": f"http://{PROMOTER_HOST}/jobs"})
    assert back.headers["Location"] == "/promoter/jobs"


def test_feed_link_uses_the_promoter_host(hosted_app):
    client = hosted_app.test_client()
    client.post(
        "/login", headers={"Host": PROMOTER_HOST}, data={"username": "promoter01", "password": DEMO_PASSWORD}
    )
    try:
        html = client.post(
            "/calendar", headers={"Host": PROMOTER_HOST}, data={"action": "create"}, follow_redirects=True
        ).get_data(as_text=True)
        link = re.search(r'id="feed-link" value="([^"]+)"', html).group(1)
        assert link.startswith(f"https://{PROMOTER_HOST}/promoter/feed/") and link.endswith(".ics")
        path = link.split(PROMOTER_HOST, 1)[1]
        feed = hosted_app.test_client().get(path, headers={"Host": PROMOTER_HOST})
        assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    finally:
        client.post("/calendar", headers={"Host": PROMOTER_HOST}, data={"action": "revoke"})


@pytest.mark.parametrize(
    "path",
    [
        "/companyview/list/",
        "/bookingview/list/",
        "/promoterview/list/",
        "/users/list/",
        "/portal/",
        "/api/v1/job/",
    ],
)
def test_agency_and_customer_routes_are_not_served_on_the_promoter_host(hosted_app, path):
    client = hosted_app.test_client()
    client.post(
        "/login", headers={"Host": PROMOTER_HOST}, data={"username": "agentur", "password": DEMO_PASSWORD}
    )
    assert client.get(path, headers={"Host": PROMOTER_HOST}).status_code == 404


def test_promoter_system_on_the_main_host_moves_to_the_promoter_host(hosted_app):
    answer = hosted_app.test_client().get("/promoter/jobs?x=1", headers={"Host": MAIN_HOST})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"http://{PROMOTER_HOST}/promoter/jobs?x=1"


def test_promoter_logging_into_the_agency_system_is_pointed_to_the_promoter_host(hosted_app):
    client = hosted_app.test_client()
    answer = client.post(
        "/login/", headers={"Host": MAIN_HOST}, data={"username": "promoter01", "password": DEMO_PASSWORD}
    )
    assert f'href="http://{PROMOTER_HOST}/promoter/login"' in answer.get_data(as_text=True)
    assert "/login" in client.get("/projectview/list/", headers={"Host": MAIN_HOST}).headers["Location"]


def test_count_of_requests_matches(app):
    """The number in the heading is the number of rows (both from the same query)."""
    from app.models.planning import Appointment, Booking

    me = promoter_id(app, "promoter01")
    html = promoter_client(app).get("/promoter/requests").get_data(as_text=True)
    count = int(re.search(r'id="request-count">(\d+)<', html).group(1))
    assert count == len(table_rows(html, "requests"))
    with db_session(app) as session:
        expected = session.scalar(
            select(func.count(Booking.id))
            .join(Appointment, Appointment.id == Booking.appointment_id)
            .where(
                Booking.promoter_id == me,
                Booking.status == "requested",
                Appointment.status == "planned",
                Appointment.date >= local_today(app),
            )
        )
    assert count == expected
