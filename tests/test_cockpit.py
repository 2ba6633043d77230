"""The planner's cockpit (the agency's start page): what needs doing, counted right, in few
statements, in both languages, for the agency only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.common.timezone import local_today
from tests.conftest import visible_text
from tests.helpers import Rows, client_for, db_session
from tests.planning_helpers import make_campaign
from tests.test_sql_per_page import LIMIT, statements_for


@pytest.fixture(scope="module")
def rows(app):
    made = Rows(app)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def world(app, rows):
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter

    with app.app_context():
        today = local_today()
    campaign = make_campaign(rows, ("BY",), today - dt.timedelta(days=7), today + dt.timedelta(days=60))
    with db_session(app) as session:
        promoter = session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == "promoter01")
        )
        agentur = session.scalar(select(User.id).where(User.username == "agentur"))
    return {"campaign": campaign, "promoter": promoter, "agentur": agentur, "today": today, "n": 0}


def add_work(rows: Rows, world: dict, how_many: int) -> None:
    """Of each cockpit section one more row: today (with a change and a cancellation request),
    unstaffed, an old request, a proposal, a task."""
    from app.models.crm import Task
    from app.models.planning import Appointment, Booking, ChangeRequest

    job = world["campaign"]["jobs"]["BY"]
    today = world["today"]
    for _ in range(how_many):
        n = world["n"] = world["n"] + 1
        minute = dt.time(6, n % 50)
        todays = rows.add(
            Appointment, job_id=job, date=today, start_time=minute, end_time=dt.time(20), status="planned"
        )
        rows.add(ChangeRequest, appointment_id=todays, kind="cancel", status="pending", reason="Umbau")
        rows.add(
            Booking,
            appointment_id=todays,
            promoter_id=world["promoter"],
            status="confirmed",
            cancel_requested_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            cancel_reason="krank",
        )
        unstaffed = rows.add(
            Appointment,
            job_id=job,
            date=today + dt.timedelta(days=1 + n % 10),
            start_time=minute,
            end_time=dt.time(20),
            status="planned",
        )
        rows.add(
            Booking,
            appointment_id=unstaffed,
            promoter_id=world["promoter"],
            status="requested",
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=72),
        )
        rows.add(
            Appointment,
            job_id=job,
            date=today + dt.timedelta(days=20),
            start_time=minute,
            end_time=dt.time(20),
            status="proposed",
        )
        rows.add(
            Task,
            title=f"Anruf {n} {world['campaign']['tag']}",
            kind="call",
            due_date=today,
            assignee_id=world["agentur"],
            company_id=world["campaign"]["customer"],
        )


def expected_counts(app, world) -> dict[str, int]:
    """The same numbers counted the slow way, in Python over every row."""
    from app.models.crm import Task
    from app.models.planning import Appointment, Booking, ChangeRequest

    today = world["today"]
    with db_session(app) as session:
        appointments = session.scalars(select(Appointment)).all()
        confirmed = {
            b.appointment_id for b in session.scalars(select(Booking).where(Booking.status == "confirmed"))
        }
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        by_id = {a.id: a for a in appointments}
        old_requests = [
            b
            for b in session.scalars(select(Booking).where(Booking.status == "requested"))
            if b.created_at < now - dt.timedelta(hours=48) and by_id[b.appointment_id].date >= today
        ]
        requests = session.scalar(
            select(func.count(ChangeRequest.id)).where(ChangeRequest.status == "pending")
        )
        requests += sum(
            1
            for b in session.scalars(select(Booking).where(Booking.cancel_requested_at.is_not(None)))
            if b.cancel_pending
        )
        tasks = session.scalar(
            select(func.count(Task.id)).where(
                Task.assignee_id == world["agentur"], Task.done.is_(False), Task.due_date <= today
            )
        )
        return {
            "today": sum(1 for a in appointments if a.date == today and a.status in ("planned", "done")),
            "unstaffed": sum(
                1
                for a in appointments
                if today <= a.date <= today + dt.timedelta(days=13)
                and a.status == "planned"
                and a.id not in confirmed
            ),
            "unanswered": len(old_requests),
            "proposals": sum(1 for a in appointments if a.status == "proposed"),
            "follow-ups": tasks,
            "change-requests": requests,
        }


def shown_counts(html: str) -> dict[str, int]:
    found = dict(re.findall(r'id="cockpit-([a-z-]+)-count">(\d+)<', html))
    return {key: int(value) for key, value in found.items()}


def test_the_cockpit_counts_what_needs_doing(app, rows, world):
    add_work(rows, world, 2)
    html = client_for(app, "agentur", "de").get("/").get_data(as_text=True)
    shown = shown_counts(html)
    assert shown == expected_counts(app, world)
    assert shown["change-requests"] >= 4 and shown["unanswered"] >= 2 and shown["follow-ups"] >= 2
    assert "Termine heute" in html and "Anfragen seit mehr als 48 Stunden unbeantwortet" in html
    assert f"Anruf 1 {world['campaign']['tag']}" in html


def test_the_cockpit_in_english(app, rows, world):
    html = client_for(app, "agentur", "en").get("/").get_data(as_text=True)
    assert "Today's appointments" in html and "Requests unanswered for more than 48 hours" in html
    week = client_for(app, "agentur", "en").get("/cockpit/week").get_data(as_text=True)
    assert "This week per project" in week and f"Projekt {world['campaign']['tag']}" in week


@pytest.mark.parametrize("url", ["/", "/cockpit/week"])
def test_the_cockpit_needs_the_same_statements_however_much_there_is_to_do(app, rows, world, url):
    client = client_for(app, "agentur", "de")
    add_work(rows, world, 1)
    few = statements_for(app, client, url)
    add_work(rows, world, 5)
    many = statements_for(app, client, url)
    assert many == few, f"{url}: {few} statements with less to do, {many} with more"
    assert many <= LIMIT, f"{url}: {many} statements"


def test_the_week_part_is_for_the_agency_only(app):
    assert app.test_client().get("/cockpit/week").status_code == 403
    assert client_for(app, "adm.nord").get("/cockpit/week").status_code == 403
    assert client_for(app, "promoter01").get("/cockpit/week").status_code == 403


def test_the_week_badge_counts_every_conflict_overlaps_included(app, rows, world):
    """The cockpit's conflict badge only counts the overlapping pairs (it does not load them),
    and still shows the same number as the conflicts page's full computation."""
    from app.models.planning import Appointment, Booking
    from app.models.promoter import Promoter
    from app.staffing.conflicts import current_conflicts

    campaign, today = world["campaign"], world["today"]
    day = today + dt.timedelta(days=2)
    tag = campaign["tag"]
    promoter = rows.add(Promoter, first_name="Ola", last_name=f"Overlap {tag}", active=True)
    for hour in (9, 10):  # 09–12 and 10–13: one overlapping pair
        appointment = rows.add(
            Appointment,
            job_id=campaign["jobs"]["BY"],
            date=day,
            start_time=dt.time(hour, 0),
            end_time=dt.time(hour + 3, 0),
            status="planned",
        )
        rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status="confirmed")
    with db_session(app) as session:
        horizon = today + dt.timedelta(days=13)
        found = current_conflicts(session, today, horizon, None, "de")
        expected = sum(len(kind) for kind in found.values())
        assert any(c.promoter.id == promoter for c in found["overlap"])
    html = client_for(app, "agentur", "de").get("/cockpit/week").get_data(as_text=True)
    badge = re.search(r'id="cockpit-conflicts-count">(\d+)<', html)
    assert badge and int(badge.group(1)) == expected >= 1


def test_the_promoters_cancellation_requests_link_lists_just_those(app, rows, world):
    """The link opens the bookings whose cancellation awaits an answer (not every confirmed
    booking), whatever their date: as many as the cockpit counts."""
    add_work(rows, world, 1)
    client = client_for(app, "agentur", "de")
    html = client.get("/").get_data(as_text=True)
    link, count = re.search(
        r'<a href="([^"]+)">[^<]*</a>:\s*<strong id="cockpit-promoter-requests">(\d+)<', html
    ).groups()
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert int(count) >= 1
    assert re.search(rf"Anzahl Einträge: {count}\b", visible_text(listed)), link


def test_the_open_requests_link_lists_just_the_unanswered_ones(app, rows, world):
    """The link under "requests unanswered for more than 48 hours" opens those requests, not
    every request (a fresh one, or one for a past day, is not overdue): as many as the badge."""
    from app.models.planning import Appointment, Booking

    add_work(rows, world, 1)
    job, today = world["campaign"]["jobs"]["BY"], world["today"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for day, age in (
        (today + dt.timedelta(days=3), dt.timedelta(hours=1)),
        (today - dt.timedelta(days=2), None),
    ):
        appointment = rows.add(
            Appointment, job_id=job, date=day, start_time=dt.time(5), end_time=dt.time(6), status="planned"
        )
        created = now - (age or dt.timedelta(hours=72))
        rows.add(
            Booking,
            appointment_id=appointment,
            promoter_id=world["promoter"],
            status="requested",
            created_at=created,
        )
    for language, label in (("de", "Anzahl Einträge"), ("en", "Record Count")):
        client = client_for(app, "agentur", language)
        html = client.get("/").get_data(as_text=True)
        section = html.split('id="cockpit-unanswered"', 1)[1].split('class="panel panel-default', 1)[0]
        count = int(re.search(r'id="cockpit-unanswered-count">(\d+)<', section).group(1))
        link = re.search(r'<a class="btn[^"]*" href="([^"]+)"', section).group(1)
        listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        assert count >= 1
        assert re.search(rf"{label}:? {count}\b", visible_text(listed)), (link, count)
        # the list says what it shows: the quick filter is ticked
        assert re.search(r'name="unanswered"[^>]*checked|checked[^>]*name="unanswered"', listed), link
    assert "Nur Anfragen, seit mehr als 48 Stunden unbeantwortet" in client_for(app, "agentur", "de").get(
        link.replace("&amp;", "&")
    ).get_data(as_text=True)
