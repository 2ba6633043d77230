"""The customer system's calendar, lists that say what they show, and the wizard's help.

Expected rows come from plain joins (tests.visibility_helpers), never from the
visibility module the pages use.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import visible_text
from tests.test_wizard import (
    Wizard,
    demo,
    find_day,
    high_water,
    portal_client,
    remove_since,
    t,
    warnings_on,
)
from tests.visibility_helpers import db_session, expected_appointments, local_today, table_rows


def month_period(day: dt.date) -> tuple[dt.date, dt.date]:
    """Whole weeks, Monday first, around ``day``'s month."""
    first = day.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first - dt.timedelta(days=first.weekday()), last + dt.timedelta(days=6 - last.weekday())


def shown_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-appointment="(\d+)"', html)]


@pytest.fixture(scope="module")
def north(app):
    return portal_client(app, "adm.nord")


# ---------------------------------------------------------------- calendar


def test_month_calendar_shows_exactly_the_visible_appointments_of_its_weeks(app, north):
    from app.models.planning import Appointment

    today = local_today(app)
    html = north.get("/portal/calendar").get_data(as_text=True)
    first, last = month_period(today)
    with db_session(app) as session:
        expected = [
            r.id for r in expected_appointments(session, "adm.nord", Appointment.date.between(first, last))
        ]
        south = {
            r.id for r in expected_appointments(session, "adm.sued", Appointment.date.between(first, last))
        }
    assert expected, "the demo has appointments this month"
    assert sorted(shown_ids(html)) == sorted(expected)
    assert not set(shown_ids(html)) & south
    days = re.findall(r'<td class="[^"]*" data-date="([\d-]+)"', html)
    assert days[0] == first.isoformat() and days[-1] == last.isoformat() and len(days) % 7 == 0
    assert dt.date.fromisoformat(days[0]).weekday() == 0
    assert f'data-date="{today.isoformat()}" aria-current="date"' in html


def test_calendar_speaks_german_and_english(app):
    today = local_today(app)
    from babel.dates import format_date

    german = portal_client(app, "adm.nord").get("/portal/calendar").get_data(as_text=True)
    english = portal_client(app, "adm.nord", lang="en").get("/portal/calendar").get_data(as_text=True)
    assert format_date(today, "LLLL yyyy", locale="de") in visible_text(german)
    assert format_date(today, "LLLL yyyy", locale="en") in visible_text(english)
    assert '<abbr title="Montag">Mo.</abbr>' in german
    assert '<abbr title="Monday">Mon</abbr>' in english
    assert "Vorheriger Monat" in german and "Previous month" in english


def test_navigation_and_the_week_view(app, north):
    from app.models.planning import Appointment

    today = local_today(app)
    html = north.get("/portal/calendar").get_data(as_text=True)
    previous = re.search(r'id="cal-prev" href="([^"]+)"', html).group(1)
    nxt = re.search(r'id="cal-next" href="([^"]+)"', html).group(1)
    first_of_month = today.replace(day=1)
    assert f"date={(first_of_month - dt.timedelta(days=1)).replace(day=1).isoformat()}" in previous
    assert f"date={(first_of_month + dt.timedelta(days=32)).replace(day=1).isoformat()}" in nxt
    week = north.get(f"/portal/calendar?view=week&date={today.isoformat()}").get_data(as_text=True)
    monday = today - dt.timedelta(days=today.weekday())
    sections = re.findall(r'<section data-date="([\d-]+)"', week)
    assert sections == [(monday + dt.timedelta(days=i)).isoformat() for i in range(7)]
    with db_session(app) as session:
        expected = [
            r.id
            for r in expected_appointments(
                session, "adm.nord", Appointment.date.between(monday, monday + dt.timedelta(days=6))
            )
        ]
    assert shown_ids(week) == expected  # by day, time and store, like the list
    nxt_week = re.search(r'id="cal-next" href="([^"]+)"', week).group(1)
    assert f"date={(today + dt.timedelta(days=7)).isoformat()}" in nxt_week


def test_calendar_filters_like_the_list_and_bad_input_is_no_500(app, north):
    from app.models.planning import Appointment, Job

    today = local_today(app)
    first, last = month_period(today)
    with db_session(app) as session:
        rows = expected_appointments(session, "adm.nord", Appointment.date.between(first, last))
        job = session.get(Job, rows[0].job_id)
        store, store_name = job.location_id, job.location.name
    html = north.get(f"/portal/calendar?store={store}").get_data(as_text=True)
    assert sorted(shown_ids(html)) == sorted(r.id for r in rows if r.store == store_name)
    assert f"Markt {store_name}" in visible_text(html)
    for bad in ("?date=2026-13-45", "?view=year", "?date=0001-01-01"):
        assert north.get("/portal/calendar" + bad).status_code == 200
    assert north.get("/portal/calendar?store=999999999").status_code == 400


# ---------------------------------------------------------------- lists


def test_from_and_to_work_without_choosing_custom_and_are_stated(app, north):
    from app.models.planning import Appointment

    today = local_today(app)
    start, end = today - dt.timedelta(days=3), today + dt.timedelta(days=3)
    html = north.get(f"/portal/appointments?date_from={start}&date_to={end}").get_data(as_text=True)
    with db_session(app) as session:
        expected = expected_appointments(session, "adm.nord", Appointment.date.between(start, end))
    count = int(re.search(r'id="result-count">(\d+)', html).group(1))
    assert count == len(expected)
    summary = visible_text(re.search(r'id="filter-summary">(.*?)</p>', html, re.S).group(1))
    assert f"Angezeigt: {start:%d.%m.%Y}–{end:%d.%m.%Y}" in summary
    default = north.get("/portal/appointments").get_data(as_text=True)
    monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    assert f"Angezeigt: {monday:%d.%m.%Y}–{sunday:%d.%m.%Y}" in visible_text(default)


def test_my_proposals_newest_first_with_submitted_date(app):
    from app.models.planning import Appointment

    info = demo(app)
    marks = high_water(app)
    try:
        client = portal_client(app, "adm.nord", lang="en")
        store, day = find_day(app, info, "free")
        for start in ("09:00", "11:00"):
            wizard = Wizard(client)
            wizard.to_review(info.project_id, store.location_id, day, start=start, end="12:00")
            assert wizard.submit().status_code == 302
        html = client.get("/portal/proposals/").get_data(as_text=True)
        rows = table_rows(html, "proposals")
        with db_session(app) as session:
            ids = list(
                session.scalars(
                    select(Appointment.id)
                    .where(Appointment.proposed_by_id == info.contact_id, Appointment.origin == "customer")
                    .order_by(Appointment.created_at.desc(), Appointment.id.desc())
                )
            )
        links = [int(pk) for pk in re.findall(r"/portal/proposals/(\d+)\"", html)]
        assert links == ids and len(ids) >= 2
        today = local_today(app)
        assert rows[0][0].startswith(f"{today.month}/{today.day}/{today.year}, ")
        assert all(re.match(r"\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}", r[0]) for r in rows)
        assert rows[0][2] == "11:00–12:00" and rows[1][2] == "09:00–12:00"
    finally:
        remove_since(app, marks)


# ---------------------------------------------------------------- the wizard's help


def test_one_project_is_preselected_and_times_come_from_the_jobs_usual_hours(app):
    from app.models.planning import Appointment

    info = demo(app)
    marks = high_water(app)
    try:
        client = portal_client(app, "adm.nord")
        wizard = Wizard(client)
        html = client.get(wizard.store_url).get_data(as_text=True)
        assert re.search(rf'<option selected value="{info.project_id}">', html)
        store = info.north[0]
        assert wizard.store(info.project_id, store.location_id).status_code == 302
        with db_session(app) as session:
            usual = session.execute(
                select(Appointment.start_time, Appointment.end_time)
                .where(Appointment.job_id == store.job_id, Appointment.status.in_(("planned", "done")))
                .group_by(Appointment.start_time, Appointment.end_time)
                .order_by(func.count().desc(), Appointment.start_time)
            ).first()
        slot = client.get(wizard.slot_url).get_data(as_text=True)
        assert re.search(rf'id="start_time"[^>]*value="{usual[0]:%H:%M}"', slot)
        assert re.search(rf'id="end_time"[^>]*value="{usual[1]:%H:%M}"', slot)
        assert 'aria-current="step"' in slot and 'class="step-done"' in slot
    finally:
        remove_since(app, marks)


def test_step_two_shows_warnings_and_the_stores_appointments_once_the_date_is_known(app):
    from app.models.planning import Appointment

    info = demo(app)
    marks = high_water(app)
    try:
        store, busy = find_day(app, info, "busy")
        tomorrow = local_today(app) + dt.timedelta(days=1)
        sunday = tomorrow + dt.timedelta(days=6 - tomorrow.weekday())  # the next Sunday
        assert sunday <= info.end, "the demo campaign runs months past today"
        client = portal_client(app, "adm.nord", lang="en")
        wizard = Wizard(client)
        assert wizard.store(info.project_id, store.location_id).status_code == 302
        answer = client.post(
            wizard.slot_url,
            data={"date": busy.isoformat(), "start_time": "10:00", "end_time": "18:00", "check": "1"},
        )
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200
        assert t("The store already has an appointment on this day.", "en") in warnings_on(html)
        with db_session(app) as session:
            around = expected_appointments(
                session,
                "adm.nord",
                Appointment.job_id == store.job_id,
                Appointment.date.between(busy - dt.timedelta(days=7), busy + dt.timedelta(days=7)),
            )
        assert len(table_rows(html, "around")) == len(around) > 0
        # Nothing saved: the review still sends back to step 2.
        assert wizard.review().status_code == 302
        html = client.post(
            wizard.slot_url,
            data={"date": sunday.isoformat(), "start_time": "10:00", "end_time": "18:00", "check": "1"},
        ).get_data(as_text=True)
        assert "This day is a Sunday; most stores are closed on Sundays." in warnings_on(html)
        # And again before submitting.
        review = wizard.to_review(info.project_id, store.location_id, sunday).get_data(as_text=True)
        assert "This day is a Sunday; most stores are closed on Sundays." in warnings_on(review)
    finally:
        remove_since(app, marks)
