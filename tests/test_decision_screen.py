"""The agency's decision screen (/proposals/): the warnings the customer saw, conflicts with the
store's appointments and bookings that day, a link to the store's week, separate accept and
reject forms, a confirmation before anything is decided, accept and request a promoter."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

import pytest
from sqlalchemy import delete, insert, select

from tests.conftest import visible_text
from tests.helpers import flashes
from tests.test_decisions import agency, decided_mails
from tests.test_wizard import (
    demo,
    find_day,
    high_water,
    local_date,
    propose_directly,
    remove_since,
    row,
    t,
)


@contextmanager
def tidied(app) -> Iterator[dict]:
    """Remove the change requests, appointments, mails … created inside the block."""
    marks = high_water(app)
    marks["change"] = _max_change_id(app)
    try:
        yield marks
    finally:
        from app.extensions import db
        from app.models.planning import ChangeRequest

        with app.app_context(), db.engine.begin() as conn:
            conn.execute(delete(ChangeRequest).where(ChangeRequest.id > marks["change"]))
        remove_since(app, marks)


@pytest.fixture()
def tidy(app):
    with tidied(app) as marks:
        yield marks


def _max_change_id(app) -> int:
    from sqlalchemy import func

    from app.extensions import db
    from app.models.planning import ChangeRequest

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(ChangeRequest.id), 0))).scalar_one()


@pytest.fixture()
def info(app):
    return demo(app)


def promoter_id(app, username: str = "promoter01") -> tuple[int, str]:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.promoter import Promoter

    with app.app_context(), db.engine.connect() as conn:
        found = conn.execute(
            select(Promoter.id, Promoter.first_name, Promoter.last_name)
            .join(User, User.id == Promoter.user_id)
            .where(User.username == username)
        ).one()
        return found[0], f"{found[1]} {found[2]}"


def make_appointment(
    app,
    job_id: int,
    day: dt.date,
    start=dt.time(10),
    end=dt.time(18),
    booked: int | None = None,
    status="confirmed",
) -> int:
    """A planned appointment (removed by ``tidy``), optionally with a booking of ``booked``."""
    from app.extensions import db
    from app.models.planning import Appointment, Booking

    with app.app_context(), db.engine.begin() as conn:
        pk = conn.execute(
            insert(Appointment)
            .values(
                job_id=job_id,
                date=day,
                start_time=start,
                end_time=end,
                status="planned",
                origin="agency",
                version=1,
                created_at=dt.datetime.now(),
                updated_at=dt.datetime.now(),
            )
            .returning(Appointment.id)
        ).scalar_one()
        if booked is not None:
            conn.execute(
                insert(Booking).values(
                    appointment_id=pk,
                    promoter_id=booked,
                    status=status,
                    created_at=dt.datetime.now(),
                    updated_at=dt.datetime.now(),
                )
            )
        return pk


def panel(html: str, anchor: str) -> str:
    """The card of one proposal (``proposal-<id>``) or change request (``change-<id>``)."""
    match = re.search(rf'<div class="panel panel-default[^"]*" id="{anchor}">(.*?)\n</div>\n', html, re.S)
    assert match, anchor
    return match.group(1)


def items(fragment: str, css: str) -> list[str]:
    return [
        visible_text(m).strip() for m in re.findall(rf'<li class="{css}[^"]*">(.*?)</li>', fragment, re.S)
    ]


def forms(fragment: str) -> list[str]:
    return re.findall(r"<form\b.*?</form>", fragment, re.S)


# ---------------------------------------------------------------- what the card shows


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_proposal_shows_the_customers_warnings_conflicts_and_the_board_link(app, tidy, info, lang):
    """A proposal on a day where the store already has a booked appointment at the same time."""
    from flask_babel import force_locale

    from app.extensions import db
    from app.models.planning import Job
    from app.proposals import rules

    store, day = find_day(app, info, "free")
    promoter, name = promoter_id(app)
    existing = make_appointment(app, store.job_id, day, booked=promoter)
    pk = propose_directly(app, store, day)  # 10:00–18:00, like the existing one

    html = agency(app, None if lang == "de" else lang).get("/proposals/").get_data(as_text=True)
    card = panel(html, f"proposal-{pk}")

    # The same warnings the customer saw in step 3, computed by the same rule.
    with app.test_request_context(), force_locale(lang):
        expected = rules.warnings_for(db.session, db.session.get(Job, store.job_id), day, exclude_id=pk)
        db.session.remove()
    assert t("The store already has an appointment on this day.", lang) in expected
    assert items(card, "warning") == [str(w) for w in expected]

    conflicts = items(card, "conflict")
    state = t("Planned", lang)
    assert (
        t(
            "Duplicate: the store already has an appointment (%(state)s) on this day at %(start)s–%(end)s.",
            lang,
            state=state,
            start="10:00",
            end="18:00",
        )
        in conflicts
    )
    assert (
        t(
            "%(promoter)s (%(state)s) already works at this store on this day, %(start)s–%(end)s.",
            lang,
            promoter=name,
            state=t("Confirmed", lang),
            start="10:00",
            end="18:00",
        )
        in conflicts
    )
    link = re.search(r'class="board-link" href="([^"]+)"', card).group(1)
    assert unescape(link) == f"/planning/board/week?job={store.job_id}&week={day.isoformat()}"
    week = agency(app).get(unescape(link)).get_data(as_text=True)
    assert local_date(day, "de") in visible_text(week)
    assert existing  # the board's week shows the store's day with the existing appointment


def test_no_conflict_when_the_store_is_free_that_day(app, tidy, info):
    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    card = panel(agency(app).get("/proposals/").get_data(as_text=True), f"proposal-{pk}")
    assert items(card, "conflict") == []
    assert t("The store already has an appointment on this day.", "de") not in visible_text(card)


def test_an_appointment_at_another_time_is_no_duplicate(app, tidy, info):
    store, day = find_day(app, info, "free")
    make_appointment(app, store.job_id, day, start=dt.time(7), end=dt.time(9, 30))
    pk = propose_directly(app, store, day)
    card = panel(agency(app).get("/proposals/").get_data(as_text=True), f"proposal-{pk}")
    assert not any(c.startswith(t("Duplicate", "de")[:5]) for c in items(card, "conflict"))
    assert t("The store already has an appointment on this day.", "de") in items(card, "warning")


# ---------------------------------------------------------------- the forms


def test_accept_and_reject_are_separate_forms(app, tidy, info):
    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    card = panel(agency(app).get("/proposals/").get_data(as_text=True), f"proposal-{pk}")
    found = forms(card)
    assert len(found) == 2
    accept, reject = found
    assert 'value="accept"' in accept and 'name="reason"' not in accept
    # The reason field's form: no accept button, and its only submit button rejects.
    assert 'name="reason"' in reject and "accept" not in reject
    assert len(re.findall(r"<button", reject)) == 1 and 'value="reject"' in reject


def test_enter_in_the_reason_field_decides_nothing(app, tidy, info):
    """Enter submits the reject form as it is: the answer is a confirmation page, nothing changes."""
    from app.models.planning import Appointment

    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    client = agency(app)
    before = row(app, Appointment, pk)
    # What a browser sends on Enter in the reason field: the reject form's fields.
    answer = client.post(f"/proposals/{pk}/decide", data={"decision": "reject", "reason": "Kein Personal"})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert t("Reject?", "de") in visible_text(page)
    assert 'id="confirm-reason">Kein Personal<' in page
    assert row(app, Appointment, pk) == before
    assert decided_mails(app, tidy) == []
    # An empty reason field: refused at once, no confirmation to click through.
    shown = flashes_after(
        client, client.post(f"/proposals/{pk}/decide", data={"decision": "reject", "reason": ""})
    )
    assert t("Please give a reason for the rejection.", "de") in shown
    assert row(app, Appointment, pk) == before


def flashes_after(client, answer) -> list[str]:
    assert answer.status_code == 302
    return flashes(client.get("/proposals/").get_data(as_text=True))


@pytest.mark.parametrize("decision", ["accept", "accept_request", "reject"])
def test_every_decision_is_confirmed_first(app, tidy, info, decision):
    from app.models.planning import Appointment

    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    client = agency(app)
    before = row(app, Appointment, pk)
    data = {"decision": decision, "reason": "Kein Personal" if decision == "reject" else ""}
    page = client.post(f"/proposals/{pk}/decide", data=data).get_data(as_text=True)
    assert row(app, Appointment, pk) == before and decided_mails(app, tidy) == []
    confirm = re.search(r'<form method="post"[^>]*id="confirm-form">(.*?)</form>', page, re.S).group(1)
    assert 'name="confirmed" value="1"' in confirm and f'value="{decision}"' in confirm
    assert 'name="reason" type="text"' not in confirm and 'type="text"' not in confirm
    assert 'href="/proposals/#proposal-' in page  # "Back, decide nothing"

    answer = client.post(f"/proposals/{pk}/decide", data={**data, "confirmed": "1"})
    after = row(app, Appointment, pk)
    assert after["status"] == ("rejected" if decision == "reject" else "planned")
    assert len(decided_mails(app, tidy)) == 1
    if decision == "accept_request":
        assert answer.status_code == 302
        assert unescape(answer.headers["Location"]).endswith(f"/planning/request/?ids={pk}")
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert t("Proposal accepted; the appointment is planned.", "de") in flashes(page)
        assert f'name="ids" value="{pk}"' in page
    else:
        assert answer.headers["Location"].endswith("/proposals/")


def test_confirming_a_proposal_decided_meanwhile(app, tidy, info):
    store, day = find_day(app, info, "free")
    pk = propose_directly(app, store, day)
    first, second = agency(app), agency(app)
    assert second.post(f"/proposals/{pk}/decide", data={"decision": "accept"}).status_code == 200
    first.post(f"/proposals/{pk}/decide", data={"decision": "reject", "reason": "nein", "confirmed": "1"})
    shown = flashes_after(
        second, second.post(f"/proposals/{pk}/decide", data={"decision": "accept", "confirmed": "1"})
    )
    assert t("This proposal has already been decided by someone else (or no longer exists).", "de") in shown
    assert len(decided_mails(app, tidy)) == 1
    # Asking to confirm a decided proposal says so too, instead of a confirmation page.
    shown = flashes_after(second, second.post(f"/proposals/{pk}/decide", data={"decision": "accept"}))
    assert t("This proposal has already been decided by someone else (or no longer exists).", "de") in shown


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_screen_shows_the_earliest_proposals_and_counts_all(app, monkeypatch, lang):
    """An agency with hundreds of open proposals gets the earliest ones (the page stays small)
    and the heading counts all of them, with a note why some are not shown."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from app.extensions import db
    from app.proposals import queries

    with app.app_context():
        total, _changes = queries.pending_counts(db.session)
        earliest = queries.pending_proposals(db.session)[0].id
    assert total >= 2, "the demo has open proposals"
    monkeypatch.setattr(queries, "SCREEN_ROWS", 1)
    html = agency(app, None if lang == "de" else lang).get("/proposals/").get_data(as_text=True)
    assert re.findall(r'id="proposal-(\d+)"', html) == [str(earliest)]
    assert f'<small id="pending-count">{total}</small>' in html
    with app.test_request_context(), force_locale(lang):
        note = _(
            "The earliest %(shown)d of %(total)d are shown; the others follow as these are decided.",
            shown=1,
            total=total,
        )
    assert note in unescape(visible_text(html))
