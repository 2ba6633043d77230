"""Staffing edge cases (issue #10, Deliver 5) and the shared conflict predicates.

- one promoter confirms → the other open requests for the appointment are withdrawn and
  those promoters mailed, each in their language;
- confirming on a cancelled or past appointment is refused with the reason (single and batch);
- "decline" on a confirmed booking asks the agency to cancel it; the agency grants or refuses
  it on the Bookings screen; both sides are mailed;
- withdrawing an application mails the agency at most once an hour per application, also
  across web processes (a second app on the same database);
- the conflict predicates, the single-booking checks and the batch pages agree on random data;
- the conflicts page lists duplicate appointments.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from app import create_app
from tests.helpers import client_for
from tests.helpers import flashes as agency_flashes
from tests.planning_helpers import add_promoter, make_campaign, next_monday
from tests.test_promoter_system import (
    add_booking,
    add_store,
    demo_project_id,
    flashes,
    free_day,
    promoter_client,
    promoter_id,
    row,
)
from tests.visibility_helpers import Rows, db_session, local_today, new_tag

TEN, TWO, SIX = dt.time(10), dt.time(14), dt.time(18)
#: Booking states of the random data (active ones twice as likely).
BOOKING_MIX = ("requested", "requested", "confirmed", "confirmed", "declined", "withdrawn")


@pytest.fixture()
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture()
def mails(app):
    """Outbox rows made during the test: ``mails(kind)`` → list of dicts; removed afterwards."""
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    with app.app_context():
        mark = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0

    def made(kind: str) -> list[dict]:
        table = OutboxMessage.__table__
        with db_session(app) as session:
            return [
                dict(m)
                for m in session.execute(
                    select(table).where(table.c.id > mark, table.c.kind == kind).order_by(table.c.id)
                ).mappings()
            ]

    yield made
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(OutboxMessage.__table__.delete().where(OutboxMessage.__table__.c.id > mark))


def _set(app, model, pk: int, **values) -> None:
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(model.__table__).where(model.__table__.c.id == pk).values(**values))


def _email(app, pid: int) -> str:
    from app.models.promoter import Promoter

    return row(app, Promoter, pid)["email"]


def _day(day: dt.date, locale: str) -> str:
    """A date as mails show it ("So., 16.01.2028")."""
    from app.common.formatting import _format

    return _format(day, locale)


def _store(app, location_id: int) -> str:
    from app.models.crm import Location

    return row(app, Location, location_id)["name"]


# ---------------------------------------------------------------- the predicates


def _slot(day, start, end, job=1, pk=None):
    from types import SimpleNamespace

    return SimpleNamespace(id=pk, job_id=job, date=day, start_time=start, end_time=end)


def test_the_predicates():
    from app.rules.calendar import exceeds_planned_days
    from app.staffing.rules import absence_covers, duplicates, times_overlap

    day = dt.date(2027, 3, 1)
    morning = _slot(day, dt.time(10), dt.time(12), pk=1)
    assert times_overlap(morning, _slot(day, dt.time(11), dt.time(13)))
    assert times_overlap(morning, _slot(day, dt.time(9), dt.time(18)))  # inside
    assert not times_overlap(morning, _slot(day, dt.time(12), dt.time(14)))  # touching
    assert not times_overlap(morning, _slot(day + dt.timedelta(days=1), dt.time(10), dt.time(12)))

    from types import SimpleNamespace

    absence = SimpleNamespace(start_date=day, end_date=day + dt.timedelta(days=2))
    assert absence_covers(absence, day) and absence_covers(absence, day + dt.timedelta(days=2))
    assert not absence_covers(absence, day - dt.timedelta(days=1))
    assert not absence_covers(absence, day + dt.timedelta(days=3))

    assert duplicates(morning, _slot(day, dt.time(11), dt.time(12), pk=2))
    assert not duplicates(morning, morning)  # itself
    assert not duplicates(morning, _slot(day, dt.time(11), dt.time(12), job=2, pk=2))  # other store

    assert exceeds_planned_days(3, 2) and not exceeds_planned_days(2, 2)
    assert not exceeds_planned_days(7, None)


# ---------------------------------------------------------------- single checks = batch pages


def _random_world(app, rows: Rows, seed: int) -> dict:
    """Two stores (2 days a week agreed), four promoters, 40 random appointments over ten days,
    random bookings and unavailabilities — far in the future, away from the demo."""
    from app.models.planning import Appointment, Booking
    from app.models.promoter import Unavailability

    rng = random.Random(seed)
    start = local_today(app) + dt.timedelta(days=900 + 30 * seed)
    start -= dt.timedelta(days=start.weekday())
    ids = make_campaign(rows, ("HH", "BY"), start, start + dt.timedelta(days=30), planned_days=2)
    promoters = [add_promoter(rows, ids["tag"], f"R{n}") for n in range(4)]
    days = [start + dt.timedelta(days=n) for n in range(10)]
    hours = list(range(8, 20))
    appointments = []
    for _n in range(40):
        first = rng.choice(hours[:-1])
        last = rng.choice([h for h in hours if h > first] + [20])
        appointments.append(
            rows.add(
                Appointment,
                job_id=rng.choice(list(ids["jobs"].values())),
                date=rng.choice(days),
                start_time=dt.time(first),
                end_time=dt.time(last),
                status=rng.choice(["planned", "planned", "planned", "proposed", "cancelled", "done"]),
                origin="agency",
                version=1,
            )
        )
    for appointment in appointments:
        for promoter in rng.sample(promoters, rng.choice([0, 1, 2, 2])):
            rows.add(
                Booking,
                appointment_id=appointment,
                promoter_id=promoter,
                status=rng.choice(BOOKING_MIX),
            )
    for promoter in promoters:
        for _n in range(rng.choice([1, 2])):
            first = rng.choice(days)
            rows.add(
                Unavailability,
                promoter_id=promoter,
                start_date=first,
                end_date=first + dt.timedelta(days=rng.choice([0, 0, 1, 3])),
            )
    return {"ids": ids, "promoters": promoters, "appointments": appointments, "start": start, "days": days}


def _messages(conflicts) -> Counter:
    return Counter((c.kind, c.message, c.blocking) for c in conflicts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_single_checks_and_batch_pages_agree_on_random_data(app, rows, seed):
    from sqlalchemy.orm import joinedload

    from app.extensions import db
    from app.models.planning import Appointment, Booking, Job
    from app.rules.calendar import ACTIVE_APPOINTMENTS, ACTIVE_BOOKINGS, week_of
    from app.staffing import conflicts as batch
    from app.staffing import rules

    world = _random_world(app, rows, seed)
    with app.test_request_context():
        session = db.session
        appointments = session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(world["appointments"]))
            .options(joinedload(Appointment.job).joinedload(Job.location))
        ).all()
        bookings = session.scalars(
            select(Booking).where(Booking.appointment_id.in_(world["appointments"]))
        ).all()
        assert len(bookings) > 20

        # Promoter checks: one booking at a time = the promoter's request list = the request page.
        listed = rules.booking_conflicts_of(session, list(bookings), confirming=True)
        pairs = batch.pair_conflicts(session, list(appointments), world["promoters"])
        found_overlap, found_unavailable = set(), set()
        for booking in bookings:
            single = rules.booking_conflicts(
                session, booking.promoter_id, booking.appointment, confirming=True
            )
            assert _messages(single) == _messages(listed[booking.id]), booking.id
            if booking.status in ACTIVE_BOOKINGS and booking.appointment.status in ACTIVE_APPOINTMENTS:
                for other in rules.overlapping_bookings(session, booking.promoter_id, booking.appointment):
                    found_overlap.add(
                        (frozenset((booking.appointment_id, other.appointment_id)), booking.promoter_id)
                    )
                if rules.is_unavailable(session, booking.promoter_id, booking.appointment.date):
                    found_unavailable.add((booking.appointment_id, booking.promoter_id))
        for appointment in appointments:
            for promoter in world["promoters"]:
                single = rules.booking_conflicts(session, promoter, appointment)
                assert _messages(single) == _messages(pairs[appointment.id, promoter]), (
                    appointment.id,
                    promoter,
                )

        # Appointment warnings: one at a time = the request page's batch.
        warnings = batch.appointment_warnings(session, list(appointments), "de")
        found_duplicates, found_weeks = set(), set()
        with force_locale("de"):
            for appointment in appointments:
                single = rules.appointment_conflicts(session, appointment)
                assert _messages(single) == _messages(warnings[appointment.id]), appointment.id
                if appointment.status in ACTIVE_APPOINTMENTS:
                    for other in rules.duplicate_appointments(session, appointment):
                        found_duplicates.add(frozenset((appointment.id, other.id)))
                    if any(c.kind == "week_full" for c in single):
                        found_weeks.add((appointment.job_id, week_of(appointment.date)[0]))

        # The conflicts page (SQL forms of the predicates) finds the same set.
        page = batch.current_conflicts(
            session, world["start"], world["days"][-1], world["ids"]["project"], "de"
        )
        assert {
            (frozenset((f.appointment.id, f.other.id)), f.promoter.id) for f in page["overlap"]
        } == found_overlap
        assert {(f.appointment.id, f.promoter.id) for f in page["unavailable"]} == found_unavailable
        assert {frozenset((f.appointment.id, f.other.id)) for f in page["duplicate"]} == found_duplicates
        assert {(f.job.id, f.day) for f in page["week_full"]} == found_weeks
        # The random data exercised every rule.
        assert found_overlap and found_unavailable and found_duplicates and found_weeks
        # The page's capped form: the first row of each kind (in the page's order), and the
        # count of all of them.
        capped = batch.current_conflicts(
            session, world["start"], world["days"][-1], world["ids"]["project"], "de", limit=1
        )
        for kind, rows in page.items():
            if kind == "week_full":
                continue  # always all
            assert capped[kind].total == len(rows), kind
            assert [f.conflict.message for f in capped[kind]] == [f.conflict.message for f in rows[:1]], kind
        session.rollback()


# ---------------------------------------------------------------- one promoter confirms


def test_confirming_withdraws_the_other_open_requests_and_tells_them(app, rows, mails):
    from app.models.planning import Booking
    from app.models.promoter import Promoter

    me, other = promoter_id(app, "promoter01"), promoter_id(app, "promoter02")
    tag = new_tag("wd")
    english = add_promoter(rows, tag, "Emily")
    _set(app, Promoter, english, language="en")
    store = add_store(rows, tag, demo_project_id(app))
    day = free_day(app, 11)
    mine = add_booking(rows, store["job"], me, day, TEN, SIX)
    appointment = mine["appointment"]
    theirs = rows.add(Booking, appointment_id=appointment, promoter_id=other, status="requested")
    emilys = rows.add(Booking, appointment_id=appointment, promoter_id=english, status="requested")
    declined = rows.add(
        Booking, appointment_id=appointment, promoter_id=add_promoter(rows, tag, "Dora"), status="declined"
    )

    html = (
        promoter_client(app)
        .post(f"/promoter/requests/{mine['booking']}/confirm", follow_redirects=True)
        .get_data(as_text=True)
    )
    assert [c for c, _t in flashes(html)] == ["success"]
    assert row(app, Booking, mine["booking"])["status"] == "confirmed"
    assert row(app, Booking, theirs)["status"] == "withdrawn"
    assert row(app, Booking, emilys)["status"] == "withdrawn"
    assert row(app, Booking, declined)["status"] == "declined"  # not open: left alone

    sent = {m["recipient"]: m for m in mails("booking_withdrawn")}
    assert set(sent) == {_email(app, other), _email(app, english)}
    name = _store(app, store["location"])
    assert sent[_email(app, other)]["language"] == "de"
    assert sent[_email(app, other)]["subject"] == f"Anfrage zurückgezogen: {name} am {_day(day, 'de')}"
    assert "ein anderer Promoter hat diesen Termin bestätigt" in sent[_email(app, other)]["body_text"]
    assert sent[_email(app, english)]["language"] == "en"
    assert sent[_email(app, english)]["subject"] == f"Request withdrawn: {name} on {_day(day, 'en')}"
    assert "/promoter/requests" in sent[_email(app, english)]["body_text"]

    # The other promoter's request is gone from their list; confirming it anyway says why.
    client = promoter_client(app, "promoter02")
    assert f'id="request-{theirs}"' not in client.get("/promoter/requests").get_data(as_text=True)
    html = client.post(f"/promoter/requests/{theirs}/confirm", follow_redirects=True).get_data(as_text=True)
    assert (
        "danger",
        "Ein anderer Promoter hat diesen Termin bestätigt; Ihre Anfrage wurde zurückgezogen.",
    ) in (flashes(html))
    client.get("/promoter/lang/en")
    html = client.post(f"/promoter/requests/{theirs}/confirm", follow_redirects=True).get_data(as_text=True)
    assert ("danger", "Another promoter has confirmed this appointment; your request was withdrawn.") in (
        flashes(html)
    )
    assert row(app, Booking, theirs)["status"] == "withdrawn"
    assert len(mails("booking_withdrawn")) == 2


def test_a_second_confirmation_of_the_same_appointment_is_refused(app, rows, mails):
    """Two confirmed requests on one appointment can only come from data made around the rules
    (or a race); the second confirmation is refused all the same."""
    from app.extensions import db
    from app.models.planning import Booking
    from app.staffing import operations

    tag = new_tag("two")
    store = add_store(rows, tag, demo_project_id(app))
    first, second = add_promoter(rows, tag, "Anna"), add_promoter(rows, tag, "Bert")
    made = add_booking(rows, store["job"], first, free_day(app, 12), TEN, SIX, status="confirmed")
    late = rows.add(Booking, appointment_id=made["appointment"], promoter_id=second, status="requested")
    with (
        app.test_request_context(),
        force_locale("en"),
        pytest.raises(operations.StaffingError, match="Another promoter has confirmed this appointment."),
    ):
        operations.confirm(db.session, late, second)
    assert row(app, Booking, late)["status"] == "requested"


# ---------------------------------------------------------------- cancelled or past appointments


@pytest.mark.parametrize(
    ("locale", "cancelled", "over"),
    [
        ("de", "Dieser Termin wurde abgesagt.", "Dieser Termin ist bereits vorbei."),
        ("en", "This appointment has been cancelled.", "This appointment is over."),
    ],
)
def test_confirming_a_cancelled_or_past_appointment_is_refused(app, rows, locale, cancelled, over):
    from app.models.planning import Appointment, Booking

    me = promoter_id(app, "promoter01")
    store = add_store(rows, new_tag("cp"), demo_project_id(app))
    gone = add_booking(rows, store["job"], me, free_day(app, 13), TEN, SIX)
    _set(app, Appointment, gone["appointment"], status="cancelled")
    past = add_booking(rows, store["job"], me, local_today(app) - dt.timedelta(days=2), TEN, SIX)
    client = promoter_client(app, locale=locale)

    for made, reason in ((gone, cancelled), (past, over)):
        html = client.post(f"/promoter/requests/{made['booking']}/confirm", follow_redirects=True).get_data(
            as_text=True
        )
        assert ("danger", reason) in flashes(html)
        assert row(app, Booking, made["booking"])["status"] == "requested"

    # The batch page says the same for each request.
    html = client.post(
        "/promoter/requests/batch",
        data={"action": "confirm", "step": "do", "booking": [str(gone["booking"]), str(past["booking"])]},
    ).get_data(as_text=True)
    results = re.findall(r'<tr class="danger batch-refused">(.*?)</tr>', html, re.S)
    assert len(results) == 2
    assert any(cancelled in r for r in results) and any(over in r for r in results)
    assert row(app, Booking, gone["booking"])["status"] == "requested"
    assert row(app, Booking, past["booking"])["status"] == "requested"


# ---------------------------------------------------------------- cancelling a confirmed booking


@pytest.fixture()
def confirmed(app, rows):
    """A confirmed booking of promoter01 (profile restored afterwards)."""
    from app.models.promoter import Promoter

    me = promoter_id(app, "promoter01")
    profile = {
        k: v for k, v in row(app, Promoter, me).items() if k in ("language", "phone", "postcode", "city")
    }
    store = add_store(rows, new_tag("cx"), demo_project_id(app))
    day = free_day(app, 14)
    made = add_booking(rows, store["job"], me, day, TEN, SIX, status="confirmed")
    yield {**made, **store, "day": day, "promoter": me}
    _set(app, Promoter, me, **profile)


def _ask_to_cancel(app, booking: int, reason: str = "Krank") -> str:
    client = promoter_client(app)
    asked = client.get(f"/promoter/requests/{booking}/decline").get_data(as_text=True)
    assert "Die Agentur bitten, diese bestätigte Buchung abzusagen?" in asked
    return client.post(
        f"/promoter/requests/{booking}/decline", data={"reason": reason}, follow_redirects=True
    ).get_data(as_text=True)


def _agency_action(app, name: str, booking: int) -> str:
    client = client_for(app, "agentur")
    answer = client.post("/bookingview/action_post", data={"action": name, "rowid": [str(booking)]})
    assert answer.status_code == 302
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def test_declining_a_confirmed_booking_asks_the_agency_who_grants_it(app, confirmed, mails):
    from app.audit.models import AuditEntry
    from app.models.planning import Booking
    from app.models.promoter import Promoter

    booking = confirmed["booking"]
    name, date = _store(app, confirmed["location"]), confirmed["day"].strftime("%d.%m.%Y")
    schedule = promoter_client(app).get("/promoter/schedule").get_data(as_text=True)
    assert f'href="/promoter/requests/{booking}/decline"' in schedule  # "Absage erbitten"

    # Without a reason nothing happens.
    client = promoter_client(app)
    assert client.post(f"/promoter/requests/{booking}/decline", data={"reason": " "}).status_code == 400
    assert row(app, Booking, booking)["cancel_requested_at"] is None

    html = _ask_to_cancel(app, booking, "Krank geworden")
    assert (
        "success",
        f"Die Agentur wurde gebeten, {name} am {date}, 10:00–18:00 abzusagen."
        " Die Buchung bleibt bestätigt, bis die Agentur antwortet.",
    ) in flashes(html)
    state = row(app, Booking, booking)
    assert state["status"] == "confirmed"
    assert state["cancel_reason"] == "Krank geworden" and state["cancel_requested_at"] is not None
    assert state["cancel_answer"] is None
    asked = mails("booking_cancel_requested")
    assert asked and all(m["language"] == "de" for m in asked)
    who = row(app, Promoter, confirmed["promoter"])
    assert asked[0]["subject"] == (
        f"{who['first_name']} {who['last_name']} bittet um Absage: {name} am {_day(confirmed['day'], 'de')}"
    )
    assert "Krank geworden" in asked[0]["body_text"] and "/bookingview/list/" in asked[0]["body_text"]
    # The schedule shows the open request; asking twice is refused, no second mail.
    schedule = promoter_client(app).get("/promoter/schedule").get_data(as_text=True)
    assert "Absage angefragt" in re.search(rf'<tr id="booking-{booking}">(.*?)</tr>', schedule, re.S).group(1)
    again = _ask_to_cancel_again(app, booking)
    assert ("warning", "Sie haben die Agentur bereits gebeten, diese Buchung abzusagen.") in flashes(again)
    assert len(mails("booking_cancel_requested")) == len(asked)

    # The Bookings screen shows the request; the agency grants it; the promoter hears in English.
    _set(app, Promoter, confirmed["promoter"], language="en")
    shown = client_for(app, "agentur").get(f"/bookingview/show/{booking}").get_data(as_text=True)
    assert "Absage-Anfrage" in shown and "Absage angefragt" in shown and "Krank geworden" in shown
    with db_session(app) as session:
        mark = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    html = _agency_action(app, "grant_cancellation", booking)
    assert "1 Buchungen wie gewünscht abgesagt." in agency_flashes(html)
    state = row(app, Booking, booking)
    assert state["status"] == "cancelled" and state["cancel_answer"] == "granted"
    told = mails("booking_cancel_granted")
    assert [m["recipient"] for m in told] == [_email(app, confirmed["promoter"])]
    assert told[0]["language"] == "en"
    assert told[0]["subject"] == f"Cancellation granted: {name} on {_day(confirmed['day'], 'en')}"
    with db_session(app) as session:
        audit = session.execute(
            select(AuditEntry.username, AuditEntry.changes).where(
                AuditEntry.id > mark, AuditEntry.entity == "booking", AuditEntry.entity_id == booking
            )
        ).all()
    assert [username for username, _changes in audit] == ["agentur"]
    assert "cancelled" in audit[0][1] and "granted" in audit[0][1]
    # Granting twice: refused with the reason, no second mail.
    html = _agency_action(app, "grant_cancellation", booking)
    assert any("Zu dieser Buchung liegt keine offene Absage-Anfrage vor." in m for m in agency_flashes(html))
    assert len(mails("booking_cancel_granted")) == 1


def _ask_to_cancel_again(app, booking: int) -> str:
    return (
        promoter_client(app)
        .post(f"/promoter/requests/{booking}/decline", data={"reason": "Nochmal"}, follow_redirects=True)
        .get_data(as_text=True)
    )


def test_the_agency_refuses_a_cancellation_request(app, confirmed, mails):
    from app.models.planning import Booking

    booking = confirmed["booking"]
    _ask_to_cancel(app, booking)
    html = _agency_action(app, "refuse_cancellation", booking)
    assert "1 Absage-Anfragen abgelehnt." in agency_flashes(html)
    state = row(app, Booking, booking)
    assert state["status"] == "confirmed" and state["cancel_answer"] == "refused"
    told = mails("booking_cancel_refused")
    assert [m["language"] for m in told] == ["de"]
    assert told[0]["subject"].startswith("Absage abgelehnt: ")
    assert "bleibt bestätigt" in told[0]["body_text"]
    schedule = promoter_client(app).get("/promoter/schedule").get_data(as_text=True)
    assert "Absage abgelehnt" in re.search(rf'<tr id="booking-{booking}">(.*?)</tr>', schedule, re.S).group(1)
    # After a refusal the promoter may ask again.
    html = _ask_to_cancel(app, booking, "Doch krank")
    assert [c for c, _t in flashes(html)] == ["success"]
    assert row(app, Booking, booking)["cancel_answer"] is None


def test_the_agency_actions_need_an_open_request(app, confirmed, mails):
    from app.models.planning import Booking

    booking = confirmed["booking"]
    before = row(app, Booking, booking)
    for action in ("grant_cancellation", "refuse_cancellation"):
        html = _agency_action(app, action, booking)
        assert any(
            "Zu dieser Buchung liegt keine offene Absage-Anfrage vor." in m for m in agency_flashes(html)
        )
    assert row(app, Booking, booking) == before
    assert not mails("booking_cancel_granted") and not mails("booking_cancel_refused")


# ---------------------------------------------------------------- application mails: one an hour


def test_withdrawing_mails_the_agency_at_most_once_an_hour(app, rows, mails, database_url):
    from app.models.planning import Application

    store = add_store(rows, new_tag("ap"), demo_project_id(app), status="open")
    job = store["job"]
    client = promoter_client(app)
    for _round in range(3):
        client.post(f"/promoter/jobs/{job}/apply")
        with db_session(app) as session:
            application = session.scalar(select(Application.id).where(Application.job_id == job))
        html = client.post(f"/promoter/applications/{application}/withdraw", follow_redirects=True).get_data(
            as_text=True
        )
        assert flashes(html)[-1][0] == "success" and "zurückgezogen" in flashes(html)[-1][1]
    rows.adopt(Application, application)
    assert row(app, Application, application)["status"] == "withdrawn"
    assert len(mails("application_withdrawn")) == 1  # applying sends none

    # Another web process (a second app on the same database) knows it too.
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "SERVER_NAME": None,
        }
    )
    try:
        elsewhere = promoter_client(other)
        elsewhere.post(f"/promoter/jobs/{job}/apply")
        elsewhere.post(f"/promoter/applications/{application}/withdraw")
        assert len(mails("application_withdrawn")) == 1

        # An hour later the next withdrawal is mailed again.
        sent = row(app, Application, application)["agency_mailed_at"]
        _set(app, Application, application, agency_mailed_at=sent - dt.timedelta(minutes=61))
        elsewhere.post(f"/promoter/jobs/{job}/apply")
        elsewhere.post(f"/promoter/applications/{application}/withdraw")
        assert len(mails("application_withdrawn")) == 2
    finally:
        with other.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()


# ---------------------------------------------------------------- mails in the promoter's language


def test_requests_are_mailed_in_the_promoters_language(app, rows, mails):
    from app.extensions import db
    from app.models.planning import Application, Appointment
    from app.models.promoter import Promoter
    from app.staffing import operations

    monday = next_monday(app, weeks=60)
    ids = make_campaign(rows, ("HH",), monday, monday + dt.timedelta(days=30))
    job = ids["jobs"]["HH"]
    german, english = add_promoter(rows, ids["tag"], "Gerd"), add_promoter(rows, ids["tag"], "Eve")
    _set(app, Promoter, english, language="en")
    for promoter in (german, english):
        rows.add(Application, promoter_id=promoter, job_id=job, status="accepted")
    appointment = rows.add(
        Appointment, job_id=job, date=monday, start_time=TEN, end_time=SIX, status="planned", version=1
    )
    with app.test_request_context():
        result = operations.request_promoters(
            db.session,
            [db.session.get(Appointment, appointment)],
            [db.session.get(Promoter, german), db.session.get(Promoter, english)],
        )
        for booking in result.created:
            rows.adopt(type(booking), booking.id)
    sent = {m["recipient"]: m for m in mails("booking_requests")}
    assert sent[_email(app, german)]["subject"] == "Anfrage für 1 Termin"
    assert sent[_email(app, english)]["subject"] == "Request for 1 appointment"


def test_the_profile_sets_the_language_of_mails(app, confirmed):
    from app.models.promoter import Promoter

    client = promoter_client(app)
    form = client.get("/promoter/profile").get_data(as_text=True)
    assert 'name="language"' in form and "Sprache der E-Mails" in form
    email = _email(app, confirmed["promoter"])
    assert client.post("/promoter/profile", data={"email": email, "language": "en"}).status_code == 302
    assert row(app, Promoter, confirmed["promoter"])["language"] == "en"
    assert client.post("/promoter/profile", data={"email": email, "language": "fr"}).status_code == 400
    assert row(app, Promoter, confirmed["promoter"])["language"] == "en"


# ---------------------------------------------------------------- the conflicts page: duplicates


@pytest.mark.parametrize(
    ("locale", "heading", "reason"),
    [
        ("de", "Doppelte Termine", "Weiterer Termin dieses Markts am selben Tag: 14:00–18:00"),
        ("en", "Duplicate appointments", "Another appointment of this store on the same day: 14:00–18:00"),
    ],
)
def test_the_conflicts_page_shows_duplicate_appointments(app, rows, locale, heading, reason):
    from app.models.planning import Appointment

    monday = next_monday(app, weeks=1)
    ids = make_campaign(rows, ("HH", "BY"), monday, monday + dt.timedelta(days=30), planned_days=None)
    hh, by = ids["jobs"]["HH"], ids["jobs"]["BY"]
    tue = monday + dt.timedelta(days=1)

    def add(job, start, end, status="planned", origin="agency"):
        return rows.add(
            Appointment,
            job_id=job,
            date=tue,
            start_time=start,
            end_time=end,
            status=status,
            origin=origin,
            version=1,
        )

    planned = add(hh, TEN, SIX)
    accepted = add(hh, TWO, SIX, origin="customer")  # an accepted proposal repeating the slot
    add(hh, dt.time(8), TEN)  # touching: no duplicate
    add(hh, TEN, SIX, status="cancelled")  # cancelled: none
    add(by, TEN, SIX)  # another store: none
    client = client_for(app, "agentur", locale=locale)
    html = client.get(f"/planning/conflicts/?project={ids['project']}&weeks=2").get_data(as_text=True)
    assert heading in html
    table = html.split('id="conflicts-duplicate"', 1)[1].split("</table>", 1)[0]
    found = re.findall(r'<tr data-appointment="(\d+)" data-other="(\d+)">(.*?)</tr>', table, re.S)
    assert [(int(a), int(b)) for a, b, _r in found] == [(planned, accepted)]
    assert reason in found[0][2]
