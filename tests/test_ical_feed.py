"""The promoter's private iCalendar feed: /promoter/feed/<token>.ics.

The feed is parsed with ``icalendar`` and compared with the database (plain
queries, not the visibility module): exactly the promoter's confirmed bookings of
planned or done appointments (cancelled ones stay as cancelled events), at the
right local time in Europe/Berlin in summer and in winter, with the store and
its address, stable UIDs; unknown, revoked and replaced tokens give 404;
another promoter's events never appear.
"""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from tests.visibility_helpers import Rows, db_session, local_today, new_tag

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


def promoter_id(app, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter

    with db_session(app) as session:
        return session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == username)
        )


def set_token(app, promoter: int, token: str | None) -> None:
    from app.extensions import db
    from app.models.promoter import Promoter

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(Promoter.__table__).where(Promoter.__table__.c.id == promoter).values(feed_token=token)
        )


def expected_events(app, promoter: int) -> dict[str, tuple]:
    """UID -> (date, start, end, store, street, postcode, city) of the confirmed bookings."""
    from app.models.crm import Location
    from app.models.planning import Appointment, Booking, Job

    domain = app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "promoplan.local"
    with db_session(app) as session:
        found = session.execute(
            select(
                Booking.id,
                Appointment.date,
                Appointment.start_time,
                Appointment.end_time,
                Location.name,
                Location.street,
                Location.postcode,
                Location.city,
            )
            .join(Appointment, Appointment.id == Booking.appointment_id)
            .join(Job, Job.id == Appointment.job_id)
            .join(Location, Location.id == Job.location_id)
            .where(
                Booking.promoter_id == promoter,
                Booking.status == "confirmed",
                Appointment.status.in_(("planned", "done")),
            )
        )
        return {f"booking-{r[0]}@{domain}": tuple(r[1:]) for r in found}


def fetch(app, token: str):
    return app.test_client().get(f"/promoter/feed/{token}.ics")


def events(answer) -> dict[str, object]:
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    calendar = Calendar.from_ical(answer.data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def active_only(shown: dict) -> dict:
    """The events that are not cancelled (cancelled appointments stay in the feed)."""
    return {uid: event for uid, event in shown.items() if str(event["STATUS"]) != "CANCELLED"}


@pytest.fixture()
def feed(app):
    """promoter01 with a fresh token; revoked afterwards."""
    me = promoter_id(app, "promoter01")
    token = secrets.token_urlsafe(32)
    set_token(app, me, token)
    yield me, token
    set_token(app, me, None)


@pytest.fixture()
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


def _store(rows: Rows, app, tag: str) -> int:
    from app.models.crm import Location
    from app.models.planning import Job, Project
    from tests.visibility_helpers import PROJECT_NAME

    with db_session(app) as session:
        project = session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))
    location = rows.add(
        Location,
        name=f"Kalendermarkt {tag}",
        street="Mönckebergstraße 7",
        postcode="20095",
        city="Hamburg",
        federal_state="HH",
    )
    return rows.add(Job, project_id=project, location_id=location, title=f"Kalender {tag}", status="staffed")


def _booking(
    rows: Rows, job: int, promoter: int, day: dt.date, start, end, status="confirmed", state="planned"
):
    from app.models.planning import Appointment, Booking

    appointment = rows.add(
        Appointment,
        job_id=job,
        date=day,
        start_time=start,
        end_time=end,
        status=state,
        origin="agency",
        version=1,
    )
    return rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status=status)


def test_feed_holds_exactly_the_confirmed_appointments(app, feed):
    me, token = feed
    expected = expected_events(app, me)
    assert expected, "promoter01 has confirmed bookings in the demo"
    shown = active_only(events(fetch(app, token)))
    assert set(shown) == set(expected)
    for uid, (day, start, end, store, street, postcode, city) in expected.items():
        event = shown[uid]
        assert event.decoded("DTSTART") == dt.datetime.combine(day, start, tzinfo=BERLIN)
        assert event.decoded("DTEND") == dt.datetime.combine(day, end, tzinfo=BERLIN)
        assert store in str(event["SUMMARY"])
        location = str(event["LOCATION"])
        assert store in location and street in location and f"{postcode} {city}" in location
        assert str(event["STATUS"]) == "CONFIRMED"


def test_requested_and_declined_are_not_in_the_feed_cancelled_stay_cancelled(app, feed, rows):
    me, token = feed
    job = _store(rows, app, new_tag("cal"))
    day = local_today(app) + dt.timedelta(days=500)
    left_out = [
        _booking(rows, job, me, day, dt.time(8), dt.time(9), status="requested"),
        _booking(rows, job, me, day, dt.time(10), dt.time(11), status="declined"),
    ]
    cancelled = [
        _booking(rows, job, me, day, dt.time(12), dt.time(13), status="cancelled"),
        _booking(rows, job, me, day, dt.time(14), dt.time(15), status="confirmed", state="cancelled"),
    ]
    shown = events(fetch(app, token))
    domain = app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "promoplan.local"
    assert not {f"booking-{pk}@{domain}" for pk in left_out} & set(shown)
    for pk in cancelled:
        assert str(shown[f"booking-{pk}@{domain}"]["STATUS"]) == "CANCELLED"
    assert set(active_only(shown)) == set(expected_events(app, me))


def test_local_times_in_summer_and_in_winter(app, feed, rows):
    me, token = feed
    job = _store(rows, app, new_tag("dst"))
    year = local_today(app).year + 2
    summer = _booking(rows, job, me, dt.date(year, 7, 15), dt.time(10), dt.time(18))
    winter = _booking(rows, job, me, dt.date(year, 1, 15), dt.time(10), dt.time(18))
    answer = fetch(app, token)
    shown = events(answer)
    domain = app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "promoplan.local"
    in_summer = shown[f"booking-{summer}@{domain}"]
    in_winter = shown[f"booking-{winter}@{domain}"]
    assert in_summer.decoded("DTSTART").astimezone(UTC) == dt.datetime(year, 7, 15, 8, 0, tzinfo=UTC)
    assert in_summer.decoded("DTEND").astimezone(UTC) == dt.datetime(year, 7, 15, 16, 0, tzinfo=UTC)
    assert in_winter.decoded("DTSTART").astimezone(UTC) == dt.datetime(year, 1, 15, 9, 0, tzinfo=UTC)
    assert in_winter.decoded("DTEND").astimezone(UTC) == dt.datetime(year, 1, 15, 17, 0, tzinfo=UTC)
    for event in (in_summer, in_winter):
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    raw = answer.get_data(as_text=True)
    assert f"DTSTART;TZID=Europe/Berlin:{year}0715T100000" in raw
    assert f"DTSTART;TZID=Europe/Berlin:{year}0115T100000" in raw
    # The VTIMEZONE that calendar apps need to place these local times.
    calendar = Calendar.from_ical(answer.data)
    zones = [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")]
    assert zones == ["Europe/Berlin"]


def test_uids_are_stable(app, feed):
    me, token = feed
    first = events(fetch(app, token))
    second = events(fetch(app, token))
    assert list(first) == list(second)
    assert all(uid.startswith("booking-") for uid in first)
    renewed = secrets.token_urlsafe(32)
    set_token(app, me, renewed)
    assert set(events(fetch(app, renewed))) == set(first)


def test_unknown_revoked_and_replaced_tokens_give_404(app, feed):
    me, token = feed
    assert fetch(app, token).status_code == 200
    assert fetch(app, secrets.token_urlsafe(32)).status_code == 404
    assert fetch(app, token[:-1]).status_code == 404
    assert fetch(app, token.upper() if token.upper() != token else token.lower()).status_code == 404
    renewed = secrets.token_urlsafe(32)
    set_token(app, me, renewed)
    assert fetch(app, token).status_code == 404
    assert fetch(app, renewed).status_code == 200
    set_token(app, me, None)
    assert fetch(app, renewed).status_code == 404
    assert fetch(app, "None").status_code == 404


def test_the_promoter_system_buttons_revoke_the_feed(app):
    """Create, renew and revoke through the page; each old link stops working."""
    from tests.test_promoter_system import promoter_client

    me = promoter_id(app, "promoter01")
    client = promoter_client(app)
    try:
        client.post("/promoter/calendar", data={"action": "create"})
        link = _link(client)
        assert app.test_client().get(link).status_code == 200
        client.post("/promoter/calendar", data={"action": "renew"})
        renewed = _link(client)
        assert renewed != link
        assert app.test_client().get(link).status_code == 404
        assert app.test_client().get(renewed).status_code == 200
        client.post("/promoter/calendar", data={"action": "revoke"})
        assert app.test_client().get(renewed).status_code == 404
    finally:
        set_token(app, me, None)


def _link(client) -> str:
    import re

    html = client.get("/promoter/calendar").get_data(as_text=True)
    url = re.search(r'id="feed-link" value="([^"]+)"', html).group(1)
    return "/" + url.split("/", 3)[3]


def test_another_promoters_events_never_appear(app, feed, rows):
    me, token = feed
    other = promoter_id(app, "promoter02")
    other_token = secrets.token_urlsafe(32)
    set_token(app, other, other_token)
    job = _store(rows, app, new_tag("oth"))
    day = local_today(app) + dt.timedelta(days=510)
    # The same appointment for both: each feed holds its own booking only.
    mine = _booking(rows, job, me, day, dt.time(10), dt.time(18))
    from app.models.planning import Booking

    with db_session(app) as session:
        appointment = session.get(Booking, mine).appointment_id
    theirs = rows.add(Booking, appointment_id=appointment, promoter_id=other, status="confirmed")
    try:
        own = events(fetch(app, token))
        foreign = events(fetch(app, other_token))
        assert set(active_only(own)) == set(expected_events(app, me))
        assert set(active_only(foreign)) == set(expected_events(app, other))
        assert not set(own) & set(foreign)
        assert any(uid.startswith(f"booking-{mine}@") for uid in own)
        assert any(uid.startswith(f"booking-{theirs}@") for uid in foreign)
        other_name = _full_name(app, other)
        assert other_name not in fetch(app, token).get_data(as_text=True)
    finally:
        set_token(app, other, None)


def _full_name(app, promoter: int) -> str:
    from app.models.promoter import Promoter

    with db_session(app) as session:
        return session.get(Promoter, promoter).full_name


def test_inactive_promoter_has_no_feed(app, feed):
    from app.extensions import db
    from app.models.promoter import Promoter

    me, token = feed
    table = Promoter.__table__
    try:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == me).values(active=False))
        assert fetch(app, token).status_code == 404
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == me).values(active=True))
    assert fetch(app, token).status_code == 200


def test_feed_headers(app, feed):
    me, token = feed
    answer = fetch(app, token)
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-cache" in answer.headers["Cache-Control"]
    calendar = Calendar.from_ical(answer.data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == f"promoplan – Einsätze von {_full_name(app, me)}"
