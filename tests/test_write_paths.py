"""One write path per state: appointment, booking, application and job states and
proposal decisions change only through their workflow operations.

Every state field is walked through each generic agency screen (add form, edit form,
actions, delete), each REST API method (POST, PUT, DELETE) and the dedicated views.
Each path either has the same effect as the dedicated operation — compared with a
twin row changed by the operation itself: the same rows, audit entries and mails —
or is refused with a clear message and nothing changed (rows, audit, outbox).
"""

from __future__ import annotations

import datetime as dt
import itertools
from contextlib import contextmanager
from typing import Any

import pytest
from flask import g
from sqlalchemy import delete, func, or_, select

from tests.helpers import (
    Rows,
    client_for,
    field_errors,
    flashes,
    form_values,
    fresh_row,
    ids_where,
    translation,
)
from tests.visibility_helpers import JwtClient

LOCALES = ("de", "en")
PROPOSALS_MESSAGE = "Proposals are decided on the Proposals screen."


# ---------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(app) -> Any:
    """A customer contact (English), a project, two stores with a job each, two promoters
    (accepted applicants of the first job); every row the app makes on them is removed."""
    from app.common.timezone import local_today
    from app.extensions import db
    from app.models.crm import Company, Contact, Location, Territory, contact_territory
    from app.models.planning import Application, Appointment, Booking, Job, Project
    from app.models.promoter import Promoter
    from app.outbox.models import OutboxMessage

    rows = Rows(app)
    tag = unique_tag()
    ids: dict[str, Any] = {"tag": tag, "rows": rows}
    ids["territory"] = rows.add(Territory, name=f"WP-Gebiet {tag}")
    ids["customer"] = rows.add(Company, name=f"WP-Kunde {tag}", kind="customer")
    ids["contact"] = rows.add(
        Contact,
        company_id=ids["customer"],
        first_name="Carla",
        last_name=f"Kundin {tag}",
        email=f"carla-{tag}@example.com",
        language="en",
    )
    rows.link(contact_territory, contact_id=ids["contact"], territory_id=ids["territory"])
    with app.app_context():
        today = local_today()
    ids["project"] = rows.add(
        Project,
        name=f"WP-Projekt {tag}",
        customer_id=ids["customer"],
        start_date=today - dt.timedelta(days=400),
        end_date=today + dt.timedelta(days=400),
    )
    for name in ("job", "job2"):
        location = rows.add(
            Location,
            name=f"WP-Markt {name} {tag}",
            street="Weg 1",
            postcode="20095",
            city="Hamburg",
            federal_state="HH",
            territory_id=ids["territory"],
        )
        ids[name] = rows.add(
            Job, project_id=ids["project"], location_id=location, title=f"WP-{name} {tag}", status="open"
        )
    for name in ("anna", "bert"):
        ids[name] = rows.add(
            Promoter, first_name=name.title(), last_name=f"WP {tag}", email=f"{name}-{tag}@example.com"
        )
        rows.add(Application, promoter_id=ids[name], job_id=ids["job"], status="accepted")
    with app.app_context(), db.engine.connect() as conn:
        outbox_mark = conn.execute(select(func.coalesce(func.max(OutboxMessage.id), 0))).scalar_one()
    yield ids
    jobs = [ids["job"], ids["job2"]]
    with app.app_context(), db.engine.begin() as conn:
        ours = select(Appointment.id).where(Appointment.job_id.in_(jobs))
        conn.execute(delete(Booking).where(Booking.appointment_id.in_(ours)))
        conn.execute(delete(Appointment).where(Appointment.job_id.in_(jobs)))
        conn.execute(delete(Application).where(Application.job_id.in_(jobs)))
        conn.execute(delete(OutboxMessage).where(OutboxMessage.id > outbox_mark))
    rows.cleanup()


_counter = itertools.count(1)


def unique_tag() -> str:
    import uuid

    return uuid.uuid4().hex[:8]


def next_day(app, past: bool = False) -> dt.date:
    """A day of its own for each appointment (no two overlap for the same promoter)."""
    from app.common.timezone import local_today

    offset = next(_counter) * 2
    with app.app_context():
        today = local_today()
    return today + dt.timedelta(days=-offset if past else 20 + offset)


def add_appointment(app, world, status: str = "planned", past: bool = False, **values) -> int:
    from app.models.planning import Appointment

    fields = {
        "job_id": world["job"],
        "date": next_day(app, past),
        "start_time": dt.time(10),
        "end_time": dt.time(16),
        "status": status,
        "origin": "customer" if status == "proposed" else "agency",
        **values,
    }
    if status == "proposed":
        fields.setdefault("proposed_by_id", world["contact"])
    pk = world["rows"].add(Appointment, **fields)
    return pk


def add_booking(world, appointment: int, promoter: str = "anna", status: str = "requested") -> int:
    from app.models.planning import Booking

    return world["rows"].add(Booking, appointment_id=appointment, promoter_id=world[promoter], status=status)


def add_application(world, promoter: int, job: str = "job2", status: str = "applied") -> int:
    from app.models.planning import Application

    return world["rows"].add(Application, promoter_id=promoter, job_id=world[job], status=status)


def fresh_promoter(world) -> int:
    """A promoter of the test's own (no application yet)."""
    from app.models.promoter import Promoter

    return world["rows"].add(Promoter, first_name="Neu", last_name=f"WP {unique_tag()}")


# ---------------------------------------------------------------- what changed


def snapshot(app, world) -> dict[str, Any]:
    """Every row a write path could touch: appointments, bookings, applications and jobs
    of the world, its outbox mails and the whole audit trail's size."""
    from app.audit.models import AuditEntry
    from app.extensions import db
    from app.models.planning import Application, Appointment, Booking, Job
    from app.outbox.models import OutboxMessage

    jobs = [world["job"], world["job2"]]
    ours = select(Appointment.id).where(Appointment.job_id.in_(jobs))
    emails = [f"{n}-{world['tag']}@example.com" for n in ("anna", "bert", "carla")]
    with app.app_context(), db.engine.connect() as conn:

        def table(model, *criteria):
            return sorted(tuple(r) for r in conn.execute(select(model.__table__).where(*criteria)))

        return {
            "appointments": table(Appointment, Appointment.job_id.in_(jobs)),
            "bookings": table(Booking, Booking.appointment_id.in_(ours)),
            "applications": table(Application, Application.job_id.in_(jobs)),
            "jobs": table(Job, Job.id.in_(jobs)),
            "outbox": conn.execute(
                select(func.count()).where(
                    or_(OutboxMessage.recipient.in_(emails), OutboxMessage.recipient.like("%carla%"))
                )
            ).scalar_one(),
            "audit": conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        }


def marks(app) -> tuple[int, int]:
    """The highest outbox and audit ids now."""
    from app.audit.models import AuditEntry
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    with app.app_context(), db.engine.connect() as conn:
        return (
            conn.execute(select(func.coalesce(func.max(OutboxMessage.id), 0))).scalar_one(),
            conn.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one(),
        )


def mails_since(app, mark: tuple[int, int]) -> list[tuple[str, str, str]]:
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.language).where(
                OutboxMessage.id > mark[0]
            )
        )
        return sorted(tuple(r) for r in rows)


def audit_since(app, mark: tuple[int, int], entity: str, entity_id: int) -> list[tuple]:
    """(action, user, changed fields) of the audit entries of one row since ``mark``."""
    import json

    from app.audit.models import AuditEntry
    from app.extensions import db

    table = AuditEntry.__table__
    with app.app_context(), db.engine.connect() as conn:
        found = conn.execute(
            select(table.c.action, table.c.username, table.c.changes)
            .where(table.c.id > mark[1], table.c.entity == entity, table.c.entity_id == entity_id)
            .order_by(table.c.id)
        ).all()
    return [(a, u, sorted(json.loads(c or "{}"))) for a, u, c in found]


@contextmanager
def as_agency(app):
    """The dedicated operation, called as the agency user would (audit: agentur)."""
    from app.extensions import db

    with app.test_request_context():
        g.user = app.appbuilder.sm.find_user(username="agentur")
        try:
            yield db.session, g.user
        finally:
            db.session.rollback()


def text(message, locale: str) -> str:
    found = translation(message, locale)
    assert found is not None, f"no {locale} text for {message!r}"
    return found


# ---------------------------------------------------------------- clients


@pytest.fixture(scope="module")
def clients(app):
    cache: dict[str, Any] = {}

    def get(locale: str = "de"):
        if locale not in cache:
            cache[locale] = client_for(app, "agentur", None if locale == "de" else locale)
        return cache[locale]

    for locale in LOCALES:  # logged in before any snapshot (a login is an audit entry)
        get(locale)
    return get


@pytest.fixture(scope="module")
def api(app):
    return JwtClient(app, "agentur")


def refused_on_screen(response, client) -> list[str]:
    """The flashes a refused screen write shows (after its redirect)."""
    assert response.status_code in (200, 302), response.status_code
    html = (
        client.get(response.headers["Location"]).get_data(as_text=True)
        if response.status_code == 302
        else response.get_data(as_text=True)
    )
    return flashes(html)


# ================================================================ appointments


def test_the_appointment_forms_offer_no_status(app, world, clients):
    client = clients()
    pk = add_appointment(app, world)
    assert "status" not in form_values(client.get("/appointmentview/add").get_data(as_text=True))
    assert "status" not in form_values(client.get(f"/appointmentview/edit/{pk}").get_data(as_text=True))
    assert "status" not in form_values(client.get("/jobview/add").get_data(as_text=True))


def test_adding_an_appointment_plans_it_like_plan_appointment(app, world, clients):
    """Add form, with a forged "status": planned, origin agency, created by the user — the
    same row, audit entry and mails as ``plan_appointment`` itself."""
    from app.models.planning import Appointment, Job
    from app.planning.operations import plan_appointment

    day = next_day(app)
    mark = marks(app)
    response = clients().post(
        "/appointmentview/add",
        data={
            "job": str(world["job"]),
            "date": day.isoformat(),
            "start_time": "09:00",
            "end_time": "15:00",
            "note": "per form",
            "status": "cancelled",
        },
    )
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    (pk,) = ids_on(app, Appointment.job_id == world["job"], Appointment.note == "per form")
    by_form = fresh_row(app, Appointment, pk)
    assert (by_form["status"], by_form["origin"], by_form["date"]) == ("planned", "agency", day)
    form_mails, form_audit = mails_since(app, mark), audit_since(app, mark, "appointment", pk)

    twin_day = next_day(app)
    mark = marks(app)
    with as_agency(app) as (session, user):
        twin = plan_appointment(
            session, session.get(Job, world["job"]), twin_day, dt.time(9), dt.time(15), user, "twin"
        ).id
    assert form_audit == audit_since(app, mark, "appointment", twin)
    assert form_audit and form_audit[0][:2] == ("create", "agentur")
    assert [m[0] for m in form_mails] == [m[0] for m in mails_since(app, mark)]
    twin_row = fresh_row(app, Appointment, twin)
    for field in ("status", "origin", "created_by_id", "updated_by_id", "version"):
        assert by_form[field] == twin_row[field], field


def test_an_api_post_plans_like_plan_appointment_and_refuses_another_state(app, world, api):
    from app.models.planning import Appointment

    before = snapshot(app, world)
    for status in ("proposed", "cancelled", "done", "rejected"):
        response = api.post(
            "/api/v1/appointment/",
            json={
                "job": world["job"],
                "date": next_day(app).isoformat(),
                "start_time": "10:00:00",
                "end_time": "12:00:00",
                "status": status,
            },
        )
        assert response.status_code == 422, (status, response.get_data(as_text=True))
        assert list(response.get_json()["message"]) == ["status"]
    assert snapshot(app, world) == before

    day = next_day(app)
    response = api.post(
        "/api/v1/appointment/",
        json={"job": world["job"], "date": day.isoformat(), "start_time": "10:00:00", "end_time": "12:00:00"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = fresh_row(app, Appointment, response.get_json()["id"])
    assert (stored["status"], stored["origin"], stored["date"]) == ("planned", "agency", day)
    assert stored["created_by_id"] == stored["updated_by_id"] == agentur_id(app)


@pytest.mark.parametrize("path", ["form", "api"])
def test_a_new_time_moves_like_move_appointment(app, world, clients, api, path):
    """Editing date or time (form or PUT) is ``move_appointment``: the same audit entry
    and mails as the operation on a twin appointment with the same promoter booked."""
    from app.models.planning import Appointment
    from app.planning.operations import move_appointment

    pk, twin = add_appointment(app, world, note="Termin"), add_appointment(app, world, note="Termin")
    add_booking(world, pk, status="confirmed")
    add_booking(world, twin, status="confirmed")
    new_day = next_day(app)
    mark = marks(app)
    if path == "form":
        response = clients().post(
            f"/appointmentview/edit/{pk}",
            data=_edit_data(clients(), pk, date=new_day.isoformat(), end_time="17:30"),
        )
        assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    else:
        response = api.put(
            f"/api/v1/appointment/{pk}", json={"date": new_day.isoformat(), "end_time": "17:30:00"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    stored = fresh_row(app, Appointment, pk)
    assert (stored["date"], stored["end_time"], stored["status"]) == (new_day, dt.time(17, 30), "planned")
    generic = (audit_since(app, mark, "appointment", pk), mails_since(app, mark))

    twin_day = next_day(app)
    mark = marks(app)
    with as_agency(app) as (session, user):
        move_appointment(
            session, session.get(Appointment, twin), twin_day, dt.time(10), dt.time(17, 30), user
        )
    assert generic[0] == audit_since(app, mark, "appointment", twin)
    assert generic[0] == [("update", "agentur", ["date", "end_time", "updated_by_id"])]
    assert generic[1] == mails_since(app, mark)


def _edit_data(client, pk: int, **changes) -> dict:
    return form_data(client, f"/appointmentview/edit/{pk}", **changes)


def form_data(client, url: str, **changes) -> dict:
    """The form at ``url`` as shown, with ``changes``."""
    values = form_values(client.get(url).get_data(as_text=True))
    data = {name: found[0] for name, found in values.items() if found}
    data.update(changes)
    return data


@pytest.mark.parametrize("locale", LOCALES)
def test_moving_a_cancelled_appointment_is_refused_as_by_the_operation(app, world, clients, api, locale):
    pk = add_appointment(app, world, status="cancelled")
    before = snapshot(app, world)
    client = clients(locale)
    response = client.post(f"/appointmentview/edit/{pk}", data=_edit_data(client, pk, start_time="08:00"))
    expected = text("Only planned or proposed appointments can be moved.", locale)
    assert expected in refused_on_screen(response, client)
    answer = api.put(f"/api/v1/appointment/{pk}", json={"start_time": "08:00:00"})
    assert answer.status_code == 422
    assert answer.get_json()["message"] == text("Only planned or proposed appointments can be moved.", "de")
    assert snapshot(app, world) == before


@pytest.mark.parametrize(
    ("status", "new", "message"),
    [
        ("proposed", "planned", PROPOSALS_MESSAGE),
        ("proposed", "rejected", PROPOSALS_MESSAGE),
        ("planned", "cancelled", 'Appointments are cancelled with the action "Cancel appointment".'),
        ("planned", "done", 'Appointments are marked as done with the action "Mark as done".'),
        ("planned", "proposed", "Only customers propose appointments (in the customer system)."),
        (
            "cancelled",
            "planned",
            "A cancelled or rejected appointment is not planned again; add a new appointment.",
        ),
    ],
)
def test_an_api_put_of_a_status_is_refused_naming_the_path(app, world, api, status, new, message):
    """PUT {"status": …}: 422 with the path to take; a pending proposal stays undecided
    (no decider, no decision time, no mail to the customer)."""
    pk = add_appointment(app, world, status=status)
    before = snapshot(app, world)
    response = api.put(f"/api/v1/appointment/{pk}", json={"status": new, "note": "changed"})
    assert response.status_code == 422, response.get_data(as_text=True)
    (shown,) = response.get_json()["message"]["status"]
    assert shown.startswith(text(message, "de"))
    if status == "proposed":
        assert shown.endswith("(/proposals/)")
    assert snapshot(app, world) == before


def test_an_api_put_of_the_same_status_and_another_job_is_checked(app, world, api):
    from app.models.planning import Appointment

    pk = add_appointment(app, world)
    response = api.put(f"/api/v1/appointment/{pk}", json={"status": "planned", "note": "same state"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert fresh_row(app, Appointment, pk)["note"] == "same state"
    before = snapshot(app, world)
    response = api.put(f"/api/v1/appointment/{pk}", json={"job": world["job2"]})
    assert response.status_code == 422
    assert list(response.get_json()["message"]) == ["job"]
    assert snapshot(app, world) == before


@pytest.mark.parametrize("locale", LOCALES)
def test_a_proposal_is_neither_cancelled_nor_deleted_on_the_generic_screen(app, world, clients, api, locale):
    """The generic screen links to the Proposals screen instead; nothing changes."""
    pk = add_appointment(app, world, status="proposed")
    before = snapshot(app, world)
    client = clients(locale)

    response = client.post(f"/appointmentview/action/cancel/{pk}")
    shown = refused_on_screen(response, client)
    expected = text(
        "A proposal is not cancelled: it is accepted or rejected on the Proposals screen.", locale
    )
    assert any(expected in message for message in shown), shown

    response = client.post(f"/appointmentview/delete/{pk}")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    expected = text("A proposal is not deleted: it is decided on the Proposals screen.", locale)
    assert any(expected in message for message in flashes(page)), flashes(page)
    assert 'href="/proposals/"' in page

    answer = api.delete(f"/api/v1/appointment/{pk}")
    assert answer.status_code == 422
    assert snapshot(app, world) == before


def test_the_dedicated_decision_plans_with_decider_time_and_mail(app, world, clients):
    """The one path that decides: /proposals/<id>/decide (decider, time, mail in the
    contact's language, audit by the agency user)."""
    from app.models.planning import Appointment

    pk = add_appointment(app, world, status="proposed")
    mark = marks(app)
    response = clients().post(
        f"/proposals/{pk}/decide", data={"decision": "accept", "reason": "", "confirmed": "1"}
    )
    assert response.status_code == 302
    stored = fresh_row(app, Appointment, pk)
    assert stored["status"] == "planned" and stored["decided_by_id"] == agentur_id(app)
    assert stored["decided_at"] is not None
    carla = f"carla-{world['tag']}@example.com"
    assert ("proposal_decided", carla, "en") in mails_since(app, mark)
    (entry,) = audit_since(app, mark, "appointment", pk)
    assert entry[:2] == ("update", "agentur") and "status" in entry[2]


def test_cancel_action_is_cancel_appointment(app, world, clients):
    """The action cancels the appointment and its open bookings — the same rows, audit
    entries and mails as ``cancel_appointment`` on a twin."""
    from app.models.planning import Appointment, Booking
    from app.planning.operations import cancel_appointment

    pk, twin = add_appointment(app, world), add_appointment(app, world)
    booking, twin_booking = (
        add_booking(world, pk, "anna", "confirmed"),
        add_booking(world, twin, "anna", "confirmed"),
    )
    mark = marks(app)
    response = clients().post(f"/appointmentview/action/cancel/{pk}")
    assert response.status_code == 302
    assert fresh_row(app, Appointment, pk)["status"] == "cancelled"
    assert fresh_row(app, Booking, booking)["status"] == "cancelled"
    generic = (
        audit_since(app, mark, "appointment", pk),
        audit_since(app, mark, "booking", booking),
        mails_since(app, mark),
    )
    mark = marks(app)
    with as_agency(app) as (session, user):
        cancel_appointment(session, session.get(Appointment, twin), user)
    assert generic == (
        audit_since(app, mark, "appointment", twin),
        audit_since(app, mark, "booking", twin_booking),
        mails_since(app, mark),
    )
    assert generic[0] and generic[0][0][:2] == ("update", "agentur")


def test_mark_as_done_is_an_action_with_the_operations_checks(app, world, clients):
    from app.models.planning import Appointment

    past, future = add_appointment(app, world, past=True), add_appointment(app, world)
    before = snapshot(app, world)
    client = clients("en")
    response = client.post(f"/appointmentview/action/complete/{future}")
    assert any(
        "An appointment in the future cannot be marked as done." in m
        for m in refused_on_screen(response, client)
    )
    assert snapshot(app, world) == before
    mark = marks(app)
    assert client.post(f"/appointmentview/action/complete/{past}").status_code == 302
    assert fresh_row(app, Appointment, past)["status"] == "done"
    assert audit_since(app, mark, "appointment", past) == [("update", "agentur", ["status", "updated_by_id"])]


def test_an_appointment_with_bookings_is_not_deleted(app, world, clients, api):
    from app.models.planning import Appointment

    pk = add_appointment(app, world)
    add_booking(world, pk, "anna", "declined")
    before = snapshot(app, world)
    client = clients("en")
    response = client.post(f"/appointmentview/delete/{pk}")
    expected = "This appointment has bookings and is not deleted; cancel it instead"
    assert any(expected in m for m in refused_on_screen(response, client))
    answer = api.delete(f"/api/v1/appointment/{pk}")
    full = expected + ' (action "Cancel appointment"), so that the people concerned are told.'
    assert answer.status_code == 422 and answer.get_json()["message"] == text(full, "de")
    assert snapshot(app, world) == before

    # Without bookings (and not a proposal) the delete is allowed.
    lonely = add_appointment(app, world)
    assert api.delete(f"/api/v1/appointment/{lonely}").status_code == 200
    assert fresh_row(app, Appointment, lonely) is None


# ================================================================ bookings


def test_adding_a_booking_requests_like_request_promoters(app, world, clients):
    """Add form with a forged "status": a request, with the same mail as the request view."""
    from app.models.planning import Appointment, Booking
    from app.models.promoter import Promoter
    from app.staffing.operations import request_promoters

    pk, twin = add_appointment(app, world), add_appointment(app, world)
    mark = marks(app)
    response = clients().post(
        "/bookingview/add",
        data={"appointment": str(pk), "promoter": str(world["bert"]), "status": "confirmed"},
    )
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    (booking,) = ids_on_booking(app, pk)
    assert fresh_row(app, Booking, booking)["status"] == "requested"
    generic = (audit_since(app, mark, "booking", booking), mails_since(app, mark))
    assert generic[1] == [("booking_requests", f"bert-{world['tag']}@example.com", "de")]

    mark = marks(app)
    with as_agency(app) as (session, user):
        result = request_promoters(
            session, [session.get(Appointment, twin)], [session.get(Promoter, world["bert"])], user
        )
        twin_booking = result.created[0].id
    assert generic == (audit_since(app, mark, "booking", twin_booking), mails_since(app, mark))


@pytest.mark.parametrize("locale", LOCALES)
def test_adding_a_booking_has_the_request_checks(app, world, clients, locale):
    """Not an accepted applicant, an appointment that is not planned, a promoter already on
    it: the form comes back with the reason beside the promoter; nothing saved, no mail."""
    promoter_of_job2 = fresh_promoter(world)
    planned, cancelled = add_appointment(app, world), add_appointment(app, world, status="cancelled")
    add_booking(world, planned, "anna", "requested")
    cases = [
        (planned, promoter_of_job2, "Not an accepted applicant of this job"),
        (cancelled, world["bert"], "Only planned appointments can be staffed."),
        (planned, world["anna"], "This promoter is already on this appointment."),
    ]
    client = clients(locale)
    before = snapshot(app, world)
    for appointment, promoter, reason in cases:
        response = client.post(
            "/bookingview/add", data={"appointment": str(appointment), "promoter": str(promoter)}
        )
        assert response.status_code == 200, reason
        shown = field_errors(response.get_data(as_text=True)).get("promoter", "")
        assert text(reason, locale) in shown, (reason, shown)
    assert snapshot(app, world) == before


def test_a_booking_is_not_edited_in_a_form(app, world, clients):
    from app.models.planning import Booking

    pk = add_appointment(app, world)
    booking = add_booking(world, pk, "anna", "requested")
    client = clients()
    show = client.get(f"/bookingview/show/{booking}").get_data(as_text=True)
    assert f"/bookingview/edit/{booking}" not in show
    before = snapshot(app, world)
    response = client.post(
        f"/bookingview/edit/{booking}",
        data={"appointment": str(pk), "promoter": str(world["anna"]), "status": "confirmed"},
    )
    assert response.status_code in (302, 403)
    assert snapshot(app, world) == before
    assert fresh_row(app, Booking, booking)["status"] == "requested"


def test_there_is_no_booking_or_application_api(app, api):
    """Bookings and applications have no REST API: nothing to bypass there."""
    for resource in ("booking", "application"):
        assert api.get(f"/api/v1/{resource}/").status_code == 404
        assert api.post(f"/api/v1/{resource}/", json={"status": "confirmed"}).status_code in (404, 405)


def test_cancel_booking_action_tells_the_promoter_and_checks_the_state(app, world, clients):
    from app.models.planning import Booking

    pk = add_appointment(app, world)
    confirmed, declined = (
        add_booking(world, pk, "anna", "confirmed"),
        add_booking(world, pk, "bert", "declined"),
    )
    client = clients("en")
    before = snapshot(app, world)
    response = client.post(f"/bookingview/action/cancel_booking/{declined}")
    assert any(
        "Only requested or confirmed bookings can be cancelled." in m
        for m in refused_on_screen(response, client)
    )
    assert snapshot(app, world) == before

    mark = marks(app)
    assert client.post(f"/bookingview/action/cancel_booking/{confirmed}").status_code == 302
    assert fresh_row(app, Booking, confirmed)["status"] == "cancelled"
    assert mails_since(app, mark) == [("booking_released", f"anna-{world['tag']}@example.com", "de")]
    assert audit_since(app, mark, "booking", confirmed) == [("update", "agentur", ["status"])]
    with as_agency(app) as (session, _user):
        from app.outbox.models import OutboxMessage

        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.id > mark[0])).one()
        assert mail.subject.startswith("Buchung abgesagt: WP-Markt job ")


def test_an_open_booking_is_not_deleted(app, world, clients):
    from app.models.planning import Booking

    pk = add_appointment(app, world)
    requested, confirmed = (
        add_booking(world, pk, "anna", "requested"),
        add_booking(world, pk, "bert", "confirmed"),
    )
    client = clients("en")
    before = snapshot(app, world)
    for booking in (requested, confirmed):
        response = client.post(f"/bookingview/delete/{booking}")
        assert any("An open booking is not deleted" in m for m in refused_on_screen(response, client))
    assert snapshot(app, world) == before
    declined = add_booking(world, add_appointment(app, world), "anna", "declined")
    assert client.post(f"/bookingview/delete/{declined}").status_code == 302
    assert fresh_row(app, Booking, declined) is None


def test_the_request_view_requests_with_the_same_mail(app, world, clients):
    """The dedicated view (from the action "Request promoters") goes through request_promoters."""
    from app.models.planning import Booking

    pk = add_appointment(app, world)
    assert clients().post(f"/appointmentview/action/request_promoters/{pk}").status_code == 302
    mark = marks(app)
    response = clients().post("/planning/request/", data={"ids": str(pk), "pair": f"{pk}:{world['anna']}"})
    assert response.status_code == 200
    (booking,) = ids_on_booking(app, pk)
    assert fresh_row(app, Booking, booking)["status"] == "requested"
    assert mails_since(app, mark) == [("booking_requests", f"anna-{world['tag']}@example.com", "de")]
    assert audit_since(app, mark, "booking", booking)[0][:2] == ("create", "agentur")


# ================================================================ applications


def test_adding_an_application_is_apply(app, world, clients):
    from app.models.planning import Application

    client = clients("en")
    promoter = fresh_promoter(world)
    response = client.post(
        "/applicationview/add",
        data={"promoter": str(promoter), "job": str(world["job2"]), "status": "accepted"},
    )
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    (pk,) = ids_on_application(app, promoter, world["job2"])
    assert fresh_row(app, Application, pk)["status"] == "applied"

    # apply's check: only open jobs.
    from app.models.planning import Job

    with as_agency(app) as (session, _user):
        session.get(Job, world["job2"]).status = "closed"
        session.commit()
    try:
        before = snapshot(app, world)
        response = client.post(
            "/applicationview/add", data={"promoter": str(fresh_promoter(world)), "job": str(world["job2"])}
        )
        assert response.status_code == 200
        assert "This job is not open for applications." in flashes(response.get_data(as_text=True))
        assert snapshot(app, world) == before
    finally:
        with as_agency(app) as (session, _user):
            session.get(Job, world["job2"]).status = "open"
            session.commit()


def test_application_states_change_by_action_only(app, world, clients):
    from app.models.planning import Application

    client = clients("en")
    applied = add_application(world, fresh_promoter(world))
    show = client.get(f"/applicationview/show/{applied}").get_data(as_text=True)
    assert f"/applicationview/edit/{applied}" not in show
    before = snapshot(app, world)
    client.post(f"/applicationview/edit/{applied}", data={"status": "accepted"})
    response = client.post(f"/applicationview/delete/{applied}")
    assert any(
        "A pending or accepted application is not deleted" in m for m in refused_on_screen(response, client)
    )
    assert snapshot(app, world) == before

    mark = marks(app)
    assert client.post(f"/applicationview/action/accept/{applied}").status_code == 302
    assert fresh_row(app, Application, applied)["status"] == "accepted"
    assert audit_since(app, mark, "application", applied) == [("update", "agentur", ["status"])]
    assert client.post(f"/applicationview/action/reject/{applied}").status_code == 302
    assert fresh_row(app, Application, applied)["status"] == "rejected"
    assert client.post(f"/applicationview/delete/{applied}").status_code == 302
    assert fresh_row(app, Application, applied) is None


def test_a_withdrawn_application_is_not_decided(app, world, clients):
    withdrawn = add_application(world, fresh_promoter(world), status="withdrawn")
    client = clients("en")
    before = snapshot(app, world)
    response = client.post(f"/applicationview/action/accept/{withdrawn}")
    assert any(
        "The promoter has withdrawn this application." in m for m in refused_on_screen(response, client)
    )
    assert snapshot(app, world) == before


# ================================================================ jobs


def test_job_status_by_action_and_refused_in_the_api(app, world, clients, api):
    from app.models.crm import Location
    from app.models.planning import Job

    client = clients("en")
    location = world["rows"].add(
        Location,
        name=f"WP-Markt3 {world['tag']}",
        street="Weg 3",
        postcode="10115",
        city="Berlin",
        federal_state="BE",
    )
    response = client.post(
        "/jobview/add",
        data={
            "title": f"WP-job3 {world['tag']}",
            "project": str(world["project"]),
            "location": str(location),
            "status": "open",
        },
    )
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    (pk,) = ids_where_job(app, location)
    world["rows"].adopt(Job, pk)
    assert fresh_row(app, Job, pk)["status"] == "draft"
    data = form_data(client, f"/jobview/edit/{pk}", status="closed", planned_days_per_week="2")
    assert client.post(f"/jobview/edit/{pk}", data=data).status_code == 302
    assert (fresh_row(app, Job, pk)["status"], fresh_row(app, Job, pk)["planned_days_per_week"]) == (
        "draft",
        2,
    )

    answer = api.put(f"/api/v1/job/{pk}", json={"status": "open"})
    assert answer.status_code == 422 and list(answer.get_json()["message"]) == ["status"]
    answer = api.post(
        "/api/v1/job/",
        json={
            "title": "x",
            "project": world["project"],
            "location": world["rows"].add(
                Location,
                name=f"WP-Markt4 {world['tag']}",
                street="W",
                postcode="10115",
                city="B",
                federal_state="BE",
            ),
            "status": "open",
        },
    )
    assert answer.status_code == 422 and list(answer.get_json()["message"]) == ["status"]
    assert fresh_row(app, Job, pk)["status"] == "draft"

    mark = marks(app)
    assert client.post(f"/jobview/action/open_job/{pk}").status_code == 302
    assert fresh_row(app, Job, pk)["status"] == "open"
    assert audit_since(app, mark, "job", pk) == [("update", "agentur", ["status"])]
    assert client.post(f"/jobview/action/close_job/{pk}").status_code == 302
    assert fresh_row(app, Job, pk)["status"] == "closed"
    response = client.post(f"/jobview/action/open_job/{pk}")
    assert any("A closed job cannot be opened again." in m for m in refused_on_screen(response, client))
    assert fresh_row(app, Job, pk)["status"] == "closed"


# ---------------------------------------------------------------- lookups


def ids_on(app, *criteria) -> list[int]:
    from app.models.planning import Appointment

    return ids_where(app, Appointment, *criteria)


def ids_on_booking(app, appointment: int) -> list[int]:
    from app.models.planning import Booking

    return ids_where(app, Booking, Booking.appointment_id == appointment)


def ids_on_application(app, promoter: int, job: int) -> list[int]:
    from app.models.planning import Application

    return ids_where(app, Application, Application.promoter_id == promoter, Application.job_id == job)


def ids_where_job(app, location: int) -> list[int]:
    from app.models.planning import Job

    return ids_where(app, Job, Job.location_id == location)


def agentur_id(app) -> int:
    from tests.planning_helpers import user_id

    return user_id(app, "agentur")
