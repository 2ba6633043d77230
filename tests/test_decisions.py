"""The agency decides on customer proposals: /proposals/ (accept, reject with a reason)."""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import pytest

from tests.conftest import login, set_language, visible_text
from tests.helpers import flashes, menu_links
from tests.test_wizard import (
    count,
    demo,
    find_day,
    high_water,
    local_date,
    portal_client,
    propose_directly,
    remove_since,
    row,
    rows,
    t,
)

ALREADY = "This proposal has already been decided by someone else (or no longer exists)."


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


@pytest.fixture()
def info(app):
    return demo(app)


@pytest.fixture()
def proposal(app, tidy, info) -> int:
    store, day = find_day(app, info, "free")
    return propose_directly(app, store, day, note="Bitte mit Vorführung")


def agency(app, lang: str | None = None):
    client = app.test_client()
    login(client, "agentur")
    if lang:
        set_language(client, lang)
    return client


def pending_count(app) -> int:
    from app.models.planning import Appointment

    return count(app, Appointment, Appointment.status == "proposed")


def decided_mails(app, tidy) -> list[dict]:
    from app.outbox.models import OutboxMessage

    return rows(
        app, OutboxMessage, OutboxMessage.id > tidy["outbox"], OutboxMessage.kind == "proposal_decided"
    )


def decide(client, pk: int, decision: str | None, reason: str | None = None):
    """Post a decision as the confirmation step does (``confirmed=1``)."""
    data = {"confirmed": "1"}
    if decision is not None:
        data["decision"] = decision
    if reason is not None:
        data["reason"] = reason
    answer = client.post(f"/proposals/{pk}/decide", data=data)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/proposals/"), (
        answer.status_code
    )
    return flashes(client.get("/proposals/").get_data(as_text=True))


# ---------------------------------------------------------------- the list


@pytest.mark.parametrize("lang", ["de", "en"])
def test_pending_proposals_are_listed_with_their_count_in_the_menu(app, proposal, info, lang):
    from app.models.planning import Appointment

    client = agency(app, None if lang == "de" else lang)
    html = client.get("/proposals/").get_data(as_text=True)
    pending = pending_count(app)
    assert pending >= 1
    assert menu_links(html)["/proposals/"] == t("Proposals (%(count)d)", lang, count=pending)
    assert re.search(r'<small id="pending-count">(\d+)</small>', html).group(1) == str(pending)
    assert t("Proposals awaiting a decision", lang) in visible_text(html)
    ids = re.findall(r'id="proposal-(\d+)"', html)
    expected = [str(r["id"]) for r in rows(app, Appointment, Appointment.status == "proposed")]
    assert sorted(ids) == sorted(expected)
    panel = re.search(rf'id="proposal-{proposal}">(.*?)</form>', html, re.S).group(1)
    saved = row(app, Appointment, proposal)
    assert local_date(saved["date"], lang) in visible_text(panel)
    assert t("proposed by %(name)s", lang, name="Jan Petersen") in visible_text(panel)
    assert "Bitte mit Vorführung" in panel

    # Deciding takes it off the list, and the menu counts one less.
    decide(client, proposal, "accept")
    html = client.get("/proposals/").get_data(as_text=True)
    assert f'id="proposal-{proposal}"' not in html
    assert menu_links(html)["/proposals/"] == t("Proposals (%(count)d)", lang, count=pending - 1)


# ---------------------------------------------------------------- accept and reject


def test_accept(app, tidy, proposal, info):
    from app.common.models import utcnow
    from app.models.planning import Appointment

    client = agency(app)
    before = row(app, Appointment, proposal)
    shown = decide(client, proposal, "accept")
    assert t("Proposal accepted; the appointment is planned.", "de") in shown
    after = row(app, Appointment, proposal)
    assert after["status"] == "planned"
    assert after["decided_by_id"] == info.agency_user_id
    assert after["decided_at"] is not None and abs((utcnow() - after["decided_at"]).total_seconds()) < 120
    assert after["decision_reason"] is None
    assert after["updated_by_id"] == info.agency_user_id
    assert after["version"] == before["version"] + 1

    mails = decided_mails(app, tidy)
    assert [(m["recipient"], m["language"]) for m in mails] == [(info.contact_email, "de")]
    store = demo_store(info, after["job_id"])
    prefix = t("Your proposal was accepted: %(store)s on %(date)s", "de").split("%(store)s")[0]
    assert mails[0]["subject"].startswith(prefix) and store.name in mails[0]["subject"]
    assert local_date(after["date"], "de") in mails[0]["subject"]
    assert (
        t("the agency has accepted your proposed appointment. It is now planned.", "de")
        in mails[0]["body_text"]
    )
    assert f"/portal/proposals/{proposal}" in mails[0]["body_text"]

    page = portal_client(app).get(f"/portal/proposals/{proposal}").get_data(as_text=True)
    assert _cell(page, "proposal-state") == t("Accepted", "de") == "Angenommen"
    assert 'id="proposal-reason"' not in page


def demo_store(info, job_id):
    return next(s for s in info.north + info.south if s.job_id == job_id)


def _cell(html: str, cell_id: str) -> str:
    match = re.search(rf'<td id="{cell_id}">(.*?)</td>', html, re.S)
    return visible_text(match.group(1)).strip() if match else ""


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reject_without_reason_is_refused(app, tidy, proposal, reason):
    from app.models.planning import Appointment

    before = row(app, Appointment, proposal)
    shown = decide(agency(app), proposal, "reject", reason)
    assert t("Please give a reason for the rejection.", "de") in shown
    assert row(app, Appointment, proposal) == before
    assert decided_mails(app, tidy) == []


def test_reject_with_reason(app, tidy, proposal, info):
    from app.models.planning import Appointment

    reason = "An diesem Tag ist kein Promoter frei <Messe & Urlaub>."
    shown = decide(agency(app), proposal, "reject", f"  {reason}  ")
    assert t("Proposal rejected; the customer is informed.", "de") in shown
    after = row(app, Appointment, proposal)
    assert after["status"] == "rejected"
    assert after["decision_reason"] == reason
    assert after["decided_by_id"] == info.agency_user_id and after["decided_at"] is not None

    mails = decided_mails(app, tidy)
    assert [(m["recipient"], m["language"]) for m in mails] == [(info.contact_email, "de")]
    prefix = t("Your proposal was rejected: %(store)s on %(date)s", "de").split("%(store)s")[0]
    assert mails[0]["subject"].startswith(prefix)
    assert reason in mails[0]["body_text"]
    assert (
        "frei &lt;Messe &amp; Urlaub&gt;." in mails[0]["body_html"] and "<Messe" not in mails[0]["body_html"]
    )
    assert t("the agency has rejected your proposed appointment.", "de") in mails[0]["body_text"]

    customer = portal_client(app)
    page = customer.get(f"/portal/proposals/{proposal}").get_data(as_text=True)
    assert _cell(page, "proposal-state") == t("Rejected", "de") == "Abgelehnt"
    assert _cell(page, "proposal-reason") == reason
    assert "&lt;Messe &amp; Urlaub&gt;" in page
    listing = customer.get("/portal/proposals/").get_data(as_text=True)
    line = re.search(rf"<tr>((?:(?!</tr>).)*?/portal/proposals/{proposal}\".*?)</tr>", listing, re.S).group(1)
    assert t("Rejected", "de") in visible_text(line)


def test_the_decision_mail_is_in_the_proposers_language(app, tidy, info):
    """vertrieb prefers English: the agency's German screen, the customer's English mail."""
    store, day = find_day(app, info, "free", stores=info.south)
    pk = propose_directly(app, store, day, username="vertrieb")
    decide(agency(app), pk, "reject", "Kein Budget")
    (mail,) = decided_mails(app, tidy)
    assert mail["recipient"] == "daniel.carter@supertoy.example" and mail["language"] == "en"
    assert mail["subject"].startswith("Your proposal was rejected: ")
    assert local_date(day, "en") in mail["subject"]
    assert "Kein Budget" in mail["body_text"]
    page = portal_client(app, "vertrieb").get(f"/portal/proposals/{pk}").get_data(as_text=True)
    assert _cell(page, "proposal-state") == "Rejected"


@pytest.mark.parametrize("first, second", [("accept", "reject"), ("accept", "accept"), ("reject", "accept")])
def test_deciding_a_decided_proposal_changes_nothing(app, tidy, proposal, first, second):
    from app.models.planning import Appointment
    from app.outbox.models import OutboxMessage

    client = agency(app)
    decide(client, proposal, first, "Erster Grund")
    decided = row(app, Appointment, proposal)
    mails = count(app, OutboxMessage)
    shown = decide(client, proposal, second, "Zweiter Grund")
    assert t(ALREADY, "de") in shown
    assert row(app, Appointment, proposal) == decided
    assert count(app, OutboxMessage) == mails


def test_the_service_says_already_decided(app, tidy, proposal, info):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.planning import Appointment
    from app.proposals import operations, rules

    with app.test_request_context():
        user = db.session.get(User, info.agency_user_id)
        operations.decide(db.session, proposal, user, accept=True)
        decided = row(app, Appointment, proposal)
        with pytest.raises(rules.AlreadyDecided):
            operations.decide(db.session, proposal, user, accept=False, reason="zu spät")
        with pytest.raises(rules.AlreadyDecided):  # not "please give a reason": it is decided
            operations.decide(db.session, proposal, user, accept=False, reason="")
        with pytest.raises(rules.AlreadyDecided):
            operations.decide(db.session, 10**9, user, accept=True)
        db.session.remove()
    assert row(app, Appointment, proposal) == decided


def test_unknown_decision_or_proposal(app, tidy, proposal):
    from app.models.planning import Appointment

    client = agency(app)
    before = row(app, Appointment, proposal)
    assert t("Please choose accept or reject.", "de") in decide(client, proposal, "maybe")
    assert t("Please choose accept or reject.", "de") in decide(client, proposal, None)
    assert t(ALREADY, "de") in decide(client, 10**9, "accept")
    assert row(app, Appointment, proposal) == before
    assert decided_mails(app, tidy) == []


# ---------------------------------------------------------------- concurrency


def _outcomes(results: list) -> tuple[int, int, list]:
    won = sum(1 for r in results if r == "won")
    lost = sum(1 for r in results if r == "already")
    other = [r for r in results if r not in ("won", "already")]
    return won, lost, other


def test_twenty_concurrent_decisions_one_wins(app, tidy, proposal, info):
    """20 threads, each with its own app context and session, call decide() at once."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.planning import Appointment
    from app.proposals import operations, rules

    n = 20
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n

    def run(index: int) -> None:
        with app.test_request_context():
            session = db.session
            try:
                user = session.get(User, info.agency_user_id)
                agent = SimpleNamespace(id=user.id)
                session.rollback()  # no connection held while waiting for the others
                barrier.wait()
                accept = index % 2 == 0
                operations.decide(
                    session, proposal, agent, accept=accept, reason=None if accept else f"Grund {index}"
                )
                results[index] = "won"
            except rules.AlreadyDecided:
                results[index] = "already"
            except Exception as error:  # reported below
                results[index] = f"{type(error).__name__}: {error}"
            finally:
                session.rollback()
                session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    won, lost, other = _outcomes(results)
    assert other == [], other
    assert (won, lost) == (1, n - 1)
    after = row(app, Appointment, proposal)
    assert after["status"] in ("planned", "rejected")
    assert after["version"] == 2  # changed exactly once
    mails = decided_mails(app, tidy)
    assert len(mails) == 1 and f"/portal/proposals/{proposal}" in mails[0]["body_text"]
    if after["status"] == "rejected":
        assert after["decision_reason"] in mails[0]["body_text"]


def test_twenty_agency_users_click_at_once(app, tidy, proposal):
    """20 logged-in clients post their decision to /proposals/<id>/decide at the same moment."""
    from app.models.planning import Appointment

    n = 20
    clients = [agency(app) for _ in range(n)]
    barrier = threading.Barrier(n, timeout=60)
    answers: list = [None] * n

    def run(index: int) -> None:
        data = {"decision": "accept"} if index % 2 else {"decision": "reject", "reason": f"Grund {index}"}
        data["confirmed"] = "1"
        barrier.wait()
        try:
            answers[index] = clients[index].post(f"/proposals/{proposal}/decide", data=data)
        except Exception as error:  # reported below
            answers[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [getattr(a, "status_code", a) for a in answers] == [302] * n
    messages = [flashes(c.get("/proposals/").get_data(as_text=True)) for c in clients]
    won = [
        m
        for m in messages
        if t("Proposal accepted; the appointment is planned.", "de") in m
        or t("Proposal rejected; the customer is informed.", "de") in m
    ]
    lost = [m for m in messages if t(ALREADY, "de") in m]
    assert (len(won), len(lost)) == (1, n - 1), messages
    assert row(app, Appointment, proposal)["version"] == 2
    assert len(decided_mails(app, tidy)) == 1


# ---------------------------------------------------------------- who may decide


@pytest.mark.parametrize("username", ["adm.nord", "vertrieb", "promoter01", None])
def test_customers_promoters_and_strangers_cannot_decide(app, tidy, proposal, username):
    from app.models.planning import Appointment
    from app.outbox.models import OutboxMessage

    client = app.test_client()
    if username in ("adm.nord", "vertrieb"):
        client = portal_client(app, username)
    elif username:
        login(client, username)
    listing = client.get("/proposals/")
    assert listing.status_code in (302, 403)
    if listing.status_code == 302:
        assert "/proposals" not in listing.headers["Location"].split("?")[0]
    before = row(app, Appointment, proposal)
    mails = count(app, OutboxMessage)
    for data in ({"decision": "accept"}, {"decision": "reject", "reason": "nein"}):
        answer = client.post(f"/proposals/{proposal}/decide", data=data)
        assert answer.status_code in (302, 403)
        if answer.status_code == 302:
            assert "/login" in answer.headers["Location"] or answer.headers["Location"] in (
                "/",
                "http://localhost/",
            )
    assert row(app, Appointment, proposal) == before
    assert count(app, OutboxMessage) == mails
    assert t(ALREADY, "de") not in client.get("/proposals/").get_data(as_text=True)


def test_only_the_agency_sees_the_menu_entry(app, proposal):
    html = portal_client(app).get("/portal/").get_data(as_text=True)
    assert 'href="/proposals/"' not in html


def test_with_csrf_protection_on(app, tidy, proposal):
    """As in production: the screen's forms carry the token; a forged cross-site POST is refused."""
    from app.models.planning import Appointment

    client = agency(app)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get("/proposals/").get_data(as_text=True)
        panel = re.search(rf'id="proposal-{proposal}">(.*?)</form>', html, re.S).group(1)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', panel).group(1)
        before = row(app, Appointment, proposal)
        forged = client.post(f"/proposals/{proposal}/decide", data={"decision": "accept", "confirmed": "1"})
        assert forged.status_code == 400
        assert row(app, Appointment, proposal) == before
        answer = client.post(
            f"/proposals/{proposal}/decide",
            data={"decision": "accept", "confirmed": "1", "csrf_token": token},
        )
        assert answer.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert row(app, Appointment, proposal)["status"] == "planned"
    assert len(decided_mails(app, tidy)) == 1
