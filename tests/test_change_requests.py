"""Customer change requests: withdraw an own pending proposal; ask for an appointment in the
contact's territory to be cancelled or moved; the agency decides on the decision screen;
mails both ways in each recipient's language."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import select

from tests.conftest import visible_text
from tests.helpers import flashes
from tests.test_decision_screen import make_appointment, panel, promoter_id, tidied
from tests.test_decisions import agency
from tests.test_wizard import demo, find_day, local_date, portal_client, propose_directly, row, rows, t
from tests.test_wizard import flashes as _portal_flashes


@pytest.fixture()
def tidy(app):
    with tidied(app) as marks:
        yield marks


@pytest.fixture()
def info(app):
    return demo(app)


def portal_flashes(html: str) -> list[str]:
    """The customer system's flash messages (their texts)."""
    return [text for _kind, text in _portal_flashes(html)]


def mails(app, tidy, kind: str) -> list[dict]:
    from app.outbox.models import OutboxMessage

    return rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"], OutboxMessage.kind == kind)


def agency_addresses(app, project_id: int) -> list[str]:
    from app.extensions import db
    from app.rules.recipients import agency_recipients

    with app.app_context():
        try:
            return agency_recipients(db.session, project_id)
        finally:
            db.session.remove()


def changes(app, appointment_id: int) -> list[dict]:
    from app.models.planning import ChangeRequest

    return rows(app, ChangeRequest, ChangeRequest.appointment_id == appointment_id)


def ask(client, appointment_id: int, **data):
    return client.post(f"/portal/appointments/{appointment_id}/change", data=data)


def confirm(client, change_id: int, decision: str, reason: str = ""):
    """The agency's two steps: the card's form, then "Yes, …" on the confirmation page."""
    url = f"/proposals/changes/{change_id}/decide"
    page = client.post(url, data={"decision": decision, "reason": reason})
    if page.status_code == 200:
        assert 'id="confirm-form"' in page.get_data(as_text=True)
        page = client.post(url, data={"decision": decision, "reason": reason, "confirmed": "1"})
    assert page.status_code == 302
    return flashes(client.get("/proposals/").get_data(as_text=True))


@pytest.fixture()
def planned(app, tidy, info):
    """A planned appointment in adm.nord's territory with a confirmed promoter."""
    store, day = find_day(app, info, "free")
    promoter, _ = promoter_id(app)
    return store, day, make_appointment(app, store.job_id, day, booked=promoter)


# ---------------------------------------------------------------- withdraw a proposal


def test_withdraw_an_own_pending_proposal(app, tidy, info):
    from app.models.planning import Appointment

    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    client = portal_client(app)
    page = client.get(f"/portal/proposals/{pk}").get_data(as_text=True)
    assert f'href="/portal/proposals/{pk}/withdraw"' in page
    # The link asks first; nothing is changed by looking.
    confirm_page = client.get(f"/portal/proposals/{pk}/withdraw").get_data(as_text=True)
    assert t("Withdraw the proposal?", "de") in visible_text(confirm_page)
    assert row(app, Appointment, pk)["status"] == "proposed"

    answer = client.post(f"/portal/proposals/{pk}/withdraw")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/portal/proposals/{pk}")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert t("Your proposal has been withdrawn; the agency is informed.", "de") in portal_flashes(page)
    assert 'id="withdraw-proposal"' not in page
    after = row(app, Appointment, pk)
    assert after["status"] == "cancelled" and after["updated_by_id"] == info.customer_user_id

    sent = mails(app, tidy, "proposal_withdrawn")
    assert sorted(m["recipient"] for m in sent) == agency_addresses(app, info.project_id)
    assert all(m["language"] == "de" for m in sent)
    assert sent[0]["subject"] == t(
        "Proposal withdrawn: %(store)s on %(date)s", "de", store=store.name, date=local_date(day, "de")
    )
    assert f'id="proposal-{pk}"' not in agency(app).get("/proposals/").get_data(as_text=True)

    # Twice: nothing more happens, no second mail.
    client.post(f"/portal/proposals/{pk}/withdraw")
    assert len(mails(app, tidy, "proposal_withdrawn")) == len(sent)


def test_a_decided_proposal_cannot_be_withdrawn(app, tidy, info):
    from app.models.planning import Appointment

    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    agency(app).post(f"/proposals/{pk}/decide", data={"decision": "accept", "confirmed": "1"})
    client = portal_client(app)
    answer = client.post(f"/portal/proposals/{pk}/withdraw")
    shown = portal_flashes(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert t("This proposal has already been decided and can no longer be withdrawn.", "de") in shown
    assert row(app, Appointment, pk)["status"] == "planned"
    assert mails(app, tidy, "proposal_withdrawn") == []


def test_the_service_refuses_a_withdrawal_after_the_decision(app, tidy, info):
    """The agency decides between the customer's page and their click: the decision stands."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.crm import Contact
    from app.proposals import operations, rules

    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    with app.test_request_context():
        agent = db.session.get(User, info.agency_user_id)
        operations.decide(db.session, pk, agent, accept=False, reason="belegt")
        contact = db.session.get(Contact, info.contact_id)
        user = db.session.get(User, info.customer_user_id)
        with pytest.raises(rules.AlreadyDecided):
            operations.withdraw(db.session, pk, contact, user)
        db.session.remove()
    from app.models.planning import Appointment

    assert row(app, Appointment, pk)["status"] == "rejected"


@pytest.mark.parametrize("username", ["adm.sued", "pos.marketing"])
def test_others_cannot_withdraw(app, tidy, info, username):
    from app.models.planning import Appointment

    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    client = portal_client(app, username)
    assert client.get(f"/portal/proposals/{pk}/withdraw").status_code == 404
    assert client.post(f"/portal/proposals/{pk}/withdraw").status_code == 404
    assert row(app, Appointment, pk)["status"] == "proposed"


# ---------------------------------------------------------------- cancel


def test_cancel_request_end_to_end(app, tidy, info, planned):
    from app.audit.models import AuditEntry
    from app.models.planning import Appointment, Booking, ChangeRequest

    store, day, pk = planned
    client = portal_client(app)
    shown = f"/portal/appointments?job={store.job_id}&date_from={day.isoformat()}&date_to={day.isoformat()}"
    listing = client.get(shown).get_data(as_text=True)
    assert f'href="/portal/appointments/{pk}/change" class="change-link"' in listing
    form = client.get(f"/portal/appointments/{pk}/change").get_data(as_text=True)
    assert 'id="change-form"' in form and local_date(day, "de") in visible_text(form)

    answer = ask(client, pk, kind="cancel", reason="Markt wird umgebaut")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert t("Your request has been sent to the agency.", "de") in portal_flashes(page)
    assert 'id="pending-change"' in page and 'id="change-form"' not in page
    (change,) = changes(app, pk)
    assert (change["kind"], change["status"], change["reason"]) == (
        "cancel",
        "pending",
        "Markt wird umgebaut",
    )
    assert change["requested_by_id"] == info.contact_id

    new = mails(app, tidy, "change_request_new")
    assert sorted(m["recipient"] for m in new) == agency_addresses(app, info.project_id)
    assert new[0]["subject"] == t(
        "Cancellation requested: %(store)s on %(date)s", "de", store=store.name, date=local_date(day, "de")
    )
    assert (
        "Markt wird umgebaut" in new[0]["body_text"]
        and f"/proposals/#change-{change['id']}" in new[0]["body_text"]
    )

    office = agency(app)
    card = panel(office.get("/proposals/").get_data(as_text=True), f"change-{change['id']}")
    assert "Markt wird umgebaut" in card and local_date(day, "de") in visible_text(card)
    assert t("Promoters who will be told", "de") in visible_text(card)
    assert 'href="/planning/board/week?job=' in card

    # The first step only asks; the appointment stays.
    page = office.post(f"/proposals/changes/{change['id']}/decide", data={"decision": "accept"})
    assert page.status_code == 200 and row(app, Appointment, pk)["status"] == "planned"

    shown = confirm(office, change["id"], "accept")
    assert t("Change request accepted; the appointment is cancelled.", "de") in shown
    assert row(app, Appointment, pk)["status"] == "cancelled"
    assert {b["status"] for b in rows(app, Booking, Booking.appointment_id == pk)} == {"cancelled"}
    decided = row(app, ChangeRequest, change["id"])
    assert decided["status"] == "accepted" and decided["decided_by_id"] == info.agency_user_id

    (mail,) = mails(app, tidy, "change_request_decided")
    assert (mail["recipient"], mail["language"]) == (info.contact_email, "de")
    assert mail["subject"] == t(
        "Your change request was accepted: %(store)s on %(date)s",
        "de",
        store=store.name,
        date=local_date(day, "de"),
    )
    assert t("the agency has cancelled the appointment as you asked.", "de") in mail["body_text"]
    assert f"/portal/appointments/{pk}/change" in mail["body_text"]

    page = client.get(f"/portal/appointments/{pk}/change").get_data(as_text=True)
    assert re.search(r'class="change-state">([^<]+)<', page).group(1) == t("Accepted", "de")
    assert 'id="no-change"' in page  # a cancelled appointment takes no more requests

    # Audit: the request and the decision with who did them.
    entries = rows(
        app, AuditEntry, AuditEntry.entity == "change_request", AuditEntry.entity_id == change["id"]
    )
    assert {(e["action"], e["user_id"]) for e in entries} >= {
        ("create", info.customer_user_id),
        ("update", info.agency_user_id),
    }, entries


# ---------------------------------------------------------------- move


def test_move_request_in_english_and_its_warnings(app, tidy, info):
    from app.models.planning import Appointment

    store, day = find_day(app, info, "free", stores=info.south)
    pk = make_appointment(app, store.job_id, day)
    _, busy_day = find_day(app, info, "busy", stores=[store])
    client = portal_client(app, "vertrieb", "en")
    answer = ask(
        client,
        pk,
        kind="move",
        date=busy_day.isoformat(),
        start_time="09:00",
        end_time="17:00",
        reason="Sale",
    )
    assert answer.status_code == 302, portal_flashes(answer.get_data(as_text=True))
    (change,) = changes(app, pk)
    assert (change["new_date"], change["new_start_time"], change["new_end_time"]) == (
        busy_day,
        dt.time(9),
        dt.time(17),
    )
    (new,) = [m for m in mails(app, tidy, "change_request_new")][:1]
    assert new["language"] == "de"  # the agency's language
    assert t("New date and time", "de") in new["body_text"]

    office = agency(app, "en")
    card = panel(office.get("/proposals/").get_data(as_text=True), f"change-{change['id']}")
    assert "The store already has an appointment on this day." in visible_text(card)
    assert f'href="/planning/board/week?job={store.job_id}&amp;week={busy_day.isoformat()}"' in card

    shown = confirm(office, change["id"], "accept")
    assert "Change request accepted; the appointment is moved." in shown
    after = row(app, Appointment, pk)
    assert (after["date"], after["start_time"], after["end_time"]) == (busy_day, dt.time(9), dt.time(17))
    (mail,) = mails(app, tidy, "change_request_decided")
    assert mail["language"] == "en" and mail["recipient"] == "daniel.carter@supertoy.example"
    assert mail["subject"].startswith("Your change request was accepted: ")
    assert local_date(busy_day, "en") in mail["subject"]
    assert "the agency has moved the appointment as you asked." in mail["body_text"]


def test_reject_keeps_the_appointment_and_tells_the_reason(app, tidy, info, planned):
    from app.models.planning import Appointment

    store, day, pk = planned
    before = row(app, Appointment, pk)
    ask(portal_client(app), pk, kind="cancel", reason="Umbau")
    (change,) = changes(app, pk)
    office = agency(app)
    assert t("Please give a reason for the rejection.", "de") in confirm(office, change["id"], "reject", "  ")
    assert row(app, Appointment, pk) == before and changes(app, pk)[0]["status"] == "pending"

    shown = confirm(office, change["id"], "reject", "Aktion ist fest gebucht <Vertrag>")
    assert t("Change request rejected; the customer is informed.", "de") in shown
    assert row(app, Appointment, pk) == before
    (mail,) = mails(app, tidy, "change_request_decided")
    assert "Aktion ist fest gebucht <Vertrag>" in mail["body_text"]
    assert "&lt;Vertrag&gt;" in mail["body_html"] and "<Vertrag>" not in mail["body_html"]
    assert (
        t("the agency has rejected your change request; the appointment stays as it is.", "de")
        in mail["body_text"]
    )
    page = portal_client(app).get(f"/portal/appointments/{pk}/change").get_data(as_text=True)
    assert (
        re.search(r'class="change-reason">([^<]+)<', page).group(1)
        == "Aktion ist fest gebucht &lt;Vertrag&gt;"
    )
    # Rejected: the contact may ask again.
    assert 'id="change-form"' in page


# ---------------------------------------------------------------- refused input


def _errors(html: str) -> list[str]:
    return [
        visible_text(e).strip()
        for e in re.findall(r'class="help-block field-error">(.*?)</span>', html, re.S)
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "cancel", "reason": ""}, "Please give a reason."),
        ({"reason": "x"}, "Please choose whether to cancel or move the appointment."),
        ({"kind": "move", "reason": "x"}, "Please enter a date."),
        (
            {"kind": "move", "reason": "x", "date": "2000-01-03", "start_time": "09:00", "end_time": "10:00"},
            "The date lies in the past.",
        ),
        (
            {"kind": "move", "reason": "x", "date": "{day}", "start_time": "10:00", "end_time": "18:00"},
            "The new date and time are the same as now.",
        ),
        (
            {"kind": "move", "reason": "x", "date": "{day}", "start_time": "12:00", "end_time": "11:00"},
            "The end must be after the start.",
        ),
    ],
)
def test_refused_requests_change_nothing(app, tidy, planned, data, message):
    from app.outbox.models import OutboxMessage

    _, day, pk = planned
    data = {k: v.format(day=day.isoformat()) for k, v in data.items()}
    answer = ask(portal_client(app), pk, **data)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert t(message, "de") in _errors(html) + portal_flashes(html)
    assert changes(app, pk) == []
    assert rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"]) == []


def test_one_pending_request_per_appointment(app, tidy, info, planned):
    _, _, pk = planned
    client = portal_client(app)
    ask(client, pk, kind="cancel", reason="eins")
    html = ask(client, pk, kind="cancel", reason="zwei").get_data(as_text=True)
    assert 'id="pending-change"' in html
    assert [c["reason"] for c in changes(app, pk)] == ["eins"]
    assert len(mails(app, tidy, "change_request_new")) == len(agency_addresses(app, info.project_id))


@pytest.mark.parametrize("username", ["adm.sued"])
def test_appointments_outside_the_territory_are_404(app, tidy, planned, username):
    _, _, pk = planned
    client = portal_client(app, username)
    assert client.get(f"/portal/appointments/{pk}/change").status_code == 404
    assert ask(client, pk, kind="cancel", reason="fremd").status_code == 404
    assert changes(app, pk) == []


def test_the_service_refuses_an_invisible_appointment(app, tidy, info, planned):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.proposals import operations, rules
    from app.security.visibility import scope_for

    _, _, pk = planned
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "adm.sued"))
        scope = scope_for(user)
        contact = db.session.scalar(scope.contact())
        with pytest.raises(rules.NotVisible):
            operations.request_change(
                db.session, scope, contact, user, pk, rules.ChangeDraft(kind="cancel", reason="fremd")
            )
        db.session.remove()
    assert changes(app, pk) == []


# ---------------------------------------------------------------- two agency users


def test_two_agency_users_decide_at_once_one_wins(app, tidy, planned):
    from app.models.planning import Appointment

    _, _, pk = planned
    ask(portal_client(app), pk, kind="cancel", reason="Umbau")
    (change,) = changes(app, pk)
    n = 6
    clients = [agency(app) for _ in range(n)]
    barrier = threading.Barrier(n, timeout=60)
    answers: list = [None] * n

    def run(index: int) -> None:
        data = (
            {"decision": "accept", "confirmed": "1"}
            if index % 2
            else {
                "decision": "reject",
                "reason": f"Grund {index}",
                "confirmed": "1",
            }
        )
        barrier.wait()
        try:
            answers[index] = clients[index].post(f"/proposals/changes/{change['id']}/decide", data=data)
        except Exception as error:  # reported below
            answers[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [getattr(a, "status_code", a) for a in answers] == [302] * n
    shown = [flashes(c.get("/proposals/").get_data(as_text=True)) for c in clients]
    lost = [s for s in shown if t("This change request has already been decided by someone else.", "de") in s]
    assert len(lost) == n - 1, shown
    after = changes(app, pk)[0]
    assert after["status"] in ("accepted", "rejected")
    assert row(app, Appointment, pk)["status"] == (
        "cancelled" if after["status"] == "accepted" else "planned"
    )
    assert len(mails(app, tidy, "change_request_decided")) == 1


def test_accepting_a_request_for_an_appointment_cancelled_meanwhile(app, tidy, info, planned):
    """Planning refuses (already cancelled): the request stays pending, nobody is mailed."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.planning import Appointment
    from app.planning.operations import cancel_appointment

    _, _, pk = planned
    ask(portal_client(app), pk, kind="cancel", reason="Umbau")
    (change,) = changes(app, pk)
    with app.test_request_context():
        cancel_appointment(
            db.session, db.session.get(Appointment, pk), db.session.get(User, info.agency_user_id)
        )
        db.session.remove()
    shown = confirm(agency(app), change["id"], "accept")
    assert t("This appointment cannot be cancelled any more.", "de") in shown
    assert changes(app, pk)[0]["status"] == "pending"
    assert mails(app, tidy, "change_request_decided") == []


def test_the_proposals_page_title_is_text_only(app):
    """The list of own proposals and change requests: its window title is a title, not the table."""
    html = portal_client(app, "adm.nord").get("/portal/proposals/").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.startswith("Meine Terminvorschläge") and "<" not in title and "change-requests" not in title
    assert html.count('id="change-requests"') == 1
