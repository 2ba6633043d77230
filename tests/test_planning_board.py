"""The planning board: its counts equal the database's, in the project overview
(30 stores × 26 weeks of the demo) and in a job's week and month; the new planning
pages answer the agency in German and English and refuse customers and promoters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from tests.helpers import Rows, client_for, db_session
from tests.planning_helpers import (
    AGENCY_USERS,
    INTRUDERS,
    LOCALES,
    add_promoter,
    adopt_appointments,
    make_campaign,
    next_monday,
    page,
    t,
    text,
)

TEN, SIX = dt.time(10), dt.time(18)


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def demo_project(app) -> int:
    from app.demo.data import PROJECT_NAME
    from app.models.planning import Project

    with db_session(app) as session:
        return session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))


@pytest.fixture(scope="module")
def small(app, rows):
    """A project of one store whose week W holds one appointment of every kind."""
    from app.models.planning import Appointment, Booking

    w = next_monday(app, weeks=2)
    ids = make_campaign(rows, ("HE",), w - dt.timedelta(days=14), w + dt.timedelta(days=60))
    job = ids["jobs"]["HE"]
    ids["W"] = w
    ids["P1"] = add_promoter(rows, ids["tag"], "P1")
    ids["P2"] = add_promoter(rows, ids["tag"], "P2")

    def appointment(key, day, status="planned", start=TEN):
        day = w + dt.timedelta(days=day)
        ids[key] = rows.add(Appointment, job_id=job, date=day, start_time=start, end_time=SIX, status=status)

    appointment("booked", 0)
    appointment("requested", 1)
    appointment("declined", 2)
    appointment("empty", 3)
    appointment("cancelled", 4, status="cancelled")
    appointment("proposed", 5, status="proposed")
    appointment("done", 0, status="done", start=dt.time(8))
    rows.add(Booking, appointment_id=ids["booked"], promoter_id=ids["P1"], status="confirmed")
    rows.add(Booking, appointment_id=ids["booked"], promoter_id=ids["P2"], status="requested")
    rows.add(Booking, appointment_id=ids["requested"], promoter_id=ids["P1"], status="requested")
    rows.add(Booking, appointment_id=ids["declined"], promoter_id=ids["P1"], status="declined")
    rows.add(Booking, appointment_id=ids["cancelled"], promoter_id=ids["P1"], status="confirmed")
    yield ids
    adopt_appointments(app, rows, job)


def expected_states(app, *criteria) -> dict[int, tuple[int, dt.date, str, str]]:
    """Appointment id -> (job, date, status, staffing state), computed in Python from the rows."""
    from app.models.planning import Appointment

    with db_session(app) as session:
        found = {}
        query = select(Appointment).where(*criteria).options(selectinload(Appointment.bookings))
        for a in session.scalars(query):
            states = {b.status for b in a.bookings}
            state = "booked" if "confirmed" in states else "requested" if "requested" in states else "open"
            found[a.id] = (a.job_id, a.date, a.status, state)
        return found


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def overview_cells(html: str) -> dict[tuple[int, str], Counter]:
    """(job id, Monday) -> shown counts, from the overview's cells."""
    cells = {}
    for job, body in re.findall(r'<tr data-job="(\d+)">(.*?)</tr>', html, re.S):
        for week, booked, requested, open_ in re.findall(
            r'<td class="[^"]*" data-week="([\d-]+)" '
            r'data-booked="(\d+)" data-requested="(\d+)" data-open="(\d+)"',
            body,
        ):
            counts = Counter(booked=int(booked), requested=int(requested), open=int(open_))
            cells[int(job), week] = +counts
    return cells


# ---------------------------------------------------------------- counts


def test_the_project_overview_counts_the_database(app, demo_project):
    from app.models.planning import Appointment, Job

    client = client_for(app, "agentur")
    html = page(client, f"/planning/board/?project={demo_project}")
    shown = overview_cells(html)
    expected: dict[tuple[int, str], Counter] = defaultdict(Counter)
    jobs = set()
    with db_session(app) as session:
        jobs = set(session.scalars(select(Job.id).where(Job.project_id == demo_project)))
    for job, day, status, state in expected_states(app, Appointment.job_id.in_(jobs)).values():
        if status in ("planned", "done"):
            expected[job, monday(day).isoformat()][state] += 1
    assert len(jobs) == 30 and len({week for _job, week in shown}) == 26
    assert len(shown) == 30 * 26
    assert {key: value for key, value in shown.items() if value} == dict(expected)
    total = Counter()
    for counts in expected.values():
        total += counts
    match = re.search(r'id="board-total" data-booked="(\d+)" data-requested="(\d+)" data-open="(\d+)"', html)
    assert tuple(map(int, match.groups())) == (total["booked"], total["requested"], total["open"])
    assert total["booked"] and total["requested"] and total["open"], "the demo shows every state"


def test_a_week_of_a_demo_job_counts_the_database(app, demo_project):
    from app.common.timezone import local_today
    from app.models.planning import Appointment, Job

    with db_session(app) as session:
        job = session.scalar(select(Job.id).where(Job.project_id == demo_project).order_by(Job.id))
    with app.app_context():
        today = local_today()
    client = client_for(app, "admin", "en")
    for week in (monday(today), monday(today) + dt.timedelta(weeks=3), monday(today) - dt.timedelta(weeks=2)):
        html = page(client, f"/planning/board/week?job={job}&week={week.isoformat()}")
        expected = expected_states(
            app, Appointment.job_id == job, Appointment.date.between(week, week + dt.timedelta(days=6))
        )
        counted = Counter(s for _j, _d, status, s in expected.values() if status in ("planned", "done"))
        shown = {k: int(v) for k, v in re.findall(r'<strong data-state="(\w+)">(\d+)</strong>', html)}
        assert shown == {s: counted[s] for s in ("booked", "requested", "open")}
        chips = dict(re.findall(r'data-appointment="(\d+)" data-state="(\w+)"', html))
        assert {int(k): v for k, v in chips.items()} == {
            pk: ("proposed" if status == "proposed" else state)
            for pk, (_j, _d, status, state) in expected.items()
            if status in ("planned", "done", "proposed")
        }


def test_every_state_of_the_small_project(app, small):
    client = client_for(app, "agentur")
    job = small["jobs"]["HE"]
    w = small["W"]
    html = page(client, f"/planning/board/?project={small['project']}")
    assert overview_cells(html) == {
        (job, w.isoformat()): Counter(booked=1, requested=1, open=3),  # done without booking: open
        **{(job, week): Counter() for week in {k[1] for k in overview_cells(html)} if week != w.isoformat()},
    }
    week = page(client, f"/planning/board/week?job={job}&week={(w + dt.timedelta(days=3)).isoformat()}")
    chips = dict(re.findall(r'data-appointment="(\d+)" data-state="(\w+)"', week))
    assert chips == {
        str(small["booked"]): "booked",
        str(small["done"]): "open",
        str(small["requested"]): "requested",
        str(small["declined"]): "open",
        str(small["empty"]): "open",
        str(small["proposed"]): "proposed",
    }
    assert f'data-appointment="{small["cancelled"]}"' not in week
    assert re.findall(r'<strong data-state="(\w+)">(\d+)</strong>', week) == [
        ("booked", "1"),
        ("requested", "1"),
        ("open", "3"),
    ]
    # The week links back and forth, to the month, the generator and the request page.
    assert f"week={(w - dt.timedelta(weeks=1)).isoformat()}" in week
    assert f"week={(w + dt.timedelta(weeks=1)).isoformat()}" in week
    request_link = re.search(r'id="request-week" href="([^"]+)"', week).group(1)
    assert request_link.startswith("/planning/request/?ids=")

    month = page(client, f"/planning/board/month?job={job}&month={w:%Y-%m}")
    assert f'data-date="{w.isoformat()}"' in month
    if w.month == (w + dt.timedelta(days=5)).month:
        counts = dict(re.findall(r'<strong data-state="(\w+)">(\d+)</strong>', month))
        assert counts == {"booked": "1", "requested": "1", "open": "3"}
    store = page(client, f"/planning/board/month?store={small['locations']['HE']}&month={w:%Y-%m}")
    assert f'data-appointment="{small["booked"]}"' in store
    previous = f"month={(w.replace(day=1) - dt.timedelta(days=1)):%Y-%m}"
    assert previous in month


@contextmanager
def statements(app):
    from app.extensions import db

    seen = []

    def count(*_args):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_overview_does_not_query_per_cell(app, demo_project, small):
    client = client_for(app, "agentur")
    page(client, f"/planning/board/?project={small['project']}")  # warm up
    with statements(app) as one_store:
        page(client, f"/planning/board/?project={small['project']}")
    with statements(app) as thirty_stores:
        page(client, f"/planning/board/?project={demo_project}")
    assert len(thirty_stores) <= len(one_store) + 2, (len(one_store), len(thirty_stores))
    assert len(thirty_stores) < 25


# ---------------------------------------------------------------- access


def urls(small) -> list[str]:
    job, w = small["jobs"]["HE"], small["W"]
    return [
        "/planning/board/",
        f"/planning/board/?project={small['project']}",
        f"/planning/board/week?job={job}&week={w.isoformat()}",
        f"/planning/board/month?job={job}&month={w:%Y-%m}",
        f"/planning/board/month?store={small['locations']['HE']}",
        "/planning/conflicts/",
        f"/planning/conflicts/?weeks=12&project={small['project']}",
        "/planning/generate/",
        f"/planning/generate/?job={job}",
        "/planning/request/",
        f"/planning/request/?ids={small['booked']},{small['requested']},{small['empty']}",
    ]


TITLES = {
    "/planning/board": "Planning board",
    "/planning/conflicts": "Conflicts",
    "/planning/generate": "Generate appointments",
    "/planning/request": "Request promoters",
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_the_planning_pages_answer_the_agency(app, small, user, locale):
    client = client_for(app, user, None if locale == "de" else locale)
    for url in urls(small):
        html = page(client, url)
        title = next(msgid for prefix, msgid in TITLES.items() if url.startswith(prefix))
        assert t(title, locale) in text(html), url
        if locale == "de":
            assert t("Planning board", "en") not in text(html).replace("Planungsübersicht", ""), url


@pytest.mark.parametrize("user", INTRUDERS)
def test_the_planning_pages_refuse_customers_and_promoters(app, small, user):
    client = client_for(app, user)
    for url in urls(small):
        response = client.get(url)
        assert response.status_code == 403, f"{user}: {url} answered {response.status_code}"
        assert small["tag"] not in response.get_data(as_text=True)


def test_unknown_and_missing_arguments(app, small):
    client = client_for(app, "agentur")
    assert client.get("/planning/board/week?job=999999").status_code == 404
    assert client.get("/planning/board/month?store=999999").status_code == 404
    response = client.get("/planning/board/week")
    assert response.status_code == 302 and response.headers["Location"].endswith("/planning/board/")
    assert client.get("/planning/board/?project=abc").status_code == 200
    assert client.get(f"/planning/board/week?job={small['jobs']['HE']}&week=kaputt").status_code == 200
    assert client.get(f"/planning/board/month?job={small['jobs']['HE']}&month=2027-13").status_code == 200
    assert client.get("/planning/conflicts/?weeks=1000&project=x").status_code == 200
