"""Notes and tasks on contacts and companies, "My follow-ups", and tasks in the daily digest."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from tests.helpers import Rows, client_for, field_errors, fresh_row, ids_where, text_of
from tests.test_digests import changed, listed, mails, pending_ids, runs, send
from tests.test_wizard import demo, high_water, remove_since, t, tn


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(rows):
    return rows.campaign()


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


def today(app) -> dt.date:
    from app.common.timezone import local_today

    with app.app_context():
        return local_today()


def user_id(app, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    return ids_where(app, User, User.username == username)[0]


def sections(html: str) -> dict[str, set[int]]:
    """Group ("overdue", "today", "week", "later") -> ids of the tasks listed in it."""
    found = {}
    for key, body in re.findall(r'id="followups-(\w+)"(.*?)(?=id="followups-|\Z)', html, re.S):
        found[key] = {int(i) for i in re.findall(r'id="task-(\d+)"', body)}
    return found


def add_task(rows, campaign, app, **values) -> int:
    from app.models.crm import Task

    values.setdefault("contact_id", campaign["contact"])
    values.setdefault("kind", "call")
    values.setdefault("title", f"Aufgabe {uuid.uuid4().hex[:6]}")
    values.setdefault("done", False)
    return rows.add(Task, **values)


# ---------------------------------------------------------------- My follow-ups


def test_my_follow_ups_are_grouped_by_due_date(app, rows, campaign):
    day = today(app)
    sunday = day + dt.timedelta(days=6 - day.weekday())
    agentur, admin = user_id(app, "agentur"), user_id(app, "admin")
    ids = {
        "overdue": add_task(rows, campaign, app, due_date=day - dt.timedelta(days=3), assignee_id=agentur),
        "today": add_task(rows, campaign, app, due_date=day, assignee_id=agentur),
        "later": add_task(rows, campaign, app, due_date=sunday + dt.timedelta(days=2), assignee_id=agentur),
        "company": add_task(
            rows,
            campaign,
            app,
            contact_id=None,
            company_id=campaign["customer"],
            due_date=day,
            assignee_id=agentur,
        ),
    }
    if sunday > day:
        ids["week"] = add_task(rows, campaign, app, due_date=sunday, assignee_id=agentur)
    done = add_task(rows, campaign, app, due_date=day, assignee_id=agentur, done=True)
    others = add_task(rows, campaign, app, due_date=day, assignee_id=admin)
    unassigned = add_task(rows, campaign, app, due_date=day)

    for locale in ("de", "en"):
        response = client_for(app, "agentur", None if locale == "de" else locale).get("/crm/follow-ups/")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        found = sections(html)
        assert ids["overdue"] in found["overdue"]
        assert {ids["today"], ids["company"]} <= found["today"]
        assert ids["later"] in found["later"]
        if "week" in ids:
            assert ids["week"] in found["week"]
        shown = set().union(*found.values())
        assert not {done, others, unassigned} & shown, "done tasks and other people's tasks are not mine"
        text = text_of(html)
        for title in ("My follow-ups", "Overdue", "Today", "This week"):
            assert t(title, locale) in text
    admin_page = sections(client_for(app, "admin").get("/crm/follow-ups/").get_data(as_text=True))
    assert others in admin_page["today"] and ids["today"] not in set().union(*admin_page.values())


def test_a_call_planned_for_tomorrow_is_in_my_follow_ups(app, rows):
    """Done when: agentur plans a call with a customer contact for tomorrow and finds it in My follow-ups."""
    from app.models.crm import Contact, Task

    info = demo(app)
    tomorrow = today(app) + dt.timedelta(days=1)
    title = f"Anruf Jan Petersen {uuid.uuid4().hex[:6]}"
    client = client_for(app, "agentur")
    response = client.post(
        "/taskview/add",
        data={
            "contact": str(info.contact_id),
            "company": "__None",
            "title": title,
            "kind": "call",
            "due_date": tomorrow.isoformat(),
            "assignee": str(info.agency_user_id),
            "done": "",
        },
    )
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    (pk,) = ids_where(rows.app, Task, Task.title == title)
    rows.adopt(Task, pk)
    html = client.get("/crm/follow-ups/").get_data(as_text=True)
    found = sections(html)
    sunday = today(app) + dt.timedelta(days=6 - today(app).weekday())
    assert pk in found["week" if tomorrow <= sunday else "later"]
    row = html.split(f'id="task-{pk}"', 1)[1].split("</tr>", 1)[0]
    assert title in row and "Jan Petersen" in text_of(row)
    assert ids_where(app, Contact, Contact.id == info.contact_id)


def test_done_and_reschedule(app, rows, campaign):
    from app.models.crm import Task

    day = today(app)
    agentur, admin = user_id(app, "agentur"), user_id(app, "admin")
    mine = add_task(rows, campaign, app, due_date=day - dt.timedelta(days=1), assignee_id=agentur)
    other = add_task(rows, campaign, app, due_date=day, assignee_id=admin)
    client = client_for(app, "agentur")

    # Reschedule: a new due date moves the task; none or one in the past is refused.
    later = day + dt.timedelta(days=12)
    assert (
        client.post(f"/crm/follow-ups/{mine}/reschedule", data={"due_date": later.isoformat()}).status_code
        == 302
    )
    assert fresh_row(app, Task, mine)["due_date"] == later
    assert pending_in(client, mine) == "later"
    for bad in ("", "kein Datum", (day - dt.timedelta(days=1)).isoformat()):
        answer = client.post(
            f"/crm/follow-ups/{mine}/reschedule", data={"due_date": bad}, follow_redirects=True
        )
        assert answer.status_code == 200
        assert fresh_row(app, Task, mine)["due_date"] == later, bad
    # Done: gone from the list, stored as done.
    assert client.post(f"/crm/follow-ups/{mine}/done").status_code == 302
    assert fresh_row(app, Task, mine)["done"] is True
    assert pending_in(client, mine) is None
    # Somebody else's task: not found, unchanged.
    assert client.post(f"/crm/follow-ups/{other}/done").status_code == 404
    assert (
        client.post(f"/crm/follow-ups/{other}/reschedule", data={"due_date": later.isoformat()}).status_code
        == 404
    )
    assert fresh_row(app, Task, other)["done"] is False and fresh_row(app, Task, other)["due_date"] == day
    # Customers and visitors get nothing.
    for intruder in (client_for(app, "adm.nord"), app.test_client()):
        answer = intruder.post(f"/crm/follow-ups/{other}/done")
        assert answer.status_code in (302, 403, 404)
        assert answer.status_code != 302 or "/login" in answer.headers["Location"]
    assert fresh_row(app, Task, other)["done"] is False


def test_done_and_reschedule_need_the_csrf_token(app, rows, campaign):
    from app.models.crm import Task

    mine = add_task(rows, campaign, app, due_date=today(app), assignee_id=user_id(app, "agentur"))
    client = client_for(app, "agentur")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/crm/follow-ups/{mine}/done").status_code in (302, 400)
        client.post(f"/crm/follow-ups/{mine}/reschedule", data={"due_date": "2030-01-01"})
        assert fresh_row(app, Task, mine)["done"] is False
        assert fresh_row(app, Task, mine)["due_date"] == today(app)
        # With the page's token it works.
        html = client.get("/crm/follow-ups/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        assert client.post(f"/crm/follow-ups/{mine}/done", data={"csrf_token": token}).status_code == 302
        assert fresh_row(app, Task, mine)["done"] is True
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def pending_in(client, task_id: int) -> str | None:
    for key, found in sections(client.get("/crm/follow-ups/").get_data(as_text=True)).items():
        if task_id in found:
            return key
    return None


# ---------------------------------------------------------------- notes and tasks on companies


def _add(client, url: str, data: dict) -> tuple[int, str]:
    response = client.post(url, data=MultiDict(data))
    return response.status_code, response.get_data(as_text=True)


def test_notes_and_tasks_belong_to_a_contact_or_a_company(app, rows, campaign):
    from app.models.crm import Note, Task

    client = client_for(app, "agentur", "en")
    tag = uuid.uuid4().hex[:6]
    status, _html = _add(
        client,
        "/noteview/add",
        {"contact": "__None", "company": str(campaign["customer"]), "text": f"Firma {tag}"},
    )
    assert status == 302
    (note,) = ids_where(app, Note, Note.text == f"Firma {tag}")
    rows.adopt(Note, note)
    assert fresh_row(app, Note, note)["company_id"] == campaign["customer"]
    assert fresh_row(app, Note, note)["contact_id"] is None

    task = {"title": f"Rückruf {tag}", "kind": "follow_up", "due_date": "2030-01-02", "assignee": "__None"}
    status, _html = _add(
        client, "/taskview/add", {**task, "contact": "__None", "company": str(campaign["customer"])}
    )
    assert status == 302
    (task_id,) = ids_where(app, Task, Task.title == task["title"])
    rows.adopt(Task, task_id)

    # Both or neither: refused with a message, nothing saved.
    for contact, company, message in (
        (
            str(campaign["contact"]),
            str(campaign["customer"]),
            "Choose either a contact or a company, not both.",
        ),
        ("__None", "__None", "Choose a contact or a company."),
    ):
        for url, data in (
            ("/noteview/add", {"text": f"Falsch {tag}"}),
            ("/taskview/add", {**task, "title": f"Falsch {tag}"}),
        ):
            status, html = _add(client, url, {**data, "contact": contact, "company": company})
            assert status == 200, url
            assert message in " ".join(field_errors(html).values()), url
    assert not ids_where(app, Note, Note.text == f"Falsch {tag}")
    assert not ids_where(app, Task, Task.title == f"Falsch {tag}")

    # The database says so too.
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db

    with app.app_context(), pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            Note.__table__.insert().values(
                text="beide",
                contact_id=campaign["contact"],
                company_id=campaign["customer"],
                created_at=dt.datetime(2026, 1, 1),
            )
        )

    # The company's page has the Notes and Tasks tabs.
    page = text_of(client.get(f"/companyview/show/{campaign['customer']}").get_data(as_text=True))
    assert f"Firma {tag}" in page and task["title"] in page


# ---------------------------------------------------------------- the daily digest


def test_the_daily_digest_contains_my_tasks_due_today(app, rows, campaign, tidy):
    info = demo(app)
    day = info.today + dt.timedelta(days=41)
    agentur, admin = user_id(app, "agentur"), user_id(app, "admin")
    call = add_task(
        rows, campaign, app, title=f"Anruf {uuid.uuid4().hex[:6]}", due_date=day, assignee_id=agentur
    )
    company_task = add_task(
        rows,
        campaign,
        app,
        contact_id=None,
        company_id=campaign["customer"],
        due_date=day,
        assignee_id=agentur,
    )
    add_task(rows, campaign, app, due_date=day + dt.timedelta(days=1), assignee_id=agentur)  # not today
    add_task(rows, campaign, app, due_date=day, assignee_id=agentur, done=True)  # done
    admins = add_task(rows, campaign, app, due_date=day, assignee_id=admin)
    from app.models.crm import Contact, Task

    titles = {pk: fresh_row(app, Task, pk)["title"] for pk in (call, company_task, admins)}
    contact = fresh_row(app, Contact, campaign["contact"])
    pending = pending_ids(app)
    assert pending

    assert send(app, day, "agency") == {"agency": 2}
    found = {m["recipient"]: m for m in mails(app, tidy, "digest_pending")}
    assert sorted(found) == ["admin@promoplan.example", info.agency_email]
    mine = found[info.agency_email]
    proposals = tn(
        "%(num)d proposal awaits your decision", "%(num)d proposals await your decision", len(pending), "de"
    )
    tasks = tn("%(num)d task due today", "%(num)d tasks due today", 2, "de")
    assert mine["subject"] == f"{proposals} · {tasks}"
    assert len(listed(mine["body_text"])) == len(pending) + 2
    assert titles[call] in mine["body_text"] and titles[company_task] in mine["body_text"]
    assert titles[admins] not in mine["body_text"]
    assert "/crm/follow-ups/" in mine["body_text"] and "/proposals/" in mine["body_text"]
    theirs = found["admin@promoplan.example"]
    assert theirs["subject"] == tn("%(num)d task due today", "%(num)d tasks due today", 1, "de")
    assert listed(theirs["body_text"]) == [
        f"- {titles[admins]} ({contact['first_name']} {contact['last_name']})"
    ]
    assert "/proposals/" not in theirs["body_text"]
    # Still once per recipient and day.
    assert send(app, day, "agency") == {"agency": 0}
    assert len(runs(app, tidy)) == 2


def test_the_digest_goes_out_for_tasks_alone(app, rows, campaign, tidy):
    from app.models.planning import Appointment

    info = demo(app)
    day = info.today + dt.timedelta(days=43)
    add_task(rows, campaign, app, due_date=day, assignee_id=info.agency_user_id)
    pending = pending_ids(app)
    with changed(
        app,
        update(Appointment).where(Appointment.id.in_(pending)).values(status="cancelled"),
        update(Appointment).where(Appointment.id.in_(pending)).values(status="proposed"),
    ):
        assert send(app, day, "agency") == {"agency": 1}
        assert send(app, day + dt.timedelta(days=1), "agency") == {"agency": 0}, (
            "no task, no proposal: no mail"
        )
    (mail,) = mails(app, tidy, "digest_pending")
    assert mail["recipient"] == info.agency_email
    assert mail["subject"] == tn("%(num)d task due today", "%(num)d tasks due today", 1, "de")
    assert "/proposals/" not in mail["body_text"]
