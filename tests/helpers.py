"""Helpers for the agency-screen tests: the screens, logged-in clients, reading
FAB's HTML, and rows made (and removed again) by the tests themselves.

Database work is done in short ``with app.app_context()`` blocks and never while
a request is issued: a request made inside an already pushed app context shares
that context's ``g`` (and so the logged-in user) and its database session.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_appbuilder import ModelView
from sqlalchemy import delete, func, insert, inspect, select
from werkzeug.datastructures import MultiDict

from tests.conftest import login, set_language

ROOT = Path(__file__).resolve().parent.parent
GERMAN_PO = ROOT / "translations" / "de" / "LC_MESSAGES" / "messages.po"
GERMAN_MO = GERMAN_PO.with_suffix(".mo")
PAGE_SIZE = 25

# Words of a database error that must never reach a user.
DATABASE_ERROR_WORDS = ("IntegrityError", "INSERT INTO", "UPDATE ", "constraint failed", "psycopg", "sqlite3")


def unique(prefix: str = "Test") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- the screens


def is_agency_view(view) -> bool:
    from app.security.roles import agency_permission_names

    return (
        isinstance(view, ModelView)
        and type(view).__module__.startswith("app.")
        and type(view).__name__ in agency_permission_names()
    )


def agency_views(app: Flask) -> list[ModelView]:
    """The agency screens as the app registered them (register_agency_view)."""
    return [view for view in app.appbuilder.baseviews if is_agency_view(view)]


def can(view, permission: str) -> bool:
    """Whether the screen offers ``permission`` (e.g. "add", "edit") at all."""
    return f"can_{permission}" in (view.base_permissions or [])


def view_by_name(app: Flask, name: str):
    for view in app.appbuilder.baseviews:
        if type(view).__name__ == name:
            return view
    raise LookupError(name)


@functools.cache
def structure_app() -> Flask:
    """An app without database, built at collection time to enumerate screens and URL rules."""
    from app import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@functools.cache
def agency_view_names() -> tuple[str, ...]:
    return tuple(type(view).__name__ for view in agency_views(structure_app()))


def other_agency_screens(app: Flask) -> list:
    """Agency screens that are no CRUD screen (and no API), e.g. the visibility check."""
    from flask_appbuilder.api import BaseApi

    from app.security.roles import agency_permission_names

    return [
        view
        for view in app.appbuilder.baseviews
        if type(view).__module__.startswith("app.")
        and type(view).__name__ in agency_permission_names()
        and not isinstance(view, ModelView | BaseApi)
    ]


@functools.cache
def other_agency_screen_names() -> tuple[str, ...]:
    return tuple(type(view).__name__ for view in other_agency_screens(structure_app()))


# ---------------------------------------------------------------- clients


def client_for(app: Flask, username: str | None = None, locale: str | None = None) -> FlaskClient:
    client = app.test_client()
    if username:
        login(client, username)
    if locale:
        set_language(client, locale)
    return client


# ---------------------------------------------------------------- translations


@functools.cache
def german_catalog() -> dict[str, str] | None:
    """msgid -> German msgstr of the app's catalog; None while there is no catalog."""
    if not GERMAN_PO.exists():
        return None
    from babel.messages.pofile import read_po

    with GERMAN_PO.open("rb") as fh:
        catalog = read_po(fh)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


def msgid(text) -> str:
    """The source (English) text of a lazy string."""
    from flask_babel.speaklater import LazyString

    if isinstance(text, LazyString) and text._args:
        return str(text._args[0])
    return str(text)


@functools.cache
def fab_german_catalog() -> dict[str, str]:
    """msgid -> German msgstr of Flask-AppBuilder's own catalog."""
    import flask_appbuilder
    from babel.messages.pofile import read_po

    path = Path(flask_appbuilder.__file__).parent / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if isinstance(m.id, str) and m.id and m.string}


@functools.cache
def wtforms_german_catalog() -> dict[str, str]:
    """msgid -> German msgstr of WTForms' own catalog (used for its validators' messages)."""
    import wtforms
    from babel.messages.pofile import read_po

    path = Path(wtforms.__file__).parent / "locale" / "de" / "LC_MESSAGES" / "wtforms.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if isinstance(m.id, str) and m.id and m.string}


def german_variants(text) -> set[str]:
    """Every German text a library's own message may come out as (app, FAB or WTForms catalog)."""
    source = msgid(text)
    catalogs = (german_catalog() or {}, fab_german_catalog(), wtforms_german_catalog())
    return {catalog[source] for catalog in catalogs if source in catalog}


def translation(text, locale: str) -> str | None:
    """The text in ``locale`` per the app's catalog, then Flask-AppBuilder's; None if unknown."""
    source = msgid(text)
    if locale == "en":
        return source
    catalog = german_catalog()
    if catalog is not None and source in catalog:
        assert GERMAN_MO.exists(), "German catalog not compiled: run `make translations`"
        return catalog[source]
    return fab_german_catalog().get(source)


def expected_text(text, locale: str) -> str | None:
    """What a user reading ``locale`` should see for the app's (lazy) string ``text``.

    None only while the app has no German catalog at all.
    """
    found = translation(text, locale)
    if found is None:
        assert german_catalog() is None, f"no German translation for {msgid(text)!r} in {GERMAN_PO.name}"
    return found


# ---------------------------------------------------------------- reading HTML


def text_of(fragment: str) -> str:
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def panel_title(html: str) -> str:
    """The title of the screen (first panel heading)."""
    match = re.search(r'<h4 class="panel-title">(.*?)</h4>', html, re.S)
    return text_of(match.group(1)) if match else ""


def model_form(html: str) -> str:
    match = re.search(r'<form id="model_form".*?</form>', html, re.S)
    return match.group(0) if match else ""


def field_error_lists(html: str) -> dict[str, list[str]]:
    """Field id -> the error messages shown beside that field in the model form."""
    errors = {}
    for row in re.findall(r"<tr>(.*?)</tr>", model_form(html), re.S):
        label = re.search(r'<label for="([^"]+)"', row)
        alert = re.search(r'<div class="alert alert-danger">(.*?)</div>', row, re.S)
        if label and alert:
            # FAB writes one message per line.
            errors[label.group(1)] = [text_of(line) for line in alert.group(1).splitlines() if text_of(line)]
    return errors


def field_errors(html: str) -> dict[str, str]:
    """Field id -> error text shown beside that field in the model form."""
    return {name: " ".join(messages) for name, messages in field_error_lists(html).items()}


def flashes(html: str) -> list[str]:
    return [
        text_of(m.group(2)).lstrip("×").strip()
        for m in re.finditer(
            r'<div class="alert alert-(\w+)">\s*<button[^>]*>.*?</button>(.*?)</div>', html, re.S
        )
    ]


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value") or "y")
                else:
                    self.values.setdefault(name, [])
            elif kind not in ("submit", "button", "file"):
                self.values.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values[self._textarea] = ["".join(self._text).lstrip("\r\n")]
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_values(html: str) -> dict[str, list[str]]:
    """name -> submitted values of the model form, as a browser would post it unchanged."""
    parser = _FormParser()
    parser.feed(model_form(html))
    return parser.values


def list_table(html: str) -> str:
    match = re.search(r'<table class="table table-bordered table-hover">(.*?)</table>', html, re.S)
    return match.group(1) if match else ""


def list_pks(html: str, view) -> list[str]:
    """Primary keys of the rows on a list page, in display order."""
    pks: list[str] = []
    for pk in re.findall(rf'href="{re.escape(view.route_base)}/show/([^"?/]+)', list_table(html)):
        if pk not in pks:
            pks.append(pk)
    return pks


def list_rows(html: str, view) -> list[list[str]]:
    """The list_columns cells of each row of a list page."""
    body = list_table(html)
    body = body.split("</thead>", 1)[-1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append(cells[-len(view.list_columns) :])
    return rows


def navbar(html: str) -> str:
    match = re.search(r'<ul class="nav navbar-nav">(.*?)<ul class="nav navbar-nav navbar-right">', html, re.S)
    return match.group(1) if match else ""


def menu_categories(html: str) -> list[str]:
    """Labels of the top-level menu entries (dropdowns) of the navbar."""
    return [
        text_of(label)
        for label in re.findall(r'<a class="dropdown-toggle"[^>]*>(.*?)<b class="caret">', navbar(html), re.S)
    ]


def menu_links(html: str) -> dict[str, str]:
    """href -> label of every entry of the navbar menu."""
    return {
        unescape(href): text_of(label)
        for href, label in re.findall(r'<a tabindex="-1" href="([^"]+)">(.*?)</a>', navbar(html), re.S)
    }


def all_links(html: str) -> set[str]:
    return {unescape(h) for h in re.findall(r'href="([^"]*)"', html)}


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


# ---------------------------------------------------------------- the database


@contextmanager
def db_session(app: Flask) -> Iterator[Any]:
    from app.extensions import db

    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.rollback()


def fresh_row(app: Flask, model, pk) -> dict | None:
    """The row as it is stored now (read on a new connection), or None."""
    from app.extensions import db

    table = model.__table__
    (pk_column,) = table.primary_key.columns
    with app.app_context(), db.engine.connect() as conn:
        row = conn.execute(select(table).where(pk_column == pk)).mappings().first()
        return dict(row) if row is not None else None


def count_rows(app: Flask, model) -> int:
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()


def first_pk(app: Flask, model):
    from app.extensions import db

    (pk_column,) = model.__table__.primary_key.columns
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(func.min(pk_column))).scalar()


def ids_where(app: Flask, model, *criteria, order_by=None) -> list:
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        stmt = select(model.id).where(*criteria)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        return list(conn.execute(stmt).scalars())


def column_values(app: Flask, column, order_by, limit: int | None = None) -> list:
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        stmt = select(column).order_by(order_by)
        if limit:
            stmt = stmt.limit(limit)
        return list(conn.execute(stmt).scalars())


class Rows:
    """Rows created by a test module; removed again (newest first) at the end."""

    def __init__(self, app: Flask):
        self.app = app
        self.created: list[tuple[Any, Any]] = []

    def add(self, model, **values):
        from app.extensions import db

        with self.app.app_context(), db.engine.begin() as conn:
            pk = conn.execute(insert(model).values(**values)).inserted_primary_key[0]
        self.created.append((model, pk))
        return pk

    def adopt(self, model, pk) -> None:
        if pk is not None and (model, pk) not in self.created:
            self.created.append((model, pk))

    def link(self, table, **values) -> None:
        from app.extensions import db

        with self.app.app_context(), db.engine.begin() as conn:
            conn.execute(insert(table).values(**values))
        self.created.append((table, values))

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

    def campaign(self) -> dict[str, Any]:
        """A complete little campaign of the module's own, every model once."""
        return build_campaign(self.add)


def build_campaign(add) -> dict[str, Any]:
    """Rows of every model, made with ``add(model, **values) -> pk``; returns the keys."""
    from app.models.crm import Company, Contact, Location, Note, Task, Territory
    from app.models.planning import Application, Appointment, Booking, Job, Project
    from app.models.promoter import Promoter

    tag = uuid.uuid4().hex[:8]
    ids: dict[str, Any] = {"tag": tag}
    ids["territory"] = add(Territory, name=f"Gebiet {tag}", description=f"Beschreibung {tag}")
    ids["customer"] = add(Company, name=f"Kunde {tag}", kind="customer", postcode="50667", city="Köln")
    ids["chain"] = add(Company, name=f"Kette {tag}", kind="retail_chain", city="Ingolstadt")
    ids["contact"] = add(
        Contact,
        company_id=ids["customer"],
        first_name=f"Vorname {tag}",
        last_name=f"Nachname {tag}",
        email=f"kontakt-{tag}@example.com",
        language="de",
    )
    ids["location"] = add(
        Location,
        name=f"Markt {tag}",
        retail_chain_id=ids["chain"],
        street=f"Teststraße {tag}",
        postcode="20095",
        city=f"Stadt {tag}",
        federal_state="HH",
        territory_id=ids["territory"],
    )
    ids["project"] = add(
        Project,
        name=f"Projekt {tag}",
        customer_id=ids["customer"],
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 30),
    )
    ids["job"] = add(
        Job,
        project_id=ids["project"],
        location_id=ids["location"],
        title=f"Job {tag}",
        status="open",
        planned_days_per_week=3,
    )
    ids["appointment"] = add(
        Appointment,
        job_id=ids["job"],
        date=dt.date(2026, 3, 2),
        start_time=dt.time(10, 0),
        end_time=dt.time(18, 0),
        note=f"Termin {tag}",
    )
    ids["promoter"] = add(
        Promoter, first_name=f"Pia {tag}", last_name=f"Promo {tag}", email=f"promoter-{tag}@example.com"
    )
    ids["promoter2"] = add(Promoter, first_name=f"Paul {tag}", last_name=f"Promo2 {tag}")
    ids["application"] = add(Application, promoter_id=ids["promoter"], job_id=ids["job"])
    ids["booking"] = add(Booking, appointment_id=ids["appointment"], promoter_id=ids["promoter"])
    ids["note"] = add(Note, contact_id=ids["contact"], text=f"Notiz {tag}")
    ids["task"] = add(Task, contact_id=ids["contact"], title=f"Aufgabe {tag}", due_date=dt.date(2026, 5, 4))
    return ids


def model_of(view):
    return view.datamodel.obj


def plain_columns(model) -> dict[str, Any]:
    """Column attribute name -> Column of a mapped model."""
    return {attr.key: attr.columns[0] for attr in inspect(model).column_attrs}


def many_to_one(model) -> dict[str, str]:
    """Relationship name -> local foreign-key attribute name, for many-to-one relations."""
    result = {}
    mapper = inspect(model)
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            (local,) = rel.local_columns
            result[rel.key] = mapper.get_property_by_column(local).key
    return result


def as_form_value(value, locale: str = "de") -> str:
    """What an agency form field shows for a stored value (dates in the user's format)."""
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y") if locale == "de" else f"{value.month}/{value.day}/{value.year}"
    return "" if value is None else str(value)


def flatten(values: dict[str, Iterable[str]]) -> MultiDict:
    """Form data for the test client from name -> values."""
    return MultiDict([(name, value) for name, items in values.items() for value in items])
