"""Forged writes change nothing; the agency's API writes are validated like its forms.

A customer (adm.nord) sends the writes a browser never would: REST API creates,
updates and deletes — with a JWT and with the session cookie of the customer system —
and posts to the agency's forms, with ids of the north (his) and of the south (not his).
Every answer is a refusal and the database is unchanged, compared column by column.

The agency user ``agentur`` gets full CRUD through the API, with the agency forms'
validation: the same German messages and a 422 instead of a database error.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import select

from tests.visibility_helpers import (
    DENIED,
    REDIRECTS,
    JwtClient,
    Rows,
    add_foreign_customer,
    add_store_set,
    db_session,
    demo_ids,
    local_today,
    new_tag,
    session_client,
    table_snapshot,
)

REFUSED = {403, 404, 405}
GERMAN_PO = "translations/de/LC_MESSAGES/messages.po"


def _models():
    from app.models.crm import Company, Contact, Location, Territory
    from app.models.planning import Application, Appointment, Booking, Job, Project

    return (Company, Contact, Territory, Project, Location, Job, Appointment, Booking, Application)


def german(msgid: str) -> str:
    """The German text of ``msgid`` from the app's catalog."""
    from babel.messages.pofile import read_po

    from config import BASE_DIR

    with (BASE_DIR / GERMAN_PO).open("rb") as fh:
        catalog = read_po(fh)
    message = catalog.get(msgid)
    assert message is not None and message.string and not message.fuzzy, f"{msgid!r} is not translated"
    return str(message.string)


@pytest.fixture(scope="module")
def victims(app):
    """Rows of the north and the south in the Supertoy project, plus stores without a job
    and a second customer's project; removed at the end of the module."""
    from app.models.crm import Location

    rows = Rows(app)
    demo = demo_ids(app)
    day = local_today(app)
    made = {"demo": demo, "rows": rows}
    for side, town, state in (("north", "Husum", "SH"), ("south", "Passau", "BY")):
        tag = new_tag(f"fw{side[0]}")
        made[f"{side}_tag"] = tag
        made[side] = add_store_set(
            rows,
            tag,
            project_id=demo["project"],
            territory_id=demo[side],
            chain_id=demo["chain"],
            town=town,
            state=state,
            day=day + dt.timedelta(days=2),
        )
        made[side]["spare_location"] = rows.add(
            Location,
            name=f"Spare Markt {town}-{tag}",
            street="Sparweg 1",
            postcode="99998",
            city=f"{town}-{tag}",
            federal_state=state,
            territory_id=demo[side],
        )
    made["foreign"] = add_foreign_customer(rows, new_tag("fwo"), day)
    yield made
    rows.cleanup()


@pytest.fixture(scope="module")
def customer_clients(app):
    return {"jwt": JwtClient(app, "adm.nord"), "session": session_client(app, "adm.nord")}


@pytest.fixture(scope="module")
def agency(app):
    return JwtClient(app, "agentur")


def _payloads(victims, side: str) -> dict[str, dict]:
    """A complete, valid create payload per resource (so only the permission can stop it)."""
    demo, rows = victims["demo"], victims[side]
    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    return {
        "appointment": {
            "job": rows["job"],
            "date": day,
            "start_time": "10:00:00",
            "end_time": "18:00:00",
            "status": "planned",
            "note": "forged",
        },
        "job": {
            "project": demo["project"],
            "location": rows["spare_location"],
            "title": "Forged job",
            "status": "open",
            "planned_days_per_week": 3,
        },
        "location": {
            "name": "Forged Markt",
            "street": "Fälscherweg 1",
            "postcode": "12345",
            "city": "Fälschhausen",
            "federal_state": "HH" if side == "north" else "BY",
            "territory": demo[side],
        },
        "project": {
            "name": "Forged project",
            "customer": demo["customer"],
            "start_date": day,
            "end_date": day,
            "description": "forged",
        },
    }


def _targets(victims) -> dict[str, dict[str, int]]:
    """Per resource the id of a row of the north (his) and of the south (not his)."""
    return {
        "appointment": {"north": victims["north"]["appointment"], "south": victims["south"]["appointment"]},
        "job": {"north": victims["north"]["job"], "south": victims["south"]["job"]},
        "location": {"north": victims["north"]["location"], "south": victims["south"]["location"]},
        # The Supertoy project is his; the second customer's is not.
        "project": {"north": victims["demo"]["project"], "south": victims["foreign"]["project"]},
    }


@pytest.mark.parametrize("auth", ["jwt", "session"])
def test_customer_api_writes_change_nothing(app, victims, customer_clients, auth):
    client = customer_clients[auth]
    before = table_snapshot(app, *_models())
    answers = []
    for side in ("north", "south"):
        for resource, payload in _payloads(victims, side).items():
            answers.append((f"POST {resource} ({side})", client.post(f"/api/v1/{resource}/", json=payload)))
    for resource, ids in _targets(victims).items():
        for side, pk in ids.items():
            change = (
                {"note": "forged"} if resource == "appointment" else {"name": "Forged", "title": "Forged"}
            )
            change = {k: v for k, v in change.items() if k in _payloads(victims, side)[resource]}
            answers.append((f"PUT {resource} {side}", client.put(f"/api/v1/{resource}/{pk}", json=change)))
            answers.append((f"DELETE {resource} {side}", client.delete(f"/api/v1/{resource}/{pk}")))
    after = table_snapshot(app, *_models())
    wrong = {what: r.status_code for what, r in answers if r.status_code not in REFUSED}
    assert not wrong, f"not refused: {wrong}"
    assert after == before, "a forged API write changed the database"


def test_customer_form_posts_change_nothing(app, victims, customer_clients):
    client = customer_clients["session"]
    before = table_snapshot(app, *_models())
    day = (local_today(app) + dt.timedelta(days=4)).isoformat()
    answers = []
    for side in ("north", "south"):
        v = victims[side]
        form = {
            "job": v["job"],
            "date": day,
            "start_time": "09:00",
            "end_time": "17:00",
            "status": "cancelled",
        }
        answers += [
            (
                f"add appointment ({side})",
                client.post("/appointmentview/add", data={**form, "note": "forged"}),
            ),
            (f"edit appointment {side}", client.post(f"/appointmentview/edit/{v['appointment']}", data=form)),
            (f"delete appointment {side} (POST)", client.post(f"/appointmentview/delete/{v['appointment']}")),
            (f"delete appointment {side} (GET)", client.get(f"/appointmentview/delete/{v['appointment']}")),
            (f"delete job {side}", client.post(f"/jobview/delete/{v['job']}")),
            (f"delete booking {side}", client.post(f"/bookingview/delete/{v['booking']}")),
            (
                f"edit booking {side}",
                client.post(
                    f"/bookingview/edit/{v['booking']}",
                    data={"appointment": v["appointment"], "promoter": v["promoter"], "status": "declined"},
                ),
            ),
            (
                f"edit location {side}",
                client.post(f"/locationview/edit/{v['location']}", data={"name": "Forged", "territory": ""}),
            ),
        ]
    after = table_snapshot(app, *_models())
    wrong = {
        what: r.status_code
        for what, r in answers
        if r.status_code not in DENIED and not (r.status_code in REDIRECTS and "/login" in r.location)
    }
    assert not wrong, f"not refused: {wrong}"
    assert after == before, "a forged form post changed the database"


@pytest.mark.parametrize("action", ["muldelete", "delete"])
def test_customer_action_post_changes_nothing(app, victims, customer_clients, action):
    """/jobview/action_post with foreign ids: nothing changes (the answer is checked below)."""
    client = customer_clients["session"]
    before = table_snapshot(app, *_models())
    for side in ("north", "south"):
        data = {"action": action, "rowid": [str(victims[side]["job"])]}
        # A crash (500) is the subject of the next test; here only the database counts.
        with contextlib.suppress(Exception):
            client.post("/jobview/action_post", data=data)
    assert table_snapshot(app, *_models()) == before


def test_customer_action_post_with_an_unknown_action_is_refused(app, victims, customer_clients):
    """An action the view does not have must be refused (403/404/400), not crash (500).

    Flask-AppBuilder looks the action up with ``self.actions.get(name).func`` before
    checking any permission: an unknown name raises AttributeError — for every user,
    anonymous included.
    """
    client = customer_clients["session"]
    data = {"action": "muldelete", "rowid": [str(victims["south"]["job"])]}
    try:
        status = client.post("/jobview/action_post", data=data).status_code
    except AttributeError as exc:
        status = f"500 ({exc})"
    assert status in DENIED or status in REDIRECTS, status


def test_customer_cannot_propose_at_a_foreign_store(app, victims, customer_clients):
    """Step 1 of the proposal wizard with his project and a store of the south: the form
    comes back with an error, the wizard does not advance, nothing is created."""
    client = customer_clients["session"]
    before = table_snapshot(app, *_models())
    project = victims["demo"]["project"]

    token = "f0" * 16
    response = client.post(
        f"/portal/proposals/new?token={token}",
        data={"project": project, "location": victims["south"]["location"]},
    )
    assert response.status_code in (200, 400, 403, 404)
    assert victims["south_tag"] not in response.get_data(as_text=True)
    step2 = client.get(f"/portal/proposals/new/{token}/when")
    assert step2.status_code == 302 and step2.location.endswith(f"/portal/proposals/new?token={token}")
    review = client.post(f"/portal/proposals/new/{token}/review", data={})
    assert review.status_code == 302 and "/review" not in review.location
    assert table_snapshot(app, *_models()) == before

    # The control: his own store of the north passes step 1.
    token = "e1" * 16
    response = client.post(
        f"/portal/proposals/new?token={token}",
        data={"project": project, "location": victims["north"]["location"]},
    )
    assert response.status_code == 302 and response.location.endswith(f"/portal/proposals/new/{token}/when")


# ---------------------------------------------------------------- the agency's API


def _appointment_row(app, pk):
    from app.models.planning import Appointment

    with db_session(app) as session:
        return session.execute(
            select(
                Appointment.job_id,
                Appointment.date,
                Appointment.start_time,
                Appointment.end_time,
                Appointment.note,
            ).where(Appointment.id == pk)
        ).first()


def test_agency_api_rejects_an_end_before_the_start(app, victims, agency):
    from app.models.planning import Appointment

    before = table_snapshot(app, Appointment)
    response = agency.post(
        "/api/v1/appointment/",
        json={
            "job": victims["north"]["job"],
            "date": (local_today(app) + dt.timedelta(days=5)).isoformat(),
            "start_time": "18:00:00",
            "end_time": "10:00:00",
            "status": "planned",
        },
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    message = response.get_json()["message"]
    assert german("The end must be after the start.") == "Das Ende muss nach dem Beginn liegen."
    assert message == {"end_time": ["Das Ende muss nach dem Beginn liegen."]}
    assert table_snapshot(app, Appointment) == before


def test_agency_api_rejects_a_second_job_at_the_same_store(app, victims, agency):
    from app.models.planning import Job

    before = table_snapshot(app, Job)
    response = agency.post(
        "/api/v1/job/",
        json={
            "project": victims["demo"]["project"],
            "location": victims["north"]["location"],
            "title": "Duplicate",
            "status": "open",
        },
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    expected = german("This project already has a job at this location.")
    assert expected == "Dieses Projekt hat an diesem Standort bereits einen Job."
    assert response.get_json()["message"] == {"location": [expected]}
    assert table_snapshot(app, Job) == before


def test_agency_api_creates_changes_and_deletes_an_appointment(app, victims, agency):
    from app.models.planning import Appointment

    day = local_today(app) + dt.timedelta(days=6)
    job = victims["south"]["job"]
    response = agency.post(
        "/api/v1/appointment/",
        json={
            "job": job,
            "date": day.isoformat(),
            "start_time": "10:00:00",
            "end_time": "16:00:00",
            "status": "planned",
            "note": "API test",
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    pk = response.get_json()["id"]
    victims["rows"].adopt(Appointment, pk)
    assert _appointment_row(app, pk) == (job, day, dt.time(10), dt.time(16), "API test")

    # A bad change is refused with the form's message and changes nothing.
    response = agency.put(f"/api/v1/appointment/{pk}", json={"end_time": "09:00:00"})
    assert response.status_code == 422
    assert response.get_json()["message"] == {"end_time": [german("The end must be after the start.")]}
    assert _appointment_row(app, pk) == (job, day, dt.time(10), dt.time(16), "API test")

    response = agency.put(f"/api/v1/appointment/{pk}", json={"end_time": "17:30:00", "note": "changed"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _appointment_row(app, pk) == (job, day, dt.time(10), dt.time(17, 30), "changed")

    response = agency.delete(f"/api/v1/appointment/{pk}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _appointment_row(app, pk) is None
    assert agency.get(f"/api/v1/appointment/{pk}").status_code == 404
