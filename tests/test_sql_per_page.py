"""SQL statements per page stay the same when the page shows more rows (no query per row)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tests.helpers import Rows, client_for, db_session
from tests.planning_helpers import make_campaign

LIMIT = 12


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block."""
    from app.extensions import db

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(app, client, url: str) -> int:
    client.get(url)  # warm up (first visit may load the session, catalogs …)
    with counted(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


@pytest.fixture(scope="module")
def rows(app):
    made = Rows(app)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def world(app, rows):
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter

    start = dt.date.today() + dt.timedelta(days=30)
    campaign = make_campaign(rows, ("BY", "NW"), start, start + dt.timedelta(days=90))
    with db_session(app) as session:
        promoter = session.scalar(
            select(Promoter.id).join(User, User.id == Promoter.user_id).where(User.username == "promoter01")
        )
    return {"campaign": campaign, "promoter": promoter, "start": start, "added": 0}


def add_rows(rows: Rows, world: dict, how_many: int) -> None:
    """More of everything the measured pages list: requests with conflicts, proposals, contacts,
    change requests (cancel and move)."""
    from app.models.crm import Contact, contact_territory
    from app.models.planning import Application, Appointment, Booking, ChangeRequest
    from app.models.promoter import Promoter, Unavailability

    campaign = world["campaign"]
    for _ in range(how_many):
        n = world["added"]
        world["added"] += 1
        day = world["start"] + dt.timedelta(days=n)
        appointments = [
            rows.add(
                Appointment,
                job_id=campaign["jobs"][state],
                date=day,
                start_time=dt.time(10, 0),
                end_time=dt.time(18, 0),
                status="planned",
            )
            for state in ("BY", "NW")
        ]
        # Two requests on the same day: each overlaps the other.
        for appointment in appointments:
            rows.add(Booking, appointment_id=appointment, promoter_id=world["promoter"], status="requested")
        # a new applicant (the application list shows the newest first)
        applicant = rows.add(Promoter, first_name=f"Bewerber {n}", last_name=uuid.uuid4().hex[:6])
        rows.add(
            Application,
            promoter_id=applicant,
            job_id=campaign["jobs"]["NW"],
            created_at=dt.datetime(2100, 1, 1),
        )
        if n % 2:
            rows.add(Unavailability, promoter_id=world["promoter"], start_date=day, end_date=day)
        contact = rows.add(
            Contact,
            company_id=campaign["customer"],
            first_name=f"Vorname {uuid.uuid4().hex[:6]}",
            last_name=f"AAA Nachname {n}",
            language="de",
        )
        rows.link(contact_territory, contact_id=contact, territory_id=campaign["territory"])
        rows.add(
            Appointment,
            job_id=campaign["jobs"]["BY"],
            date=day,
            start_time=dt.time(8, 0),
            end_time=dt.time(9, 0),
            status="proposed",
            proposed_by_id=contact,
        )
        # The decision screen checks each move's new slot and lists each appointment's bookings.
        for appointment, kind in zip(appointments, ("cancel", "move"), strict=True):
            moved = {"new_date": day + dt.timedelta(days=1), "new_start_time": dt.time(9, 0)}
            rows.add(
                ChangeRequest,
                appointment_id=appointment,
                kind=kind,
                status="pending",
                reason=f"Grund {n}",
                requested_by_id=contact,
                created_at=dt.datetime.now(),
                **({**moved, "new_end_time": dt.time(17, 0)} if kind == "move" else {}),
            )


PAGES = [
    ("promoter01", "/promoter/"),
    ("promoter01", "/promoter/requests"),
    ("agentur", "/proposals/"),
    ("agentur", "/contactview/list/?_oc_ContactView=last_name&_od_ContactView=asc"),
    ("agentur", "/bookingview/list/"),
    ("agentur", "/"),
    ("agentur", "/cockpit/week"),
    # the appointment list with its store, city and promoter columns (the world's job only)
    ("agentur", "/appointmentview/list/?job={job}&period=all"),
    ("agentur", "/appointmentview/list/?store={store}&unstaffed=y"),
    ("agentur", "/applicationview/list/"),
]


@pytest.mark.parametrize(("username", "url"), PAGES)
def test_statements_do_not_grow_with_rows(app, rows, world, username, url):
    client = client_for(app, username, "de")
    campaign = world["campaign"]
    url = url.format(job=campaign["jobs"]["BY"], store=campaign["locations"]["BY"])
    add_rows(rows, world, 1)
    few = statements_for(app, client, url)
    add_rows(rows, world, 4)
    many = statements_for(app, client, url)
    assert many == few, f"{url}: {few} statements with fewer rows, {many} with more"
    assert many <= LIMIT, f"{url}: {many} statements"


def test_requests_still_show_their_conflicts(app, rows, world):
    add_rows(rows, world, 2)
    html = client_for(app, "promoter01", "en").get("/promoter/requests").get_data(as_text=True)
    assert "Overlaps with a requested booking at Markt" in html
    assert "Unavailable on this day" in html


def _export_lines(response) -> list[list[str]]:
    from tests.test_export import read_export

    return read_export(response)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_full_appointment_export_is_a_fixed_number_of_statements(app, rows, world, fmt):
    from app.models.planning import Appointment

    client = client_for(app, "agentur", "de")
    url = f"/transfer/export?what=appointments&format={fmt}"
    add_rows(rows, world, 1)
    few = statements_for(app, client, url)
    add_rows(rows, world, 4)
    many = statements_for(app, client, url)
    assert many == few, f"{fmt}: {few} statements with fewer rows, {many} with more"
    assert many <= LIMIT

    table = _export_lines(client.get(url))
    with db_session(app) as session:
        total = len(session.scalars(select(Appointment.id)).all())
    assert len(table) - 1 == total, "one line per appointment"
    from app.models.promoter import Promoter

    with db_session(app) as session:
        name = session.get(Promoter, world["promoter"]).full_name
    project = f"Projekt {world['campaign']['tag']}"
    requested = [row for row in table[1:] if row[3] == project and row[1] == "10:00"]
    assert len(requested) == 2 * world["added"], "every added appointment is in the export"
    assert all(row[8] == f"{name} (Angefragt)" for row in requested)
    proposed = [row for row in table[1:] if row[3] == project and row[1] == "08:00"]
    assert proposed and all(row[7] == "Vorgeschlagen" and row[8] == "" for row in proposed)


def _grow_lists(app, rows: Rows, world: dict) -> None:
    """One more location, project (with a job), contact with two territories, and a
    visible appointment with a confirmed and a requested booking for the customer adm.nord."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact, Location, Territory, contact_territory
    from app.models.planning import Appointment, Booking, Job, Project
    from app.models.promoter import Promoter
    from app.security.visibility import Scope

    campaign = world["campaign"]
    n = world["grown"] = world.get("grown", 0) + 1
    tag = f"{campaign['tag']}-{n}"
    location = rows.add(
        Location, name=f"Markt {tag}", street="Weg 1", city="Köln", postcode="50667", federal_state="NW"
    )
    project = rows.add(
        Project,
        name=f"Projekt {tag}",
        customer_id=campaign["customer"],
        start_date=world["start"],
        end_date=world["start"] + dt.timedelta(days=9),
    )
    rows.add(Job, project_id=project, location_id=location, title=f"Job {tag}", status="open")
    contact = rows.add(Contact, company_id=campaign["customer"], first_name="Eva", last_name=f"Z {tag}")
    second = rows.add(Territory, name=f"Gebiet {tag}")
    rows.link(contact_territory, contact_id=contact, territory_id=campaign["territory"])
    rows.link(contact_territory, contact_id=contact, territory_id=second)
    with db_session(app) as session:
        user = session.scalar(select(User.id).where(User.username == "adm.nord"))
        job = session.scalar(select(Job.id).where(Scope("customer", user).condition(Job)).limit(1))
        other = session.scalar(select(Promoter.id).where(Promoter.id != world["promoter"]).limit(1))
    day = world["start"] + dt.timedelta(days=200 + n)
    appointment = rows.add(
        Appointment, job_id=job, date=day, start_time=dt.time(9), end_time=dt.time(17), status="planned"
    )
    rows.add(Booking, appointment_id=appointment, promoter_id=world["promoter"], status="confirmed")
    rows.add(Booking, appointment_id=appointment, promoter_id=other, status="requested")


EXPORT_URLS = [
    ("agentur", "/transfer/export?what=locations&format={fmt}"),
    ("agentur", "/transfer/export?what=contacts&format={fmt}"),
    ("agentur", "/transfer/export?what=projects&format={fmt}"),
    ("adm.nord", "/portal/appointments/export.{fmt}?range=all&sort=date"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("username", "url"), EXPORT_URLS)
def test_every_export_is_a_fixed_number_of_statements(app, rows, world, username, url, fmt):
    url = url.format(fmt=fmt)
    client = client_for(app, username, "de")
    _grow_lists(app, rows, world)
    few = statements_for(app, client, url)
    lines_few = len(_export_lines(client.get(url)))
    for _ in range(3):
        _grow_lists(app, rows, world)
    many = statements_for(app, client, url)
    lines_many = len(_export_lines(client.get(url)))
    assert lines_many == lines_few + 3, "every added row is in the export, once"
    assert many == few, f"{url}: {few} statements with fewer rows, {many} with more"
    assert many <= LIMIT


@pytest.fixture
def related(app, rows):
    """A project, job, appointment, retail chain, contact and promoter whose show and edit
    pages list related rows; ``grow_related`` adds one of each related row."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact
    from app.models.planning import Appointment
    from app.models.promoter import Promoter

    start = dt.date.today() + dt.timedelta(days=400)
    campaign = make_campaign(rows, ("BY", "NW"), start, start + dt.timedelta(days=60))
    job = campaign["jobs"]["BY"]
    with db_session(app) as session:
        agency_user = session.scalar(select(User.id).where(User.username == "agentur"))
    return {
        "campaign": campaign,
        "start": start,
        "job": job,
        "agency_user": agency_user,
        "appointment": rows.add(
            Appointment, job_id=job, date=start, start_time=dt.time(9), end_time=dt.time(17), status="planned"
        ),
        "contact": rows.add(Contact, company_id=campaign["chain"], first_name="Erna", last_name="Haupt"),
        "promoter": rows.add(Promoter, first_name="Paula", last_name=f"Haupt {campaign['tag']}"),
        "grown": 0,
    }


def grow_related(rows: Rows, related: dict, how_many: int) -> None:
    """One more job (at a new store) of the project, appointment and application of the job,
    booking of the appointment, contact, note and task of the chain and the contact, and
    application and booking of the promoter."""
    from app.models.crm import Contact, Location, Note, Task, contact_territory
    from app.models.planning import Application, Appointment, Booking, Job
    from app.models.promoter import Promoter

    campaign = related["campaign"]
    for _ in range(how_many):
        n = related["grown"] = related["grown"] + 1
        tag = f"{campaign['tag']}-r{n}"
        location = rows.add(
            Location,
            name=f"Markt {tag}",
            retail_chain_id=campaign["chain"],
            street="Weg 1",
            city="Köln",
            postcode="50667",
            federal_state="NW",
            territory_id=campaign["territory"],
        )
        job = rows.add(
            Job, project_id=campaign["project"], location_id=location, title=f"Job {tag}", status="open"
        )
        promoter = rows.add(Promoter, first_name="Bea", last_name=f"Neu {tag}")
        appointment = rows.add(
            Appointment,
            job_id=related["job"],
            date=related["start"] + dt.timedelta(days=n),
            start_time=dt.time(9),
            end_time=dt.time(17),
            status="planned",
        )
        rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status="requested")
        rows.add(Booking, appointment_id=appointment, promoter_id=related["promoter"], status="requested")
        rows.add(Booking, appointment_id=related["appointment"], promoter_id=promoter, status="requested")
        rows.add(Application, promoter_id=promoter, job_id=related["job"])
        rows.add(Application, promoter_id=related["promoter"], job_id=job)
        contact = rows.add(Contact, company_id=campaign["chain"], first_name="Eva", last_name=f"Z {tag}")
        rows.link(contact_territory, contact_id=contact, territory_id=campaign["territory"])
        for owner in ({"contact_id": related["contact"]}, {"company_id": campaign["chain"]}):
            rows.add(Note, text=f"Notiz {tag}", author_id=related["agency_user"], **owner)
            rows.add(
                Task,
                title=f"Anrufen {tag}",
                kind="call",
                due_date=related["start"],
                assignee_id=related["agency_user"],
                **owner,
            )


#: Show and edit pages whose related lists show rows of other tables.
RELATED_PAGES = [
    "/projectview/show/{project}",
    "/projectview/edit/{project}",
    "/jobview/show/{job}",
    "/jobview/edit/{job}",
    "/appointmentview/show/{appointment}",
    "/appointmentview/edit/{appointment}",
    "/companyview/show/{chain}",
    "/companyview/edit/{chain}",
    "/contactview/show/{contact}",
    "/contactview/edit/{contact}",
    "/promoterview/show/{promoter}",
    "/promoterview/edit/{promoter}",
]


@pytest.mark.parametrize("url", RELATED_PAGES)
def test_related_lists_do_not_grow_with_rows(app, rows, related, url):
    """Show and edit pages with related lists: the same statements with 1 and 25 related rows
    (a related list loads its rows' store, job, promoter … with the page, not one by one, and
    counts them in the same statement)."""
    client = client_for(app, "agentur", "de")
    campaign = related["campaign"]
    url = url.format(
        project=campaign["project"],
        job=related["job"],
        appointment=related["appointment"],
        chain=campaign["chain"],
        contact=related["contact"],
        promoter=related["promoter"],
    )
    grow_related(rows, related, 1)
    few = statements_for(app, client, url)
    grow_related(rows, related, 24)
    many = statements_for(app, client, url)
    assert many == few, f"{url}: {few} statements with 1 related row each, {many} with 25"
    assert many <= LIMIT, f"{url}: {many} statements"


def test_related_lists_count_and_page_their_rows(app, rows, related):
    """A related list counts its rows in its page's statement: the count is all of them,
    the page the first 25."""
    import re

    from app.models.planning import Job

    grow_related(rows, related, 26)
    project = related["campaign"]["project"]
    with db_session(app) as session:
        titles = session.scalars(select(Job.title).where(Job.project_id == project).order_by(Job.title)).all()
    html = client_for(app, "agentur", "en").get(f"/projectview/show/{project}").get_data(as_text=True)
    assert re.search(r"Record Count:</strong>\s*(\d+)", html).group(1) == str(len(titles)) == "28"
    assert [title for title in titles if f">{title}<" in html] == titles[:25]


def test_the_customers_store_list_does_not_grow_with_territories(app, rows):
    """Each store shows its territory: loaded with the stores, not one statement per territory."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact, Location, Territory, contact_territory
    from app.models.planning import Job, project_contact

    with db_session(app) as session:
        contact = select(Contact.id).join(User, User.id == Contact.user_id).where(User.username == "adm.nord")
        own = session.scalar(
            select(contact_territory.c.territory_id).where(contact_territory.c.contact_id.in_(contact))
        )
        project = session.scalar(
            select(project_contact.c.project_id).where(project_contact.c.contact_id.in_(contact))
        )
    client = client_for(app, "adm.nord", "de")

    def add_stores(how_many: int) -> None:
        for _ in range(how_many):
            tag = uuid.uuid4().hex[:6]
            below = rows.add(Territory, name=f"Bezirk {tag}", parent_id=own)
            store = rows.add(
                Location,
                name=f"Markt {tag}",
                street="Hafenstraße 1",
                city="Kiel",
                postcode="24103",
                federal_state="SH",
                territory_id=below,
            )
            rows.add(Job, project_id=project, location_id=store, title=f"Aktion {tag}", status="open")

    add_stores(1)
    few = statements_for(app, client, "/portal/stores")
    add_stores(5)
    many = statements_for(app, client, "/portal/stores")
    assert many == few, f"{few} statements with fewer territories, {many} with more"
    assert "Bezirk" in client.get("/portal/stores").get_data(as_text=True)
