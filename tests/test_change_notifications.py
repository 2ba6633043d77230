"""Change notifications: an appointment cancelled, moved or newly planned by the agency is
told to its promoters at once and to the customer contacts who see it as each chose
(immediately, in the daily summary, or in the weekly mail), in their languages; the
calendar feeds carry the change."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from tests.test_wizard import demo, high_water, portal_client, remove_since, rows

TEN, SIX = dt.time(10, 0), dt.time(18, 0)
LOGINS = ("adm.nord", "adm.sued", "pos.marketing", "vertrieb")


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


@pytest.fixture()
def info(app):
    return demo(app)


@pytest.fixture()
def contacts(app):
    """The demo contacts by login (vertrieb reads English); their settings restored afterwards."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.crm import Contact
    from app.models.promoter import Promoter

    with app.app_context():
        found = {
            user.username: (contact.id, contact.email, contact.language)
            for contact, user in db.session.execute(
                select(Contact, User).join(User, User.id == Contact.user_id).where(User.username.in_(LOGINS))
            )
        }
        saved = db.session.execute(select(Contact.id, Contact.change_mail, Contact.digest_opt_out)).all()
        promoters = db.session.execute(select(Promoter.id, Promoter.language)).all()
    assert found["vertrieb"][2] == "en" and found["adm.nord"][2] == "de"
    yield found
    with app.app_context(), db.engine.begin() as conn:
        for pk, mode, opt_out in saved:
            conn.execute(
                update(Contact).where(Contact.id == pk).values(change_mail=mode, digest_opt_out=opt_out)
            )
        for pk, language in promoters:
            conn.execute(update(Promoter).where(Promoter.id == pk).values(language=language))


def choose(session, contacts, **modes) -> None:
    from app.models.crm import Contact

    for login, mode in modes.items():
        session.get(Contact, contacts[login][0]).change_mail = mode
    session.commit()


def promoter01(session):
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter

    return session.scalar(
        select(Promoter).join(User, User.id == Promoter.user_id).where(User.username == "promoter01")
    )


def booked(session, info, promoter, day: dt.date, status: str = "confirmed"):
    """A new planned appointment at the first northern demo store with ``promoter`` on it."""
    from app.models.planning import Appointment, Booking

    appointment = Appointment(
        job_id=info.north[0].job_id, date=day, start_time=TEN, end_time=SIX, status="planned", origin="agency"
    )
    session.add(appointment)
    session.flush()
    session.add(Booking(appointment=appointment, promoter=promoter, status=status))
    session.commit()
    return appointment


def mails(app, tidy) -> list[dict]:
    from app.outbox.models import OutboxMessage

    return rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"])


def by_recipient(found: list[dict]) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    for mail in found:
        result.setdefault(mail["recipient"], []).append(mail)
    return result


def future(info, days: int) -> dt.date:
    day = info.today + dt.timedelta(days=days)
    assert day <= info.end
    return day


# ---------------------------------------------------------------- visibility


def test_contacts_seeing_a_job_are_exactly_those_whose_scope_holds_it(app, session):
    """contacts_seeing(job) read against Scope for every demo contact and every job."""
    from app.models.crm import Contact
    from app.models.planning import Job
    from app.security.visibility import contacts_seeing, scope_for

    jobs = session.scalars(select(Job.id)).all()
    contacts = session.scalars(select(Contact)).all()
    seen_by_scope = {
        contact.id: set(session.scalars(scope_for(contact.user).job_ids()))
        if contact.user is not None and scope_for(contact.user).kind == "customer"
        else set()
        for contact in contacts
    }
    assert sum(bool(jobs) for jobs in seen_by_scope.values()) == 4
    for job in jobs:
        expected = {c for c, visible in seen_by_scope.items() if job in visible}
        assert {c.id for c in session.scalars(contacts_seeing(job))} == expected, job


# ---------------------------------------------------------------- cancelled


def test_cancelling_a_booked_appointment_tells_the_promoter_and_each_contact_as_chosen(
    app, session, tidy, info, contacts
):
    from app.changes.models import ChangeNotice
    from app.digests.compose import change_summary_digest, customer_week_digest
    from app.planning.operations import cancel_appointment

    choose(session, contacts, **{"adm.nord": "immediate", "pos.marketing": "daily", "vertrieb": "weekly"})
    promoter = promoter01(session)
    appointment = booked(session, info, promoter, future(info, 30))
    store = info.north[0].name
    cancel_appointment(session, appointment)

    now = by_recipient(mails(app, tidy))
    nord, sued, marketing, sales = (contacts[login][1] for login in LOGINS)
    assert set(now) == {promoter.email, nord}
    ((to_promoter,),) = [now[promoter.email]]
    assert to_promoter["kind"] == "appointment_change" and to_promoter["language"] == "de"
    assert to_promoter["subject"].startswith("Abgesagt: ") and store in to_promoter["subject"]
    assert "Ihre Buchung dafür ist storniert" in to_promoter["body_text"]
    assert "/promoter/schedule" in to_promoter["body_text"]
    ((to_nord,),) = [now[nord]]
    assert (to_nord["kind"], to_nord["language"]) == ("appointment_change", "de")
    assert f"/portal/appointments?store={info.north[0].location_id}" in to_nord["body_text"]
    assert "Ihre Buchung" not in to_nord["body_text"]

    # The daily contact: in the next summary, once, however often the job runs.
    assert change_summary_digest(session, info.today) == 1
    assert change_summary_digest(session, info.today) == 0
    (summary,) = [m for m in mails(app, tidy) if m["kind"] == "change_summary"]
    assert summary["recipient"] == marketing and summary["language"] == "de"
    assert f"Abgesagt: {store}" in summary["body_text"]

    # The weekly contact (English): only in the weekly mail, and only once.
    assert sales not in by_recipient(mails(app, tidy))
    customer_week_digest(session, info.today)
    weekly = by_recipient([m for m in mails(app, tidy) if m["kind"] == "digest_week"])
    (to_sales,) = weekly[sales]
    assert to_sales["language"] == "en"
    assert "Changed since the last weekly mail:" in to_sales["body_text"]
    assert f"Cancelled: {store}" in to_sales["body_text"]
    assert all("Abgesagt" not in m["body_text"] for m in weekly.get(nord, []) + weekly.get(marketing, []))
    # The southern field rep cannot see the store: no change mail, no change in the weekly mail.
    to_sued = [m for m in mails(app, tidy) if m["recipient"] == sued]
    assert all(m["kind"] == "digest_week" and store not in m["body_text"] for m in to_sued)
    # Every notice is sent now, nothing is told twice.
    pending = session.scalars(
        select(ChangeNotice).where(ChangeNotice.change.has(appointment_id=appointment.id))
    ).all()
    assert {n.contact_id for n in pending} == {
        contacts[login][0] for login in ("adm.nord", "pos.marketing", "vertrieb")
    }
    assert all(n.sent_at is not None and n.outbox_message_id for n in pending)


def test_a_summary_goes_out_at_most_once_a_day_and_the_next_day_takes_the_rest(
    app, session, tidy, info, contacts
):
    from app.digests.compose import change_summary_digest
    from app.planning.operations import cancel_appointment, move_appointment

    choose(session, contacts, **{"pos.marketing": "daily", "adm.nord": "daily", "vertrieb": "daily"})
    promoter = promoter01(session)
    first = booked(session, info, promoter, future(info, 31))
    cancel_appointment(session, first)
    assert change_summary_digest(session, info.today) == 3
    second = booked(session, info, promoter, future(info, 32))
    move_appointment(session, second, future(info, 33), TEN, SIX)
    assert change_summary_digest(session, info.today) == 0
    tomorrow = info.today + dt.timedelta(days=1)
    assert change_summary_digest(session, tomorrow) == 3
    assert change_summary_digest(session, tomorrow) == 0
    summaries = [m for m in mails(app, tidy) if m["kind"] == "change_summary"]
    assert len(summaries) == 6
    sales = [m for m in summaries if m["recipient"] == contacts["vertrieb"][1]]
    assert [m["language"] for m in sales] == ["en", "en"]
    assert "Cancelled:" in sales[0]["body_text"] and "Moved:" in sales[1]["body_text"]
    assert "Moved:" not in sales[0]["body_text"] and "Cancelled:" not in sales[1]["body_text"]


# ---------------------------------------------------------------- moved and planned


def test_moving_tells_the_booked_and_requested_promoters_in_their_language_and_every_contact(
    app, session, tidy, info, contacts
):
    from app.models.planning import Booking
    from app.models.promoter import Promoter
    from app.planning.operations import move_appointment

    choose(session, contacts, **dict.fromkeys(LOGINS, "immediate"))
    booked_one = promoter01(session)
    booked_one.language = "en"
    other = session.scalar(
        select(Promoter)
        .where(Promoter.id != booked_one.id, Promoter.email.is_not(None))
        .order_by(Promoter.id)
    )
    appointment = booked(session, info, booked_one, future(info, 34))
    session.add(Booking(appointment=appointment, promoter=other, status="requested"))
    session.commit()
    new_day = future(info, 35)
    move_appointment(session, appointment, new_day, dt.time(11, 0), dt.time(19, 0))

    now = by_recipient(mails(app, tidy))
    nord, sued, marketing, sales = (contacts[login][1] for login in LOGINS)
    assert set(now) == {booked_one.email, other.email, nord, marketing, sales}
    (english,) = now[booked_one.email]
    assert english["language"] == "en" and english["subject"].startswith("Moved: ")
    assert "10:00–18:00" in english["subject"] and "11:00–19:00" in english["subject"]
    assert "You are still booked for it" in english["body_text"]
    (german,) = now[other.email]
    assert german["language"] == "de" and german["subject"].startswith("Verschoben: ")
    assert now[sales][0]["subject"].startswith("Moved: ")
    assert now[nord][0]["subject"].startswith("Verschoben: ")
    assert f"date_from={new_day.isoformat()}" in now[nord][0]["body_text"]


def test_planning_tells_the_contacts_and_the_generator_sends_one_mail_per_contact(
    app, session, tidy, info, contacts
):
    from app.models.planning import Job
    from app.planning.generator import generate_appointments
    from app.planning.operations import plan_appointment

    choose(session, contacts, **dict.fromkeys(LOGINS, "immediate"))
    job = session.get(Job, info.north[0].job_id)
    plan_appointment(session, job, future(info, 36), TEN, SIX)
    first = by_recipient(mails(app, tidy))
    nord, sued, marketing, sales = (contacts[login][1] for login in LOGINS)
    assert set(first) == {nord, marketing, sales}
    assert first[nord][0]["subject"].startswith("Neu geplant: ")
    assert first[sales][0]["subject"].startswith("Newly planned: ")

    before = len(mails(app, tidy))
    monday = future(info, 42) - dt.timedelta(days=future(info, 42).weekday())
    # Early mornings: the demo's own appointments (during the day) do not block these days.
    plan = generate_appointments(
        session, job, monday, monday + dt.timedelta(days=13), [0, 2, 4], dt.time(6), dt.time(8), False, None
    )
    assert len(plan.created) >= 4
    batch = by_recipient(mails(app, tidy)[before:])
    assert set(batch) == {nord, marketing, sales}
    for recipient, found in batch.items():
        (mail,) = found
        assert mail["kind"] == "change_summary", recipient
        lines = [line for line in mail["body_text"].splitlines() if line.startswith("- ")]
        assert len(lines) == len(plan.created)


def test_a_contact_who_cannot_see_the_store_gets_nothing(app, session, tidy, info, contacts):
    from app.planning.operations import cancel_appointment, move_appointment

    choose(session, contacts, **dict.fromkeys(LOGINS, "immediate"))
    appointment = booked(session, info, promoter01(session), future(info, 37))
    move_appointment(session, appointment, future(info, 38), TEN, SIX)
    cancel_appointment(session, appointment)
    recipients = {m["recipient"] for m in mails(app, tidy)}
    assert contacts["adm.sued"][1] not in recipients
    assert contacts["adm.nord"][1] in recipients


# ---------------------------------------------------------------- the settings page


def test_the_contact_chooses_in_the_settings_and_a_weekly_choice_needs_the_weekly_mail(app, contacts):
    from app.extensions import db
    from app.models.crm import Contact

    client = portal_client(app, "adm.nord", lang="en")
    page = client.get("/portal/settings").get_data(as_text=True)
    assert 'name="change_mail"' in page and "Once a day, in a summary" in page

    def mode() -> str:
        with app.app_context():
            return db.session.get(Contact, contacts["adm.nord"][0]).change_mail

    saved = client.post(
        "/portal/settings", data={"weekly_mail": "y", "change_mail": "daily"}, follow_redirects=True
    )
    assert "Your settings have been saved." in saved.get_data(as_text=True)
    assert mode() == "daily"
    refused = client.post("/portal/settings", data={"change_mail": "weekly"})
    assert refused.status_code == 200
    assert "Changes only in the weekly mail need the weekly mail" in refused.get_data(as_text=True)
    assert mode() == "daily"
    assert (
        client.post("/portal/settings", data={"change_mail": "hourly", "weekly_mail": "y"}).status_code == 200
    )
    assert mode() == "daily"


# ---------------------------------------------------------------- calendar feeds


def _events(body: bytes) -> dict[str, object]:
    return {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


def test_the_feeds_carry_a_move_with_a_higher_sequence_and_keep_a_cancellation(
    app, session, tidy, info, contacts
):
    from app.models.crm import Contact
    from app.planning.operations import cancel_appointment, move_appointment
    from app.portal.feed import uid_of as customer_uid
    from app.promoter.feed import uid_of as promoter_uid

    promoter = promoter01(session)
    contact = session.get(Contact, contacts["adm.nord"][0])
    promoter_token, contact_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    saved = (promoter.feed_token, contact.feed_token)
    promoter.feed_token, contact.feed_token = promoter_token, contact_token
    session.commit()
    try:
        appointment = booked(session, info, promoter, future(info, 39))
        booking = appointment.bookings[0]
        client = app.test_client()

        def both():
            mine = _events(client.get(f"/promoter/feed/{promoter_token}.ics").data)[promoter_uid(booking)]
            theirs = _events(client.get(f"/portal/feed/{contact_token}.ics").data)[customer_uid(appointment)]
            return mine, theirs

        first = both()
        move_appointment(session, appointment, future(info, 40), dt.time(12, 0), SIX)
        moved = both()
        for before, after in zip(first, moved, strict=True):
            assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
            assert after.decoded("DTSTART").date() == future(info, 40)
            assert after.decoded("DTSTART").time() == dt.time(12, 0)
            assert str(after["STATUS"]) == "CONFIRMED"
        cancel_appointment(session, appointment)
        gone = both()
        for before, after in zip(moved, gone, strict=True):
            assert str(after["STATUS"]) == "CANCELLED"
            assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    finally:
        promoter.feed_token, contact.feed_token = saved
        session.commit()
