"""Each Supertoy contact sees exactly the rows of their territory — in the customer
system's pages and in the REST API — and promoters only by display name.

The expected rows come from plain joins on the tables (tests.visibility_helpers),
never from app.security.visibility.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from app.rules.calendar import week_of
from tests.visibility_helpers import (
    CUSTOMERS,
    NORTH,
    STORES_OF,
    JwtClient,
    Rows,
    api_collect,
    confirmed_names,
    db_session,
    element_text,
    expected_appointments,
    expected_jobs,
    expected_project_ids,
    first_int,
    local_today,
    new_tag,
    session_client,
    table_rows,
    text_of,
    time_span,
)

PER_PAGE = 25
API_RESOURCES = ("project", "location", "job", "appointment")


@pytest.fixture(scope="module")
def clients(app):
    """One logged-in (session cookie) client per customer, shared by the module."""
    return {username: session_client(app, username) for username in CUSTOMERS}


@pytest.fixture(scope="module")
def jwt_clients(app):
    return {username: JwtClient(app, username) for username in CUSTOMERS}


@pytest.fixture(scope="module")
def hidden_bookings(app):
    """A declined and a cancelled booking (promoters with unique names) on an appointment
    of the north that is on this week's start page; removed at the end."""
    from app.models.planning import Appointment, Booking, Job
    from app.models.promoter import Promoter

    rows = Rows(app)
    today = local_today(app)
    monday, sunday = week_of(today)
    with db_session(app) as session:
        candidates = expected_appointments(
            session,
            "adm.nord",
            Appointment.date.between(monday, sunday),
            Appointment.status.in_(("planned", "done", "proposed")),
        )
    assert candidates, "the demo has no appointment in the north this week"
    # Prefer today (then it is in both tables of the start page).
    target = next((a for a in candidates if a.date == today), candidates[0])
    with db_session(app) as session:
        location_id = session.scalar(select(Job.location_id).where(Job.id == target.job_id))
    made = {"appointment": target, "location_id": location_id, "promoters": []}
    for status in ("declined", "cancelled"):
        tag = new_tag("hid")
        promoter = rows.add(
            Promoter,
            first_name=f"Hidden{tag}",
            last_name=f"Status{tag}",
            email=f"{tag}@example.org",
            phone="+49 170 1234567",
            active=True,
        )
        rows.add(Booking, appointment_id=target.id, promoter_id=promoter, status=status)
        made["promoters"].append((status, tag))
    yield made
    rows.cleanup()


def promoter_secrets(app) -> list[tuple[str, str, str | None, str | None]]:
    """(full name, last name, email, phone) of every promoter."""
    from app.models.promoter import Promoter

    with db_session(app) as session:
        return [
            (f"{p.first_name} {p.last_name}", p.last_name, p.email, p.phone)
            for p in session.scalars(select(Promoter))
        ]


def assert_no_promoter_details(app, html: str, promoter_cells: list[str]) -> None:
    """No email, phone or full name anywhere on the page; no last name in a promoter cell."""
    page = text_of(html)
    cells = " | ".join(promoter_cells)
    for full_name, last_name, email, phone in promoter_secrets(app):
        assert full_name not in page, f"full name {full_name!r} shown"
        if email:
            assert email not in html, f"email {email!r} shown"
        if phone:
            assert phone not in page, f"phone {phone!r} shown"
        assert not re.search(rf"(?<!\w){re.escape(last_name)}(?!\w)", cells), f"last name {last_name!r} shown"


# ---------------------------------------------------------------- stores, jobs, projects


@pytest.mark.parametrize("username", CUSTOMERS)
def test_stores_page_lists_exactly_the_territory(app, clients, username):
    with db_session(app) as session:
        jobs = expected_jobs(session, username)
    expected = {(job.store, job.city) for job in jobs}
    assert len(expected) == STORES_OF[username]

    html = clients[username].get("/portal/stores").get_data(as_text=True)
    shown = [(cells[0], cells[3]) for cells in table_rows(html, "stores")]
    assert first_int(element_text(html, "store-count")) == STORES_OF[username]
    assert len(shown) == STORES_OF[username]
    assert set(shown) == expected


@pytest.mark.parametrize("username", CUSTOMERS)
def test_jobs_page_lists_exactly_the_territory(app, clients, username):
    with db_session(app) as session:
        jobs = expected_jobs(session, username)
    html = clients[username].get("/portal/jobs").get_data(as_text=True)
    shown = Counter((cells[0], cells[2], cells[3]) for cells in table_rows(html, "jobs"))
    assert first_int(element_text(html, "job-count")) == len(jobs) == STORES_OF[username]
    assert shown == Counter((job.title, job.store, job.city) for job in jobs)


@pytest.mark.parametrize("username", CUSTOMERS)
def test_projects_page_lists_the_linked_projects(app, clients, username):
    from app.models.planning import Project

    with db_session(app) as session:
        names = set(
            session.scalars(
                select(Project.name).where(Project.id.in_(expected_project_ids(session, username)))
            )
        )
    html = clients[username].get("/portal/projects").get_data(as_text=True)
    shown = set(re.findall(r'<a href="/portal/projects/\d+">(.*?)</a>', html))
    assert shown == names


# ---------------------------------------------------------------- appointment list


@pytest.mark.parametrize("username", CUSTOMERS)
def test_appointment_list_shows_exactly_the_territory(app, clients, username, hidden_bookings):
    """range=all: the count line and every row of every page, in order, with the promoters."""
    with db_session(app) as session:
        expected = expected_appointments(session, username)
        names = confirmed_names(session, [a.id for a in expected])
    stores = {a.store for a in expected}
    assert len(stores) == STORES_OF[username]

    client = clients[username]
    html = client.get("/portal/appointments?range=all").get_data(as_text=True)
    assert first_int(element_text(html, "result-count")) == len(expected)
    pages = max(1, -(-len(expected) // PER_PAGE))
    if pages > 1:
        assert f"1 von {pages}" in text_of(html) or f"1 of {pages}" in text_of(html)

    shown: list[list[str]] = []
    for page in range(1, pages + 1):
        if page > 1:
            html = client.get(f"/portal/appointments?range=all&page={page}").get_data(as_text=True)
        rows = table_rows(html, "appointments")
        assert len(rows) == min(PER_PAGE, len(expected) - (page - 1) * PER_PAGE), f"page {page}"
        shown.extend(rows)
    # A page beyond the last one shows the last page, never other rows.
    beyond = table_rows(
        client.get(f"/portal/appointments?range=all&page={pages + 5}").get_data(as_text=True), "appointments"
    )
    assert beyond == shown[(pages - 1) * PER_PAGE :]

    assert len(shown) == len(expected)
    assert {cells[2] for cells in shown} <= stores
    for cells, appointment in zip(shown, expected, strict=True):
        want = [
            time_span(appointment.start_time, appointment.end_time),
            appointment.store,
            appointment.city,
            ", ".join(names.get(appointment.id, [])) or "–",
        ]
        assert [cells[1], cells[2], cells[3], cells[5]] == want, f"appointment {appointment.id}"


# ---------------------------------------------------------------- start page


@pytest.mark.parametrize("username", CUSTOMERS)
def test_start_page_shows_today_and_this_week_of_the_territory(app, clients, username, hidden_bookings):
    from app.models.planning import Appointment

    today = local_today(app)
    monday, sunday = week_of(today)
    with db_session(app) as session:
        today_expected = expected_appointments(
            session, username, Appointment.date == today, Appointment.status.in_(("planned", "done"))
        )
        week_expected = expected_appointments(
            session,
            username,
            Appointment.date.between(monday, sunday),
            Appointment.status.in_(("planned", "done", "proposed")),
        )
        stores = {job.store for job in expected_jobs(session, username)}
        names = confirmed_names(session, [a.id for a in week_expected])

    html = clients[username].get("/portal/").get_data(as_text=True)
    assert first_int(element_text(html, "count-today")) == len(today_expected)
    assert first_int(element_text(html, "count-week")) == len(week_expected)
    assert first_int(element_text(html, "count-stores")) == STORES_OF[username]

    today_rows = table_rows(html, "today")  # time, store, city, status, promoters
    week_rows = table_rows(html, "week")  # date, time, store, city, status, promoters
    assert len(today_rows) == len(today_expected)
    assert len(week_rows) == len(week_expected)
    assert {cells[1] for cells in today_rows} <= stores
    assert {cells[2] for cells in week_rows} <= stores
    for cells, a in zip(today_rows, today_expected, strict=True):
        promoters = ", ".join(names.get(a.id, [])) or "–"
        assert [cells[0], cells[1], cells[2], cells[4]] == [
            time_span(a.start_time, a.end_time),
            a.store,
            a.city,
            promoters,
        ]
    for cells, a in zip(week_rows, week_expected, strict=True):
        promoters = ", ".join(names.get(a.id, [])) or "–"
        assert [cells[1], cells[2], cells[3], cells[5]] == [
            time_span(a.start_time, a.end_time),
            a.store,
            a.city,
            promoters,
        ]


def test_start_page_in_english(app):
    client = session_client(app, "adm.nord")
    german = client.get("/portal/").get_data(as_text=True)
    assert "Einsätze heute" in german and "Termine diese Woche" in german

    assert client.get("/portal/lang/en").status_code == 302
    html = client.get("/portal/").get_data(as_text=True)
    text = text_of(html)
    assert '<html lang="en">' in html
    for heading in ("Hello Jan", "assignments today", "appointments this week", "Today, ", "This week, "):
        assert heading in text, heading
    for german_word in ("Einsätze heute", "Termine diese Woche", "Hallo ", "Heute, ", "Diese Woche, "):
        assert german_word not in text, german_word
    # The English page lists the same rows.
    assert len(table_rows(html, "week")) == len(table_rows(german, "week"))


# ---------------------------------------------------------------- data minimisation


def test_start_page_shows_promoters_by_display_name_only(app, clients, hidden_bookings):
    html = clients["adm.nord"].get("/portal/").get_data(as_text=True)
    cells = [row[4] for row in table_rows(html, "today")] + [row[5] for row in table_rows(html, "week")]
    assert any(cell != "–" for cell in cells), "no promoter on the start page to check"
    assert_no_promoter_details(app, html, cells)
    for status, tag in hidden_bookings["promoters"]:
        assert tag not in html, f"a {status} promoter is shown on the start page"


def test_appointment_list_shows_promoters_by_display_name_only(app, clients, hidden_bookings):
    target = hidden_bookings["appointment"]
    client = clients["adm.nord"]
    for url in (
        "/portal/appointments",
        "/portal/appointments?range=all&page=2",
        _one_day_url(hidden_bookings),
    ):
        html = client.get(url).get_data(as_text=True)
        assert_no_promoter_details(app, html, [row[5] for row in table_rows(html, "appointments")])
    html = client.get(_one_day_url(hidden_bookings)).get_data(as_text=True)
    rows = table_rows(html, "appointments")
    assert len(rows) == 1 and rows[0][2] == target.store
    for status, tag in hidden_bookings["promoters"]:
        assert tag not in html, f"a {status} promoter is shown in the appointment list"


def _one_day_url(made: dict) -> str:
    day = made["appointment"].date.isoformat()
    return f"/portal/appointments?store={made['location_id']}&range=custom&date_from={day}&date_to={day}"


def test_requested_promoter_is_not_shown_in_the_row_of_the_appointment(app, clients):
    """A seeded requested booking in the north: its promoter is not in that appointment's row."""
    from app.models.crm import Location
    from app.models.planning import Appointment, Booking, Job
    from app.models.promoter import Promoter

    with db_session(app) as session:
        visible = {a.id for a in expected_appointments(session, "adm.nord", order=False)}
        requested = session.execute(
            select(
                Booking.appointment_id,
                Promoter.first_name,
                Promoter.last_name,
                Appointment.date,
                Job.location_id,
            )
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .join(Appointment, Appointment.id == Booking.appointment_id)
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .where(Booking.status == "requested")
            .order_by(Appointment.date, Booking.id)
        ).all()
        requested = [r for r in requested if r.appointment_id in visible]
        confirmed = confirmed_names(session, [r.appointment_id for r in requested])
    assert requested, "the demo has no requested booking in the north"
    # The same promoter may be confirmed elsewhere: check the row of *this* appointment only.
    pick = next(
        r
        for r in requested
        if f"{r.first_name} {r.last_name[:1]}." not in confirmed.get(r.appointment_id, [])
    )
    name = f"{pick.first_name} {pick.last_name[:1]}."
    day = pick.date.isoformat()
    html = (
        clients["adm.nord"]
        .get(f"/portal/appointments?store={pick.location_id}&range=custom&date_from={day}&date_to={day}")
        .get_data(as_text=True)
    )
    rows = table_rows(html, "appointments")
    assert len(rows) == 1, rows
    assert name not in rows[0][5]
    assert rows[0][5] == (", ".join(confirmed.get(pick.appointment_id, [])) or "–")


def test_hidden_booking_promoters_not_in_their_row(app, clients, hidden_bookings):
    """The declined and cancelled promoters of the fixture are not in their appointment's row."""
    target = hidden_bookings["appointment"]
    with db_session(app) as session:
        confirmed = confirmed_names(session, [target.id]).get(target.id, [])
    html = clients["adm.nord"].get(_one_day_url(hidden_bookings)).get_data(as_text=True)
    rows = table_rows(html, "appointments")
    assert len(rows) == 1, rows
    assert rows[0][2] == target.store
    assert rows[0][5] == (", ".join(confirmed) or "–")
    for status, tag in hidden_bookings["promoters"]:
        assert tag not in rows[0][5], status


# ---------------------------------------------------------------- the REST API


@pytest.mark.parametrize("resource", API_RESOURCES)
@pytest.mark.parametrize("username", CUSTOMERS)
def test_api_lists_exactly_the_territory(app, jwt_clients, username, resource):
    with db_session(app) as session:
        jobs = expected_jobs(session, username)
        expected = {
            "project": expected_project_ids(session, username),
            "location": {job.location_id for job in jobs},
            "job": {job.job_id for job in jobs},
            "appointment": {a.id for a in expected_appointments(session, username, order=False)},
        }[resource]
    count, ids = api_collect(jwt_clients[username], resource)
    assert count == len(expected)
    assert len(ids) == len(set(ids)), "an id is listed twice"
    assert set(ids) == expected
    if resource == "location":
        assert count == STORES_OF[username]


def test_api_detail_of_own_and_foreign_rows(app, jwt_clients):
    """GET /api/v1/<resource>/<id>: 200 inside the territory, 404 outside (adm.nord / adm.sued)."""
    with db_session(app) as session:
        north = expected_jobs(session, "adm.nord")[0]
        south = expected_jobs(session, "adm.sued")[0]
        north_appointment = expected_appointments(session, "adm.nord")[0].id
        south_appointment = expected_appointments(session, "adm.sued")[0].id
    for username, own, foreign in (
        ("adm.nord", (north, north_appointment), (south, south_appointment)),
        ("adm.sued", (south, south_appointment), (north, north_appointment)),
    ):
        client = jwt_clients[username]
        for (job, appointment), status in ((own, 200), (foreign, 404)):
            for url in (
                f"/api/v1/location/{job.location_id}",
                f"/api/v1/job/{job.job_id}",
                f"/api/v1/appointment/{appointment}",
            ):
                response = client.get(url)
                assert response.status_code == status, (username, url)
                if status == 404:
                    assert job.store not in response.get_data(as_text=True)


def test_north_sees_the_north_only(app):
    """The demo's shape: 12 northern stores, all with territory ADM Nord."""
    from app.models.crm import Location, Territory

    with db_session(app) as session:
        jobs = expected_jobs(session, "adm.nord")
        territories = set(
            session.scalars(
                select(Territory.name)
                .join(Location, Location.territory_id == Territory.id)
                .where(Location.id.in_([job.location_id for job in jobs]))
            )
        )
    assert territories == {NORTH}
    assert len(jobs) == 12
