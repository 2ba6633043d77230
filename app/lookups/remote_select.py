"""Searchable remote selects for agency forms: no dropdown of every row.

A form field renders a ``<select>`` holding only the chosen row; Select2 (loaded
by FAB on every page) reads ``data-ajax--url`` from the element and asks
``RemoteSelectView`` for one page of matches while the user types. The search
runs in SQL and answers at most ``PAGE_SIZE`` rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from flask import jsonify, request, url_for
from flask_appbuilder.api import BaseApi, expose, protect
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import contains_eager
from wtforms import Field
from wtforms.validators import DataRequired, ValidationError

from app.extensions import db
from app.models.crm import Company, Contact, Location
from app.models.planning import Appointment, Job, Project
from app.models.promoter import Promoter

PAGE_SIZE = 20
_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")


def _words(term: str) -> list[str]:
    return [w for w in term.split() if w][:5]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_match(word: str, *columns) -> object:
    pattern = _like(word)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def _appointments(term: str) -> Select:
    stmt = (
        select(Appointment)
        .join(Appointment.job)
        .join(Job.location)
        .options(contains_eager(Appointment.job).contains_eager(Job.location))
        .order_by(Appointment.date.desc(), Appointment.start_time, Appointment.id)
    )
    for word in _words(term):
        found = _DATE.match(word)
        if found:
            day, month, year = (int(part) for part in found.groups())
            try:
                stmt = stmt.where(Appointment.date == datetime(year, month, day).date())
            except ValueError:
                stmt = stmt.where(Appointment.id.is_(None))
        elif word.isdigit():
            stmt = stmt.where(
                or_(Appointment.id == int(word), _text_match(word, Job.title, Location.name, Location.city))
            )
        else:
            stmt = stmt.where(_text_match(word, Job.title, Location.name, Location.city))
    return stmt


def _appointment_label(item: Appointment) -> str:
    return f"{item!r} · {item.job.title} · {item.job.location!r}"


def _jobs(term: str) -> Select:
    stmt = (
        select(Job)
        .join(Job.location)
        .join(Job.project)
        .options(contains_eager(Job.location), contains_eager(Job.project))
        .order_by(Job.title, Job.id)
    )
    for word in _words(term):
        stmt = stmt.where(_text_match(word, Job.title, Location.name, Location.city, Project.name))
    return stmt


def _job_label(item: Job) -> str:
    return f"{item.title} · {item.project.name} · {item.location!r}"


def _locations(term: str) -> Select:
    stmt = select(Location).order_by(Location.name, Location.id)
    for word in _words(term):
        stmt = stmt.where(_text_match(word, Location.name, Location.city, cast(Location.postcode, String)))
    return stmt


def _contacts(term: str) -> Select:
    stmt = (
        select(Contact)
        .outerjoin(Contact.company)
        .options(contains_eager(Contact.company))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )
    for word in _words(term):
        stmt = stmt.where(_text_match(word, Contact.first_name, Contact.last_name, Company.name))
    return stmt


def _projects(term: str) -> Select:
    stmt = (
        select(Project)
        .join(Project.customer)
        .options(contains_eager(Project.customer))
        .order_by(Project.start_date.desc(), Project.name, Project.id)
    )
    for word in _words(term):
        stmt = stmt.where(_text_match(word, Project.name, Company.name))
    return stmt


def _project_label(item: Project) -> str:
    return f"{item.name} · {item.customer.name} · {item.start_date:%d.%m.%Y}–{item.end_date:%d.%m.%Y}"


def _promoters(term: str) -> Select:
    stmt = select(Promoter).order_by(Promoter.last_name, Promoter.first_name, Promoter.id)
    for word in _words(term):
        stmt = stmt.where(_text_match(word, Promoter.first_name, Promoter.last_name, Promoter.city))
    return stmt


#: kind → (model, search statement, option label)
SOURCES: dict[str, tuple[type, Callable[[str], Select], Callable[[object], str]]] = {
    "appointment": (Appointment, _appointments, _appointment_label),
    "job": (Job, _jobs, _job_label),
    "location": (Location, _locations, repr),
    "contact": (Contact, _contacts, repr),
    "promoter": (Promoter, _promoters, repr),
    "project": (Project, _projects, _project_label),
}


def search_page(kind: str, term: str, page: int) -> tuple[list[tuple[int, str]], bool]:
    """One page of ``(id, label)`` matches and whether there are more."""
    _model, build, label = SOURCES[kind]
    offset = (max(page, 1) - 1) * PAGE_SIZE
    rows = db.session.scalars(build(term[:100]).offset(offset).limit(PAGE_SIZE + 1)).unique().all()
    return [(row.id, label(row)) for row in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


class RemoteSelectApi(BaseApi):
    """JSON for Select2: ``{"results": [{"id", "text"}], "pagination": {"more"}}``.

    Registered like the agency's other APIs: the Agency role only.
    """

    resource_name = "remote-select"
    allow_browser_login = True  # the forms call it with the logged-in session
    openapi_spec_tag = "Remote select"

    @expose("/<kind>", methods=["GET"])
    @protect()
    def options(self, kind: str):
        if kind not in SOURCES:
            return jsonify({"results": [], "pagination": {"more": False}}), 404
        term = request.args.get("term", "", type=str)
        page = request.args.get("page", 1, type=int) or 1
        rows, more = search_page(kind, term, min(page, 10_000))
        return jsonify(
            {"results": [{"id": pk, "text": text} for pk, text in rows], "pagination": {"more": more}}
        )


class RemoteSelectWidget:
    """A Select2 ``<select>`` with only the chosen option; the rest come from the server."""

    def __call__(self, field: RemoteSelectField, **kwargs) -> Markup:
        url = url_for("RemoteSelectApi.options", kind=field.kind)
        placeholder = escape(str(_l("Type to search")))
        options = '<option value=""></option>'
        if field.data is not None:
            options += (
                f'<option value="{field.data.id}" selected>{escape(field.option_label(field.data))}</option>'
            )
        return Markup(
            f'<select id="{escape(field.id)}" name="{escape(field.name)}" '
            f'class="my_select2 form-control" data-ajax--url="{escape(url)}" '
            f'data-ajax--delay="250" data-ajax--cache="true" data-minimum-input-length="0" '
            f'data-placeholder="{placeholder}" data-allow-clear="true" style="width:100%">'
            f"{options}</select>"
        )


class RemoteSelectField(Field):
    """A relation chosen by primary key; ``data`` is the ORM row (or None)."""

    widget = RemoteSelectWidget()

    def __init__(self, label=None, validators=None, kind: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.kind = kind
        self._unknown = False

    @property
    def model(self) -> type:
        return SOURCES[self.kind][0]

    def option_label(self, item) -> str:
        return SOURCES[self.kind][2](item)

    def process_data(self, value) -> None:
        self.data = value

    def process_formdata(self, valuelist) -> None:
        raw = (valuelist[0] if valuelist else "") or ""
        raw = raw.strip()
        self.data = None
        if not raw or raw == "__None":  # FAB's "nothing chosen" of its own selects
            return
        if raw.isdigit() and len(raw) < 19:
            self.data = db.session.get(self.model, int(raw))
        self._unknown = self.data is None

    def pre_validate(self, form) -> None:
        if self._unknown:
            raise ValidationError(str(_l("Please choose an entry from the list.")))


class RemoteMultiSelectWidget(RemoteSelectWidget):
    """The remote select with ``multiple``: the chosen rows as options, more by searching."""

    def __call__(self, field: RemoteMultiSelectField, **kwargs) -> Markup:
        chosen, field.data = field.data, None  # the single widget renders one chosen row
        try:
            html = str(super().__call__(field, **kwargs))
        finally:
            field.data = chosen
        options = "".join(
            f'<option value="{item.id}" selected>{escape(field.option_label(item))}</option>'
            for item in chosen or []
        )
        html = html.replace("<select ", "<select multiple ", 1)
        return Markup(html.replace('<option value=""></option>', options, 1))


class RemoteMultiSelectField(RemoteSelectField):
    """Several rows of one kind chosen by primary key; ``data`` is a list of ORM rows."""

    widget = RemoteMultiSelectWidget()

    def process_data(self, value) -> None:
        self.data = list(value or [])

    def process_formdata(self, valuelist) -> None:
        self.data, self._unknown = [], False
        for raw in valuelist[:200]:
            raw = (raw or "").strip()
            if not raw or raw == "__None":
                continue
            row = db.session.get(self.model, int(raw)) if raw.isdigit() and len(raw) < 19 else None
            if row is None:
                self._unknown = True
            elif row not in self.data:
                self.data.append(row)


def remote_select(
    label, kind: str, required: bool = True, validators: list | None = None
) -> RemoteSelectField:
    """A remote select for ``kind`` (appointment, job, location, contact, promoter).

    FAB does not apply ``validators_columns`` to extra fields, so pass them here.
    """
    first = [DataRequired()] if required else []
    return RemoteSelectField(label, validators=[*first, *(validators or [])], kind=kind)
