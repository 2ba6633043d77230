"""Every kind of mail, with worst-case content, through aiosmtpd with its default limits.

aiosmtpd refuses any line over 998 octets (RFC 5321 4.5.3.1.6) like Postfix
does; what it accepts is parsed back with the standard library and compared
with what the outbox row says: every mail arrives, the subject decodes to
exactly the stored text, the long notes and reasons are in the text part.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import uuid
from email.header import decode_header, make_header
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, insert, select, update

from tests.review_helpers import make_review_data
from tests.smtp import body_text
from tests.test_wizard import demo, high_water, remove_since, rows

UMLAUT_STORES = ("Media Markt Hannover-Wülfel", "Media Markt Lübeck-Buntekuh")
# One line each, far beyond 998 octets in UTF-8; stored trimmed, as the app does.
NOTE = ("Bitte Aktionsfläche vor Kasse 3 aufbauen – Größe 2×3 m, Übergabe an Frau Müller 🎉🧸. " * 60)[
    :5000
].strip()
TASK_TITLE = "Rückruf Frau Groß wegen Übergabe der Aktionsfläche in Hannover-Wülfel 🧸 " * 3
REASON = ("Leider kein Promoter frei: Weihnachtsgeschäft, Rückruf bei Jürgen Weiß 📞. " * 40)[:3000].strip()
#: The longest return comment the review accepts (COMMENT_MAX), with a 1,200-character run
#: without spaces (a pasted link) that must still be folded to legal line lengths.
RETURN_COMMENT = (
    "Bitte Fotos nachreichen: https://example.com/" + "ä" * 1200 + " " + REASON + " Größe 2×3 m 🧸. " * 80
)[:4000]


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


@pytest.fixture()
def info(app):
    return demo(app)


@pytest.fixture()
def umlaut_stores(app, info):
    """Two northern demo stores renamed to names whose umlauts sit inside a word."""
    from app.extensions import db
    from app.models.crm import Location

    stores = info.north[:2]
    with app.app_context(), db.engine.begin() as conn:
        for store, name in zip(stores, UMLAUT_STORES, strict=True):
            conn.execute(update(Location).where(Location.id == store.location_id).values(name=name))
    yield stores
    with app.app_context(), db.engine.begin() as conn:
        for store in stores:
            conn.execute(update(Location).where(Location.id == store.location_id).values(name=store.name))


@pytest.fixture()
def no_test_tasks(app):
    yield
    from app.extensions import db
    from app.models.crm import Task

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(Task).where(Task.title.like(f"%{TASK_TITLE[:40]}%")))


@pytest.fixture()
def review_rows(app, umlaut_stores):
    """A published day questionnaire and a promoter of the test's own at the first umlaut store."""
    made = make_review_data(app, job_id=umlaut_stores[0].job_id)
    yield made
    made.cleanup()


@pytest.fixture()
def empty_outbox(session):
    """Earlier tests' undelivered mails must not reach this test's SMTP server.

    Asked for before ``tidy``: SQLite reuses the ids of deleted rows, so the outbox's high-water
    mark must be taken after this clean-up, or this test's own mails fall below it.
    """
    from app.outbox.models import OutboxMessage

    session.execute(delete(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"])))
    session.commit()


def _insert_appointments(session, jobs: list[int], first_day: dt.date, count: int, **values) -> None:
    from app.models.planning import Appointment

    now = dt.datetime(2026, 1, 1)
    session.execute(
        insert(Appointment),
        [
            {
                "job_id": jobs[i % len(jobs)],
                "date": first_day + dt.timedelta(days=i % 7),
                "start_time": dt.time(8 + i % 8, 0),
                "end_time": dt.time(17, 0),
                "created_at": now,
                "updated_at": now,
                "version": 1,
                **values,
            }
            for i in range(count)
        ],
    )
    session.commit()


def _queue_every_kind(session, info, stores) -> None:
    """Each mail kind once or more, through the code that queues it in the app."""
    from flask_appbuilder.security.sqla.models import User

    from app.digests.compose import agency_pending_digest, customer_week_digest
    from app.models.crm import Contact, Task
    from app.models.planning import Appointment, Job
    from app.models.promoter import Promoter
    from app.outbox.enqueue import enqueue
    from app.proposals.operations import decide, propose
    from app.proposals.rules import ProposalDraft
    from app.security.visibility import Scope

    customer = session.scalar(select(User).where(User.username == "adm.nord"))
    contact = session.scalar(select(Contact).where(Contact.user_id == customer.id))
    agency = session.scalar(select(User).where(User.username == "agentur"))
    store = stores[0]
    draft = ProposalDraft(
        project_id=info.project_id,
        location_id=store.location_id,
        date=info.today + dt.timedelta(days=9),
        start_time=dt.time(10, 0),
        end_time=dt.time(15, 0),
        note=NOTE,
    )
    proposal, created = propose(
        session, Scope("customer", customer.id), contact, customer, draft, uuid.uuid4().hex
    )
    assert created
    decide(session, proposal.id, agency, accept=False, reason=REASON)

    north_jobs = [s.job_id for s in info.north]
    _insert_appointments(
        session,
        north_jobs,
        info.today + dt.timedelta(days=20),
        100,
        status="proposed",
        origin="customer",
        proposed_by_id=contact.id,
        note=NOTE,
    )
    digest_day = info.today + dt.timedelta(days=400)
    session.execute(
        insert(Task),
        [
            {"title": f"{i:02d} {TASK_TITLE}"[:200], "kind": "call", "due_date": digest_day}
            | {"assignee_id": agency.id, "contact_id": contact.id, "done": False}
            for i in range(30)
        ],
    )
    session.commit()
    assert agency_pending_digest(session, digest_day) == 1

    friday = info.today - dt.timedelta(days=info.today.weekday()) + dt.timedelta(days=14 + 4)
    assert friday + dt.timedelta(days=10) <= info.end
    _insert_appointments(
        session, north_jobs, friday + dt.timedelta(days=3), 500, status="planned", origin="agency"
    )
    # The demo's customers get the weekly mail (another test file may have switched a
    # contact's weekly mail off through the portal's settings page).
    session.execute(update(Contact).where(Contact.user_id.is_not(None)).values(digest_opt_out=False))
    session.commit()
    assert customer_week_digest(session, friday) >= 2

    promoter = session.scalar(select(Promoter).where(Promoter.email.is_not(None)).order_by(Promoter.id))
    week = list(
        session.scalars(
            select(Appointment)
            .where(Appointment.job_id == store.job_id, Appointment.date >= info.today)
            .order_by(Appointment.date)
            .limit(60)
        )
    )
    job = session.get(Job, store.job_id)
    enqueue(
        session,
        "booking_requests",
        promoter.email,
        "de",
        promoter=promoter,
        bookings=[SimpleNamespace(appointment=a) for a in week],
        link="https://promoter.example/promoter/",
    )
    _queue_changes(session, info, store, promoter)
    _queue_requests_and_accounts(session, info, store, contact, week[0])
    _queue_monthly_report(session, info, contact)
    enqueue(
        session,
        "booking_released",
        promoter.email,
        "de",
        promoter=promoter,
        booking=SimpleNamespace(appointment=week[0]),
        link="https://promoter.example/promoter/",
    )
    for kind, extra in (
        ("booking_declined", {"appointment": week[0]}),
        ("application_withdrawn", {"job": job}),
        ("booking_cancel_requested", {"appointment": week[0], "reason": "Krank – Fieber über 39 °C " * 20}),
        ("booking_withdrawn", {"appointment": week[0]}),
        ("booking_cancel_granted", {"appointment": week[0]}),
        ("booking_cancel_refused", {"appointment": week[0]}),
    ):
        enqueue(
            session, kind, "agentur@promoplan.example", "de", promoter=promoter, link="https://x/", **extra
        )
    session.commit()


def _queue_monthly_report(session, info, contact) -> None:
    """Last month's campaign report with its PDF attached (the schedule is removed again)."""
    from app.digests.monthly_reports import send_monthly_reports
    from app.models.planning import Project
    from app.reporting.schedules import save_schedule

    plan = save_schedule(session, session.get(Project, info.project_id), [contact])
    try:
        assert send_monthly_reports(session, info.today.replace(day=1)) == 1
    finally:
        session.delete(plan)
        session.commit()


def _queue_requests_and_accounts(session, info, store, contact, appointment) -> None:
    """Change requests, a withdrawn proposal, an invitation and a password reset."""
    from app.models.crm import Location
    from app.outbox.enqueue import enqueue

    location = session.get(Location, store.location_id)
    change = SimpleNamespace(
        kind="move",
        reason=REASON,
        new_date=appointment.date + dt.timedelta(days=1),
        new_start_time=dt.time(9),
        new_end_time=dt.time(17),
        decision_reason=REASON,
    )
    common = {"contact": contact, "location": location, "appointment": appointment, "link": "https://x/"}
    enqueue(session, "change_request_new", "agentur@promoplan.example", "de", change=change, **common)
    enqueue(session, "change_request_decided", contact.email, "de", change=change, accepted=False, **common)
    enqueue(session, "proposal_withdrawn", "agentur@promoplan.example", "de", **common)
    for kind, extra in (("account_invite", {"system": "promoter"}), ("password_reset", {})):
        enqueue(
            session,
            kind,
            contact.email,
            "de",
            name="Zoë Ünal-Çelik",
            username="zoe.uenal@supertoy.example",
            link="https://x/" + "ä" * 10,
            hours=48,
            **extra,
        )
    session.commit()


def _queue_reports(session, review_rows) -> None:
    """A day report returned with a long comment, and a missing report reminded, through the
    operations that queue them."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.reporting import Report
    from app.reporting.operations import COMMENT_MAX, remind_missing_reports, return_report

    day = dt.date.today() - dt.timedelta(days=3)
    returned = review_rows.report(review_rows.appointment(day))
    review_rows.appointment(day, start=dt.time(6), end=dt.time(8))
    agency = session.scalar(select(User).where(User.username == "agentur"))
    assert len(RETURN_COMMENT) == COMMENT_MAX
    return_report(session, session.get(Report, returned), agency, RETURN_COMMENT)
    assert remind_missing_reports(session) >= 1


def _queue_changes(session, info, store, promoter) -> None:
    """A booked appointment at the umlaut store moved and cancelled: mails to the promoter and
    the contacts at once, and (pos.marketing chose "daily") the day's change summary."""
    from flask_appbuilder.security.sqla.models import User

    from app.digests.compose import change_summary_digest
    from app.models.crm import Contact
    from app.models.planning import Appointment, Booking
    from app.planning.operations import cancel_appointment, move_appointment

    daily = session.scalar(
        select(Contact).join(User, User.id == Contact.user_id).where(User.username == "pos.marketing")
    )
    daily.change_mail = "daily"
    day = info.today + dt.timedelta(days=11)
    appointment = Appointment(
        job_id=store.job_id, date=day, start_time=dt.time(6), end_time=dt.time(8), note=NOTE
    )
    session.add(appointment)
    session.flush()
    session.add(Booking(appointment=appointment, promoter=promoter, status="confirmed"))
    session.commit()
    try:
        move_appointment(session, appointment, day + dt.timedelta(days=1), dt.time(6), dt.time(9))
        cancel_appointment(session, appointment)
        assert change_summary_digest(session, info.today + dt.timedelta(days=401)) == 1
    finally:
        daily.change_mail = "immediate"
        session.commit()


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").rstrip("\n").split("\n")


def _deliver_everything(session) -> None:
    from app.outbox.sender import send_pending

    for _ in range(5):
        result = send_pending(session, batch=100)
        assert result.failed == 0 and result.retried == 0, result
        if not result.sent:
            return


def test_every_mail_kind_with_worst_case_content_arrives_intact(
    app, session, empty_outbox, tidy, info, umlaut_stores, no_test_tasks, review_rows, smtp_server
):
    from app.common.choices import MAIL_KINDS
    from app.outbox.models import OutboxMessage

    _queue_every_kind(session, info, umlaut_stores)
    _queue_reports(session, review_rows)
    queued = rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"])
    kinds = {m["kind"] for m in queued}
    assert kinds == set(MAIL_KINDS)
    _deliver_everything(session)

    received = {}
    for raw in smtp_server.mailbox.raw:
        longest = max(len(line) for line in raw.split(b"\r\n"))
        assert longest <= 998
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        received.setdefault(parsed["Message-ID"], []).append((raw, parsed))
    assert sorted(received) == sorted(m["message_id"] for m in queued)
    assert all(len(copies) == 1 for copies in received.values())

    for mail in queued:
        ((raw, parsed),) = received[mail["message_id"]]
        # Both the modern and the classic decoder give back exactly the stored subject.
        assert parsed["Subject"] == mail["subject"], mail["kind"]
        classic = email.message_from_bytes(raw)
        assert str(make_header(decode_header(classic["Subject"]))) == mail["subject"], mail["kind"]
        assert parsed["To"] == mail["recipient"]
        # Line ends in mail are CRLF; apart from that the parts are the stored text.
        assert _lines(body_text(classic)) == _lines(mail["body_text"]), mail["kind"]
        assert _lines(parsed.get_body(("html",)).get_content()) == _lines(mail["body_html"]), mail["kind"]

    by_kind = {m["kind"]: received[m["message_id"]][0][1] for m in queued}
    assert UMLAUT_STORES[0] in by_kind["proposal_new"]["Subject"]
    assert UMLAUT_STORES[0] in by_kind["booking_declined"]["Subject"]
    changed = [received[m["message_id"]][0][1] for m in queued if m["kind"] == "appointment_change"]
    assert len(changed) >= 2 and all(UMLAUT_STORES[0] in mail["Subject"] for mail in changed)
    assert UMLAUT_STORES[0] in by_kind["change_summary"].get_body(("plain",)).get_content()
    assert NOTE in by_kind["proposal_new"].get_body(("plain",)).get_content()
    assert REASON in by_kind["proposal_decided"].get_body(("plain",)).get_content()
    assert REASON in by_kind["change_request_new"].get_body(("plain",)).get_content()
    assert RETURN_COMMENT in by_kind["report_returned"].get_body(("plain",)).get_content()
    assert UMLAUT_STORES[0] in by_kind["report_returned"]["Subject"]
    assert UMLAUT_STORES[0] in by_kind["report_missing"]["Subject"]
    week_html = [
        received[m["message_id"]][0][1].get_body(("html",)).get_content()
        for m in queued
        if m["kind"] == "digest_week" and m["recipient"] == info.contact_email
    ][0]
    # One table row per line: the HTML stays readable in any mail program's source view.
    assert sum(1 for line in week_html.splitlines() if line.startswith("<tr>")) >= 500
    digest = by_kind["digest_pending"].get_body(("plain",)).get_content()
    assert sum(1 for line in digest.splitlines() if line.startswith("- ")) >= 100 + 30
    assert f"29 {TASK_TITLE}"[:200] in digest


def test_without_mail_server_the_file_holds_the_bytes_smtp_gets(
    app, session, empty_outbox, tidy, info, umlaut_stores, smtp_server, tmp_path
):
    """The demo's .eml files are the very message SMTP receives, and a re-send is identical."""
    from app.models.planning import Appointment
    from app.outbox.enqueue import enqueue
    from app.outbox.models import OutboxMessage
    from app.outbox.sender import send_pending

    appointment = session.scalar(
        select(Appointment).where(Appointment.job_id == umlaut_stores[1].job_id).limit(1)
    )
    enqueue(
        session,
        "booking_declined",
        "agentur@promoplan.example",
        "de",
        promoter=SimpleNamespace(full_name="Zoë Ünal-Çelik"),
        appointment=appointment,
        link="https://x/",
    )
    session.commit()
    assert send_pending(session).sent == 1
    (over_smtp,) = smtp_server.mailbox.raw
    assert UMLAUT_STORES[1] in email.message_from_bytes(over_smtp, policy=email.policy.default)["Subject"]

    (mail,) = rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"])
    session.execute(update(OutboxMessage).where(OutboxMessage.id == mail["id"]).values(status="pending"))
    session.commit()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_FOLDER")}
    app.config.update(MAIL_SERVER="", MAIL_FOLDER=str(tmp_path))
    try:
        assert send_pending(session).sent == 1
    finally:
        app.config.update(saved)
    written = (tmp_path / f"{mail['id']:06d}-booking_declined.eml").read_bytes()
    assert written.rstrip(b"\r\n") == over_smtp.rstrip(b"\r\n")
