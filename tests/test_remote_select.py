"""Remote selects in the agency forms: no dropdown of every row, one searched page per request."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.lookups.remote_select import PAGE_SIZE, SOURCES
from tests.conftest import login
from tests.helpers import client_for, field_errors, model_form

URL = "/api/v1/remote-select/{kind}"


@pytest.fixture(scope="module")
def agency(app):
    return client_for(app, "agentur")


def _count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_answers_one_page_at_most(app, agency, kind):
    response = agency.get(URL.format(kind=kind))
    assert response.status_code == 200
    body = response.get_json()
    total = _count(app, SOURCES[kind][0])
    assert len(body["results"]) == min(total, PAGE_SIZE)
    assert body["pagination"]["more"] == (total > PAGE_SIZE)
    assert all(isinstance(row["id"], int) and row["text"] for row in body["results"])


def test_search_narrows_in_sql(app, agency):
    from app.extensions import db
    from app.models.promoter import Promoter

    with app.app_context():
        wanted = db.session.scalars(select(Promoter).order_by(Promoter.id)).first()
        last_name = wanted.last_name
    body = agency.get(URL.format(kind="promoter"), query_string={"term": last_name}).get_json()
    assert body["results"], "the searched promoter is not found"
    assert all(last_name.lower() in row["text"].lower() for row in body["results"])
    nothing = agency.get(URL.format(kind="promoter"), query_string={"term": "zz%_no-such-name"}).get_json()
    assert nothing["results"] == []


def test_appointment_found_by_german_date(app, agency):
    from app.extensions import db
    from app.models.planning import Appointment

    with app.app_context():
        day = db.session.scalars(select(Appointment.date).order_by(Appointment.id)).first()
    body = agency.get(URL.format(kind="appointment"), query_string={"term": f"{day:%d.%m.%Y}"}).get_json()
    assert body["results"]
    assert all(row["text"].startswith(f"{day:%d.%m.%Y}") for row in body["results"])
    bad = agency.get(URL.format(kind="appointment"), query_string={"term": "31.02.2026", "page": "x"})
    assert bad.status_code == 200 and bad.get_json()["results"] == []


def test_unknown_kind_is_404_not_500(agency):
    assert agency.get(URL.format(kind="ab_user")).status_code == 404


@pytest.mark.parametrize("username", ["adm.nord", "promoter01", None])
def test_only_the_agency_may_search(app, username):
    client = app.test_client()
    if username:
        login(client, username)
    response = client.get(URL.format(kind="promoter"))
    assert response.status_code in (401, 403)
    assert b"results" not in response.data


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/bookingview/add", ["appointment", "promoter"]),
        ("/applicationview/add", ["promoter", "job"]),
        ("/appointmentview/add", ["job"]),
        ("/jobview/add", ["location"]),
        ("/noteview/add", ["contact"]),
        ("/taskview/add", ["contact"]),
    ],
)
def test_add_forms_hold_no_list_of_rows(agency, url, fields):
    html = agency.get(url).get_data(as_text=True)
    form = model_form(html)
    for name in fields:
        start = form.index(f'name="{name}"')
        select_html = form[form.rindex("<select", 0, start) : form.index("</select>", start)]
        assert "data-ajax--url" in select_html
        assert select_html.count("<option") == 1, f"{url}: {name} lists rows"


def test_booking_saved_through_remote_selects_and_shown(app, agency):
    """The add form's remote selects reach the request (staffing.request_promoters): the
    booking is saved with the chosen rows, shown by name, and a second one is refused."""
    from app.extensions import db
    from app.models.planning import Application, Appointment, Booking
    from app.models.promoter import Promoter
    from app.outbox.models import OutboxMessage

    with app.app_context():
        confirmed = select(Booking.id).where(
            Booking.appointment_id == Appointment.id, Booking.status == "confirmed"
        )
        appointment = db.session.scalars(
            select(Appointment)
            .where(Appointment.status == "planned", ~confirmed.exists())
            .order_by(Appointment.id.desc())
            .limit(1)
        ).one()
        appointment_id = appointment.id
        promoter = Promoter(first_name="Remo", last_name="Auswahl", email="remo.auswahl@example.com")
        db.session.add(promoter)
        db.session.flush()
        db.session.add(Application(promoter=promoter, job_id=appointment.job_id, status="accepted"))
        db.session.commit()
        promoter_id = promoter.id
    data = {"appointment": str(appointment_id), "promoter": str(promoter_id)}
    try:
        response = agency.post("/bookingview/add", data=data)
        assert response.status_code == 302, field_errors(response.get_data(as_text=True))
        with app.app_context():
            booking_id = db.session.scalars(
                select(Booking.id).where(
                    Booking.appointment_id == appointment_id, Booking.promoter_id == promoter_id
                )
            ).one()
        shown = agency.get(f"/bookingview/show/{booking_id}").get_data(as_text=True)
        assert "Remo Auswahl" in shown or "Auswahl, Remo" in shown
        again = agency.post("/bookingview/add", data=data)
        assert again.status_code == 200
        assert field_errors(again.get_data(as_text=True)).get("promoter")
    finally:
        with app.app_context():
            db.session.execute(Booking.__table__.delete().where(Booking.promoter_id == promoter_id))
            db.session.execute(Application.__table__.delete().where(Application.promoter_id == promoter_id))
            db.session.execute(
                OutboxMessage.__table__.delete().where(OutboxMessage.recipient == "remo.auswahl@example.com")
            )
            db.session.execute(Promoter.__table__.delete().where(Promoter.id == promoter_id))
            db.session.commit()


@pytest.mark.parametrize("value", ["999999999", "abc", "1' OR '1'='1", "9" * 40])
def test_unknown_or_bad_key_is_a_field_message(agency, value):
    response = agency.post("/bookingview/add", data={"appointment": value, "promoter": "1"})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True))
    assert errors.get("appointment")


def test_the_project_export_searches_projects_instead_of_listing_them(app, agency):
    """Import/Export: "appointments of one project" holds only the newest project; the others
    are found by name or customer as the planner types."""
    from app.extensions import db
    from app.models.planning import Project

    html = agency.get("/transfer/").get_data(as_text=True)
    start = html.index('id="export-project"')
    select_html = html[html.rindex("<select", 0, start) : html.index("</select>", start)]
    assert "remote-select/project" in select_html
    assert select_html.count("<option") <= 1
    with app.app_context():
        project = db.session.scalars(select(Project).order_by(Project.id)).first()
        name, customer = project.name, project.customer.name
    found = agency.get(URL.format(kind="project"), query_string={"term": customer.split()[0]}).get_json()
    assert name in [row["text"].split(" · ")[0] for row in found["results"]]
