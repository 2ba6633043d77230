"""Mail through the outbox, delivered to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, select

from app.models.crm import Location
from app.models.planning import Appointment, Job
from app.outbox.enqueue import enqueue
from app.outbox.models import OutboxMessage
from app.outbox.sender import send_pending
from tests.conftest import DEMO_PASSWORD
from tests.smtp import body_text, subject


def _login(client, path: str, username: str) -> None:
    answer = client.post(path, data={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 302 and "login" not in answer.headers["Location"]


def _propose(client, session, store_name: str, day: dt.date) -> Appointment:
    """Walk the customer's wizard with the test client; return the new proposal."""
    location = session.scalar(select(Location).where(Location.name == store_name))
    job = session.scalar(select(Job).where(Job.location_id == location.id))
    first = client.get("/portal/proposals/new")
    token = re.search(r"token=([0-9a-f]{32})", first.get_data(as_text=True)).group(1)
    step = client.post(
        f"/portal/proposals/new?token={token}", data={"project": job.project_id, "location": location.id}
    )
    assert step.status_code == 302, step.get_data(as_text=True)
    step = client.post(
        f"/portal/proposals/new/{token}/when",
        data={"date": day.isoformat(), "start_time": "10:00", "end_time": "15:00", "note": "Aktionstisch"},
    )
    assert step.status_code == 302
    done = client.post(f"/portal/proposals/new/{token}/review")
    assert done.status_code == 302
    appointment_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    session.expire_all()
    return session.get(Appointment, appointment_id)


def _deliver_all(session) -> None:
    for _ in range(5):
        if not send_pending(session).sent:
            break


@pytest.fixture()
def clean_outbox(session):
    """Earlier tests' mails must not be sent to this test's SMTP server."""
    session.execute(delete(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"])))
    session.commit()
    yield
    session.execute(delete(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"])))
    session.commit()


@pytest.mark.parametrize("decision", ["accept", "reject"])
@pytest.mark.parametrize(
    ("username", "store", "words"),
    [
        ("adm.nord", "Media Markt Hamburg-Altona", ("angenommen", "abgelehnt", "Begründung")),
        ("vertrieb", "Media Markt München-Pasing", ("accepted", "rejected", "Reason")),
    ],
)
def test_proposal_and_decision_mails_reach_both_sides_in_their_language(
    app, session, smtp_server, clean_outbox, username, store, words, decision
):
    from tests.conftest import login

    customer = app.test_client()
    _login(customer, "/portal/login", username)
    day = _future_day(session, store)
    proposal = _propose(customer, session, store, day)
    contact_email = proposal.proposed_by.email
    agency_email = "agentur@promoplan.example"
    try:
        _deliver_all(session)
        to_agency = [m for m in smtp_server.mailbox.to(agency_email) if store in subject(m)]
        assert len(to_agency) == 1
        assert store in body_text(to_agency[0])
        assert "/proposals/" in body_text(to_agency[0])

        agency = app.test_client()
        login(agency, "agentur")
        accepted, rejected, reason_word = words
        answer = agency.post(
            f"/proposals/{proposal.id}/decide",
            data={"decision": decision, "reason": "Kein Promoter frei", "confirmed": "1"},
        )
        assert answer.status_code == 302
        _deliver_all(session)
        to_customer = smtp_server.mailbox.to(contact_email)
        assert len(to_customer) == 1
        text = body_text(to_customer[0])
        assert f"/portal/proposals/{proposal.id}" in text
        if decision == "reject":
            assert rejected in subject(to_customer[0])
            assert reason_word in text and "Kein Promoter frei" in text
        else:
            assert accepted in subject(to_customer[0])
            assert "Kein Promoter frei" not in text
    finally:
        session.execute(delete(Appointment).where(Appointment.id == proposal.id))
        session.commit()


def _future_day(session, store: str) -> dt.date:
    from app.common.timezone import local_today

    return local_today() + dt.timedelta(days=9)


def _queue(session, recipient: str) -> OutboxMessage:
    message = enqueue(session, "digest_pending", recipient, "de", proposals=[], link="http://x/")
    session.commit()
    return message


def test_nothing_is_lost_while_smtp_is_down_and_nothing_is_sent_twice(
    app, session, smtp_server, clean_outbox
):
    smtp_server.stop()
    queued = [_queue(session, f"planer{i}@promoplan.example") for i in range(3)]
    for _ in range(4):
        result = send_pending(session)
        assert result.sent == 0 and result.retried == 3
    for message in queued:
        session.refresh(message)
        assert message.status == "pending" and message.attempts == 4
        assert "Connection" in message.last_error or "refused" in message.last_error.lower()

    smtp_server.start()
    assert send_pending(session).sent == 3
    assert send_pending(session).sent == 0
    for i, message in enumerate(queued):
        received = smtp_server.mailbox.to(f"planer{i}@promoplan.example")
        assert len(received) == 1
        assert received[0]["Message-ID"] == message.message_id
        session.refresh(message)
        assert message.status == "sent" and message.sent_at is not None


def test_a_permanent_refusal_fails_the_mail_and_is_not_retried(app, session, smtp_server, clean_outbox):
    smtp_server.mailbox.refuse.add("gibtsnicht@promoplan.example")
    bounced = _queue(session, "gibtsnicht@promoplan.example")
    fine = _queue(session, "da@promoplan.example")
    result = send_pending(session)
    assert (result.sent, result.failed, result.retried) == (1, 1, 0)
    session.refresh(bounced)
    assert bounced.status == "failed" and bounced.attempts == 1
    assert "550" in bounced.last_error
    assert send_pending(session).failed == 0
    session.refresh(bounced)
    assert bounced.attempts == 1
    assert len(smtp_server.mailbox.to("da@promoplan.example")) == 1
    session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_([bounced.id, fine.id])))
    session.commit()


def test_failed_mails_show_in_the_agency_outbox(app, session, agency_client):
    message = _queue(session, "kaputt@promoplan.example")
    message.status = "failed"
    message.last_error = "SMTPRecipientsRefused: 550 No such user"
    session.commit()
    try:
        page = agency_client.get("/outboxview/list/?_flt_0_status=failed")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "kaputt@promoplan.example" in html and "550 No such user" in html
    finally:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id == message.id))
        session.commit()


def test_outbox_row_is_written_in_the_same_transaction_as_the_proposal(app, session, clean_outbox):
    """A proposal that is rolled back leaves no mail behind."""
    before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    _queue_uncommitted = enqueue(
        session, "digest_pending", "x@promoplan.example", "de", proposals=[], link="x"
    )
    assert _queue_uncommitted.id is None
    session.rollback()
    after = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    assert after == before


def test_a_failed_digest_is_sent_again_from_the_outbox_screen(
    app, session, smtp_server, clean_outbox, agency_client
):
    """The once-a-day marker stops a second digest, not the failed one from being sent again."""
    from app.common.timezone import local_today
    from app.digests.compose import agency_pending_digest
    from app.digests.models import DigestRun

    agency_email = "agentur@promoplan.example"
    day = local_today() + dt.timedelta(days=300)
    smtp_server.mailbox.refuse.add(agency_email)
    assert agency_pending_digest(session, day) == 1
    digest = session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "digest_pending").order_by(OutboxMessage.id.desc())
    )
    try:
        assert send_pending(session).failed == 1
        session.refresh(digest)
        assert digest.status == "failed" and "550" in digest.last_error
        assert agency_pending_digest(session, day) == 0

        smtp_server.mailbox.refuse.clear()
        answer = agency_client.post("/outboxview/action_post", data={"action": "retry", "rowid": [digest.id]})
        assert answer.status_code == 302
        session.refresh(digest)
        assert (digest.status, digest.attempts) == ("pending", 0)
        assert send_pending(session).sent == 1
        (received,) = smtp_server.mailbox.to(agency_email)
        assert received["Message-ID"] == digest.message_id
        assert subject(received) == digest.subject
        session.refresh(digest)
        assert digest.status == "sent"
        assert agency_pending_digest(session, day) == 0
    finally:
        session.execute(delete(DigestRun).where(DigestRun.period == day.isoformat()))
        session.execute(delete(OutboxMessage).where(OutboxMessage.id == digest.id))
        session.commit()
