"""Helpers of the customer-visibility tests (counts, route matrix, forged writes).

The expected rows are computed here with plain SQLAlchemy joins on the tables —
deliberately *not* with :mod:`app.security.visibility`, whose answers the tests check.

Database work happens in short ``with app.app_context()`` blocks, never while a
request is issued (a request inside a pushed app context would share its ``g``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, insert, select

from tests.conftest import DEMO_PASSWORD, login

NORTH = "ADM Nord / Supertoy"
SOUTH = "ADM Süd / Supertoy"
GERMANY = "Supertoy Deutschland"
PROJECT_NAME = "Supertoy Sales Promotion"

#: The territories whose stores each demo contact must see (the domain description).
TERRITORIES_OF = {
    "adm.nord": (NORTH,),
    "adm.sued": (SOUTH,),
    "pos.marketing": (GERMANY, NORTH, SOUTH),
    "vertrieb": (GERMANY, NORTH, SOUTH),
}
#: How many stores each of them sees in the demo.
STORES_OF = {"adm.nord": 12, "adm.sued": 18, "pos.marketing": 30, "vertrieb": 30}
CUSTOMERS = tuple(TERRITORIES_OF)

DENIED = {400, 401, 403, 404, 405}
REDIRECTS = {301, 302, 303, 307, 308}


# ---------------------------------------------------------------- clients


def session_client(app: Flask, username: str | None) -> FlaskClient:
    """A test client logged in (by session cookie) as ``username``; anonymous for None."""
    client = app.test_client()
    if username:
        login(client, username)
    return client


def jwt_token(app: Flask, username: str, password: str = DEMO_PASSWORD) -> str:
    response = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
    )
    assert response.status_code == 200, f"API login of {username}: {response.status_code} {response.data!r}"
    return response.get_json()["access_token"]


class JwtClient:
    """A cookie-less client that sends ``Authorization: Bearer <token>`` on every request."""

    def __init__(self, app: Flask, username: str):
        self.username = username
        self.client = app.test_client(use_cookies=False)
        self.headers = {"Authorization": f"Bearer {jwt_token(app, username)}"}

    def open(self, url: str, method: str = "GET", **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs):
        return self.open(url, "GET", **kwargs)

    def post(self, url: str, **kwargs):
        return self.open(url, "POST", **kwargs)

    def put(self, url: str, **kwargs):
        return self.open(url, "PUT", **kwargs)

    def delete(self, url: str, **kwargs):
        return self.open(url, "DELETE", **kwargs)


def api_collect(client, resource: str, page_size: int = 500) -> tuple[int, list[int]]:
    """``count`` and every id of ``/api/v1/<resource>/``, page by page (rison ``q``)."""
    ids: list[int] = []
    count = None
    page = 0
    while True:
        response = client.get(f"/api/v1/{resource}/?q=(page_size:{page_size},page:{page})")
        assert response.status_code == 200, f"{resource} page {page}: {response.status_code}"
        body = response.get_json()
        count = body["count"] if count is None else count
        assert body["count"] == count, "the count changed between pages"
        ids.extend(body["ids"])
        assert len(body["ids"]) == len(body["result"])
        if len(body["ids"]) < page_size or len(ids) >= count:
            break
        page += 1
        assert page < 100, "runaway paging"
    return count, ids


# ---------------------------------------------------------------- reading HTML


def text_of(fragment: str) -> str:
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """Cell texts of the body rows of ``<table id=table_id>``; the "nothing" row is left out."""
    match = re.search(rf'<table[^>]*\bid="{re.escape(table_id)}"[^>]*>(.*?)</table>', html, re.S)
    assert match, f"no table #{table_id}"
    body = match.group(1).split("</thead>", 1)[-1]
    rows = []
    for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body, re.S):
        if "colspan=" in row:
            continue
        rows.append([text_of(cell) for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", row, re.S)])
    return rows


def element_text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return text_of(match.group(2))


def first_int(text: str) -> int:
    match = re.search(r"\d+", text)
    assert match, f"no number in {text!r}"
    return int(match.group(0))


# ---------------------------------------------------------------- the database


@contextmanager
def db_session(app: Flask) -> Iterator[Any]:
    from app.extensions import db

    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.rollback()


def local_today(app: Flask) -> dt.date:
    from app.common.timezone import local_today as today

    with app.app_context():
        return today()


def expected_jobs(session, username: str) -> list[Any]:
    """Rows (job_id, location_id, store, city, title, project_id) the contact must see.

    The rule of the domain, as plain joins: projects linked to the user's contact,
    stores whose territory is one of the contact's territories (named here).
    """
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact, Location, Territory
    from app.models.planning import Job, project_contact

    stmt = (
        select(
            Job.id.label("job_id"),
            Location.id.label("location_id"),
            Location.name.label("store"),
            Location.city.label("city"),
            Job.title.label("title"),
            Job.project_id.label("project_id"),
        )
        .join(Location, Location.id == Job.location_id)
        .join(Territory, Territory.id == Location.territory_id)
        .join(project_contact, project_contact.c.project_id == Job.project_id)
        .join(Contact, Contact.id == project_contact.c.contact_id)
        .join(User, User.id == Contact.user_id)
        .where(User.username == username, User.active.is_(True))
        .where(Territory.name.in_(TERRITORIES_OF[username]))
        .order_by(Job.id)
    )
    return list(session.execute(stmt))


def expected_project_ids(session, username: str) -> set[int]:
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact
    from app.models.planning import project_contact

    stmt = (
        select(project_contact.c.project_id)
        .join(Contact, Contact.id == project_contact.c.contact_id)
        .join(User, User.id == Contact.user_id)
        .where(User.username == username)
    )
    return set(session.scalars(stmt))


def expected_appointments(session, username: str, *criteria, order: bool = True) -> list[Any]:
    """Rows (id, date, start, end, status, job_id, store, city) of the contact's appointments.

    Ordered like the customer system's lists: date, start time, store.
    """
    from app.models.crm import Location
    from app.models.planning import Appointment, Job

    job_ids = [row.job_id for row in expected_jobs(session, username)]
    stmt = (
        select(
            Appointment.id,
            Appointment.date,
            Appointment.start_time,
            Appointment.end_time,
            Appointment.status,
            Appointment.job_id,
            Location.name.label("store"),
            Location.city.label("city"),
        )
        .join(Job, Job.id == Appointment.job_id)
        .join(Location, Location.id == Job.location_id)
        .where(Appointment.job_id.in_(job_ids), *criteria)
    )
    if order:
        stmt = stmt.order_by(Appointment.date, Appointment.start_time, Location.name)
    return list(session.execute(stmt))


def confirmed_names(session, appointment_ids) -> dict[int, list[str]]:
    """appointment id -> display names (first name + initial) of its confirmed promoters, by booking."""
    from app.models.planning import Booking
    from app.models.promoter import Promoter

    names: dict[int, list[str]] = {}
    ids = list(appointment_ids)
    for chunk in range(0, len(ids), 500):
        rows = session.execute(
            select(Booking.appointment_id, Promoter.first_name, Promoter.last_name)
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .where(Booking.appointment_id.in_(ids[chunk : chunk + 500]), Booking.status == "confirmed")
            .order_by(Booking.id)
        )
        for appointment_id, first, last in rows:
            names.setdefault(appointment_id, []).append(f"{first} {last[:1]}.")
    return names


def time_span(start: dt.time, end: dt.time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


# ---------------------------------------------------------------- rows of the tests' own


def new_tag(prefix: str = "lk") -> str:
    """A unique, purely alphanumeric marker that cannot occur in a page by chance."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


class Rows:
    """Rows inserted by a test module and deleted again (newest first) at its end."""

    def __init__(self, app: Flask):
        self.app = app
        self.created: list[tuple[Any, Any]] = []

    def add(self, model, **values) -> int:
        from app.extensions import db

        with self.app.app_context(), db.engine.begin() as conn:
            pk = conn.execute(insert(model.__table__).values(**values)).inserted_primary_key[0]
        self.created.append((model, pk))
        return pk

    def link(self, table, **values) -> None:
        from app.extensions import db

        with self.app.app_context(), db.engine.begin() as conn:
            conn.execute(insert(table).values(**values))
        self.created.append((table, values))

    def adopt(self, model, pk) -> None:
        """Delete a row made by the app (e.g. through the API) at the end, too."""
        if pk is not None and (model, pk) not in self.created:
            self.created.append((model, pk))

    def cleanup(self) -> None:
        from app.extensions import db

        with self.app.app_context(), db.engine.begin() as conn:
            for model, key in reversed(self.created):
                table = getattr(model, "__table__", model)
                if isinstance(key, dict):
                    criteria = [table.c[name] == value for name, value in key.items()]
                else:
                    (pk_column,) = table.primary_key.columns
                    criteria = [pk_column == key]
                conn.execute(delete(table).where(*criteria))
        self.created.clear()


def demo_ids(app: Flask) -> dict[str, int]:
    """Ids of the demo's fixed rows: project, customer, retail chain, territories."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Company, Contact, Territory
    from app.models.planning import Project

    with db_session(app) as session:
        territories = {name: pk for name, pk in session.execute(select(Territory.name, Territory.id))}
        contacts = {
            username: pk
            for username, pk in session.execute(
                select(User.username, Contact.id).join(Contact, Contact.user_id == User.id)
            )
        }
        return {
            **{f"contact:{username}": pk for username, pk in contacts.items()},
            "project": session.scalar(select(Project.id).where(Project.name == PROJECT_NAME)),
            "customer": session.scalar(select(Company.id).where(Company.name == "Supertoy")),
            "chain": session.scalar(select(Company.id).where(Company.name == "Media Markt")),
            "north": territories[NORTH],
            "south": territories[SOUTH],
            "germany": territories[GERMANY],
        }


def add_store_set(
    rows: Rows,
    tag: str,
    *,
    project_id: int,
    territory_id: int,
    chain_id: int | None,
    town: str,
    state: str,
    day: dt.date,
    proposed_by_id: int | None = None,
) -> dict[str, int]:
    """A store with job, appointment (on ``day``), promoter, confirmed booking, application
    and a pending customer proposal (by ``proposed_by_id``, the next day).

    Every name carries ``tag``, so any page that shows one of these rows contains it.
    """
    from app.models.crm import Location
    from app.models.planning import Application, Appointment, Booking, ChangeRequest, Job
    from app.models.promoter import Promoter

    ids: dict[str, int] = {}
    ids["location"] = rows.add(
        Location,
        name=f"Leakcheck Markt {town}-{tag}",
        retail_chain_id=chain_id,
        street=f"Leakcheckweg {tag}",
        postcode="99999",
        city=f"{town}-{tag}",
        federal_state=state,
        territory_id=territory_id,
    )
    ids["job"] = rows.add(
        Job,
        project_id=project_id,
        location_id=ids["location"],
        title=f"Leakcheck Job {town}-{tag}",
        status="open",
        planned_days_per_week=2,
    )
    ids["appointment"] = rows.add(
        Appointment,
        job_id=ids["job"],
        date=day,
        start_time=dt.time(7, 0),
        end_time=dt.time(21, 0),
        status="planned",
        origin="agency",
        note=f"Leakcheck note {tag}",
        version=1,
    )
    ids["proposal"] = rows.add(
        Appointment,
        job_id=ids["job"],
        date=day + dt.timedelta(days=1),
        start_time=dt.time(9, 0),
        end_time=dt.time(17, 0),
        status="proposed",
        origin="customer",
        proposed_by_id=proposed_by_id,
        note=f"Leakcheck proposal {tag}",
        version=1,
    )
    ids["change_request"] = rows.add(
        ChangeRequest,
        appointment_id=ids["appointment"],
        kind="move",
        status="pending",
        new_date=day + dt.timedelta(days=2),
        new_start_time=dt.time(8, 0),
        new_end_time=dt.time(12, 0),
        reason=f"Leakcheck change {tag}",
        requested_by_id=proposed_by_id,
        created_at=dt.datetime.now(),
    )
    ids["promoter"] = rows.add(
        Promoter,
        first_name=f"Leakcheck{tag}",
        last_name=f"Promo{tag}",
        email=f"leakcheck-{tag}@example.org",
        phone="+49 170 0000000",
        city=f"{town}-{tag}",
        active=True,
    )
    ids["booking"] = rows.add(
        Booking, appointment_id=ids["appointment"], promoter_id=ids["promoter"], status="confirmed"
    )
    ids["application"] = rows.add(
        Application, promoter_id=ids["promoter"], job_id=ids["job"], status="accepted"
    )
    return ids


def add_foreign_customer(rows: Rows, tag: str, day: dt.date) -> dict[str, int]:
    """A second customer nobody of Supertoy is linked to: company, territory, contact
    (no login), project, and a store set in the new territory, plus a note and a task."""
    from app.models.crm import Company, Contact, Note, Task, Territory, contact_territory
    from app.models.planning import Project, project_contact

    ids: dict[str, int] = {}
    ids["company"] = rows.add(
        Company, name=f"Leakcheck Kunde {tag}", kind="customer", postcode="08056", city=f"Zwickau-{tag}"
    )
    ids["territory"] = rows.add(Territory, name=f"Leakcheck Gebiet {tag}", description=f"Leakcheck {tag}")
    ids["contact"] = rows.add(
        Contact,
        company_id=ids["company"],
        first_name=f"Leakcheck{tag}",
        last_name=f"Kontakt{tag}",
        email=f"kontakt-{tag}@example.org",
        phone="+49 375 000000",
        language="de",
    )
    rows.link(contact_territory, contact_id=ids["contact"], territory_id=ids["territory"])
    ids["project"] = rows.add(
        Project,
        name=f"Leakcheck Projekt {tag}",
        customer_id=ids["company"],
        start_date=day - dt.timedelta(days=30),
        end_date=day + dt.timedelta(days=30),
        description=f"Leakcheck {tag}",
    )
    rows.link(project_contact, project_id=ids["project"], contact_id=ids["contact"])
    ids.update(
        add_store_set(
            rows,
            tag,
            project_id=ids["project"],
            territory_id=ids["territory"],
            chain_id=None,
            town="Zwickau",
            state="SN",
            day=day,
            proposed_by_id=ids["contact"],
        )
    )
    ids["note"] = rows.add(Note, contact_id=ids["contact"], text=f"Leakcheck Notiz {tag}")
    ids["task"] = rows.add(
        Task,
        contact_id=ids["contact"],
        title=f"Leakcheck Aufgabe {tag}",
        kind="call",
        due_date=day,
        done=False,
    )
    return ids


def table_snapshot(app: Flask, *models) -> dict[str, list[tuple]]:
    """Every row of the given tables (all columns), read on a fresh connection."""
    from app.extensions import db

    snapshot = {}
    with app.app_context(), db.engine.connect() as conn:
        for model in models:
            table = getattr(model, "__table__", model)
            (pk_column,) = table.primary_key.columns
            snapshot[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(pk_column))]
    return snapshot


def add_report_set(rows: Rows, tag: str, store_set: dict[str, int], day: dt.date) -> dict[str, int]:
    """Campaign reporting of a store set: a published day questionnaire (its name, pages and
    labels tagged), three past appointments of the set's job booked to the set's promoter,
    and on them a draft, a submitted and an approved day report with tagged answers (a
    repeating group too) and a photo each for the draft and the approved one.

    The photos' bytes (holding the tag) are in the report storage.
    """
    from app.models.planning import Appointment, Booking
    from app.models.reporting import (
        Question,
        Questionnaire,
        QuestionnairePage,
        QuestionnaireVersion,
        Report,
        ReportAnswer,
        ReportFile,
    )

    now = dt.datetime.now().replace(microsecond=0)
    ids: dict[str, int] = {}
    ids["questionnaire"] = rows.add(
        Questionnaire,
        name=f"Leakcheck Fragebogen {tag}",
        kind="day",
        description=f"Leakcheck {tag}",
        created_at=now,
    )
    ids["questionnaire_version"] = rows.add(
        QuestionnaireVersion,
        questionnaire_id=ids["questionnaire"],
        number=1,
        published_at=now,
        created_at=now,
    )
    ids["questionnaire_page"] = rows.add(
        QuestionnairePage,
        version_id=ids["questionnaire_version"],
        position=0,
        title_de=f"Leakcheck Seite {tag}",
        title_en=f"Leakcheck page {tag}",
    )
    questions = (("contacts", "integer"), ("remarks", "text"), ("products", "group"), ("shelf", "photo"))
    for position, (key, kind) in enumerate(questions):
        pk = rows.add(
            Question,
            version_id=ids["questionnaire_version"],
            page_id=ids["questionnaire_page"],
            position=position,
            key=key,
            kind=kind,
            label_de=f"Leakcheck {key} {tag}",
            label_en=f"Leakcheck {key} {tag} (en)",
            required=False,
        )
        if position == 0:
            ids["question"] = pk
        if kind == "group":
            rows.add(
                Question,
                version_id=ids["questionnaire_version"],
                page_id=ids["questionnaire_page"],
                parent_id=pk,
                position=0,
                key="product",
                kind="text",
                label_de=f"Leakcheck Produkt {tag}",
                required=False,
            )
    for offset, status in ((3, "draft"), (2, "submitted"), (1, "approved")):
        appointment = rows.add(
            Appointment,
            job_id=store_set["job"],
            date=day - dt.timedelta(days=offset),
            start_time=dt.time(9),
            end_time=dt.time(17),
            status="done" if status == "approved" else "planned",
            actual_start_time=dt.time(9, 5) if status == "approved" else None,
            actual_end_time=dt.time(16, 55) if status == "approved" else None,
            origin="agency",
            note=f"Leakcheck report appointment {tag}",
            version=1,
        )
        ids[f"report_appointment_{status}"] = appointment
        rows.add(Booking, appointment_id=appointment, promoter_id=store_set["promoter"], status="confirmed")
        report = rows.add(
            Report,
            kind="day",
            appointment_id=appointment,
            job_id=store_set["job"],
            questionnaire_version_id=ids["questionnaire_version"],
            promoter_id=store_set["promoter"],
            status=status,
            actual_start=dt.time(9, 5),
            actual_end=dt.time(16, 55),
            break_minutes=30,
            submitted_at=None if status == "draft" else now,
            reviewed_at=now if status == "approved" else None,
            created_at=now,
            updated_at=now,
            revision=1,
        )
        ids[f"report_{status}"] = report
        for key, text, number, group in (
            ("contacts", None, 17, None),
            ("remarks", f"Leakcheck Bemerkung {tag}", None, None),
            ("product", f"Leakcheck Ware {tag}", None, "products"),
        ):
            rows.add(
                ReportAnswer,
                report_id=report,
                question_key=key,
                group_key=group,
                item=0,
                value_text=text,
                value_number=number,
            )
        if status in ("draft", "approved"):
            key = secrets.token_urlsafe(24)  # the storage's key format: 32 characters
            ids[f"file_{status}"] = rows.add(
                ReportFile,
                report_id=report,
                question_key="shelf",
                item=0,
                storage_key=f"{key}.jpg",
                thumbnail_key=f"{key}-thumb.jpg",
                content_type="image/jpeg",
                byte_size=100,
                width=10,
                height=10,
                original_name=f"leakcheck-{tag}.jpg",
                created_at=now,
            )
            _store_leakcheck_bytes(rows.app, tag, (f"{key}.jpg", f"{key}-thumb.jpg"))
    return ids


def _store_leakcheck_bytes(app: Flask, tag: str, keys: tuple[str, ...]) -> None:
    """Bytes holding the tag under the file's and its thumbnail's keys in the report storage."""
    from app.reporting.storage import storage_for

    storage = storage_for(app)
    for key in keys:
        storage.put(key, f"Leakcheck photo {tag}".encode(), "image/jpeg")
