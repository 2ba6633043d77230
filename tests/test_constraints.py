"""Every rule of the data model: bad input gets a clear form error, never a 500.

First the agency forms (as the Agency user, in German and English): the form
comes back (200) with an error beside the field, and nothing is written. Then
the database itself: each CHECK / UNIQUE / FOREIGN KEY constraint exists and
rejects a bad row even without the forms.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from tests.helpers import (
    DATABASE_ERROR_WORDS,
    Rows,
    build_campaign,
    client_for,
    count_rows,
    field_error_lists,
    field_errors,
    flashes,
    flatten,
    form_values,
    fresh_row,
    german_variants,
    ids_where,
    is_login_redirect,
    model_of,
    translation,
    unique,
    view_by_name,
)

LOCALES = ("de", "en")
REQUIRED = "This field is required."
NOT_A_CHOICE = "Not a valid choice."
TAKEN = "Already exists."


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def ids(app, rows):
    """The module's own campaign plus second rows to collide with."""
    from app.models.crm import Contact, Location, Territory
    from app.models.planning import Job
    from app.models.promoter import Promoter

    ids = rows.campaign()
    tag = ids["tag"]
    ids["territory2"] = rows.add(Territory, name=f"Untergebiet {tag}", parent_id=ids["territory"])
    ids["contact2"] = rows.add(
        Contact,
        company_id=ids["customer"],
        first_name="Zweit",
        last_name=f"Kontakt {tag}",
        email=f"zweit-{tag}@example.com",
        language="de",
    )
    ids["location2"] = rows.add(
        Location,
        name=f"Markt2 {tag}",
        street="Weg 2",
        postcode="20095",
        city=f"Ort {tag}",
        federal_state="HH",
    )
    ids["job2"] = rows.add(Job, project_id=ids["project"], location_id=ids["location2"], title=f"Job2 {tag}")
    linked_contact = ids_where(app, Contact, Contact.user_id.is_not(None))
    linked_promoter = ids_where(app, Promoter, Promoter.user_id.is_not(None))
    assert linked_contact and linked_promoter, "the demo should link contacts and promoters to logins"
    ids["contact_user"] = fresh_row(app, Contact, linked_contact[0])["user_id"]
    ids["promoter_user"] = fresh_row(app, Promoter, linked_promoter[0])["user_id"]
    return ids


@pytest.fixture(scope="module")
def clients(app):
    cache = {}

    def get(locale: str = "de"):
        if locale not in cache:
            cache[locale] = client_for(app, "agentur", None if locale == "de" else locale)
        return cache[locale]

    return get


# ---------------------------------------------------------------- valid data, per screen


def _fresh_location(rows: Rows) -> int:
    from app.models.crm import Location

    return rows.add(
        Location, name=unique("Markt"), street="Weg 3", postcode="10115", city="Berlin", federal_state="BE"
    )


def _fresh_promoter(rows: Rows) -> int:
    from app.models.promoter import Promoter

    return rows.add(Promoter, first_name="Neu", last_name=unique("Promoter"))


def _fresh_applicant(rows: Rows, job: int) -> int:
    """A promoter the agency may request for the job's appointments (an accepted applicant)."""
    from app.models.planning import Application

    promoter = _fresh_promoter(rows)
    rows.add(Application, promoter_id=promoter, job_id=job, status="accepted")
    return promoter


def valid_add(view_name: str, ids: dict, rows: Rows) -> dict[str, str]:
    """Data the add form of a screen accepts (the control for every case below)."""
    tag = uuid.uuid4().hex[:8]
    return {
        "TerritoryView": lambda: {"name": f"Gebiet neu {tag}"},
        "CompanyView": lambda: {
            "name": f"Firma {tag}",
            "kind": "customer",
            "postcode": "50667",
            "city": "Köln",
        },
        "ContactView": lambda: {
            "first_name": "Max",
            "last_name": f"Muster {tag}",
            "company": str(ids["customer"]),
            "language": "de",
            "email": f"max-{tag}@example.com",
            "user": "__None",
        },
        "LocationView": lambda: {
            "name": f"Markt neu {tag}",
            "street": "Jungfernstieg 1",
            "postcode": "20095",
            "city": "Hamburg",
            "federal_state": "HH",
        },
        "NoteView": lambda: {"contact": str(ids["contact"]), "text": f"Notiz {tag}"},
        "TaskView": lambda: {
            "contact": str(ids["contact"]),
            "title": f"Anruf {tag}",
            "kind": "call",
            "due_date": "2026-05-01",
            "done": "y",
            "assignee": "__None",
        },
        "ProjectView": lambda: {
            "name": f"Projekt neu {tag}",
            "customer": str(ids["customer"]),
            "start_date": "2026-01-01",
            "end_date": "2026-02-01",
        },
        "JobView": lambda: {
            "title": f"Job neu {tag}",
            "project": str(ids["project"]),
            "location": str(_fresh_location(rows)),
            "planned_days_per_week": "3",
        },
        "AppointmentView": lambda: {
            "job": str(ids["job"]),
            "date": "2026-03-03",
            "start_time": "10:00",
            "end_time": "12:00",
        },
        "ApplicationView": lambda: {
            "promoter": str(_fresh_promoter(rows)),
            "job": str(ids["job"]),
        },
        "BookingView": lambda: {
            "appointment": str(ids["appointment"]),
            "promoter": str(_fresh_applicant(rows, ids["job"])),
        },
        "PromoterView": lambda: {
            "first_name": "Pia",
            "last_name": f"Neu {tag}",
            "email": f"pia-{tag}@example.com",
            "active": "y",
            "user": "__None",
        },
    }[view_name]()


def _form(client, url: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return form_values(response.get_data(as_text=True))


def _all_pks(app, model) -> set:
    return set(ids_where(app, model))


@pytest.mark.parametrize(
    "view_name",
    [
        "TerritoryView",
        "CompanyView",
        "ContactView",
        "LocationView",
        "NoteView",
        "TaskView",
        "ProjectView",
        "JobView",
        "AppointmentView",
        "ApplicationView",
        "BookingView",
        "PromoterView",
    ],
)
def test_valid_data_is_saved(app, clients, ids, rows, view_name):
    """The control: the data the cases below spoil is accepted as it is."""
    view = view_by_name(app, view_name)
    model = model_of(view)
    client = clients()
    values = _form(client, f"{view.route_base}/add")
    values.update({k: [v] for k, v in valid_add(view_name, ids, rows).items()})
    before = _all_pks(app, model)
    response = client.post(f"{view.route_base}/add", data=flatten(values))
    new = _all_pks(app, model) - before
    for pk in new:
        rows.adopt(model, pk)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert len(new) == 1


# ---------------------------------------------------------------- the cases


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    view: str
    field: str
    changes: Callable[[dict], dict[str, str]]
    message: str | None = None  # the English text of the expected error, when known
    edit: str | None = None  # key of the row to edit; None: the add form

    def __str__(self) -> str:
        return self.id


# The status fields of jobs, applications, appointments and bookings are in no form
# (their workflows change them): tests/test_write_paths.py. Bookings and applications
# are not edited in a form at all.
CASES = [
    # territories
    Case("territory-name-taken", "TerritoryView", "name", lambda i: {"name": f"Gebiet {i['tag']}"}, TAKEN),
    Case(
        "territory-renamed-to-taken-name",
        "TerritoryView",
        "name",
        lambda i: {"name": f"Gebiet {i['tag']}"},
        TAKEN,
        edit="territory2",
    ),
    Case(
        "territory-own-parent",
        "TerritoryView",
        "parent",
        lambda i: {"parent": str(i["territory"])},
        "A territory cannot lie below itself.",
        edit="territory",
    ),
    Case(
        "territory-below-own-child",
        "TerritoryView",
        "parent",
        lambda i: {"parent": str(i["territory2"])},
        "A territory cannot lie below itself.",
        edit="territory",
    ),
    Case("territory-without-name", "TerritoryView", "name", lambda i: {"name": ""}, REQUIRED),
    # companies
    Case("company-without-name", "CompanyView", "name", lambda i: {"name": ""}, REQUIRED),
    Case("company-unknown-kind", "CompanyView", "kind", lambda i: {"kind": "supplier"}, NOT_A_CHOICE),
    Case(
        "company-postcode-short",
        "CompanyView",
        "postcode",
        lambda i: {"postcode": "999"},
        "A postcode has five digits.",
    ),
    Case(
        "company-name-blanked-on-edit",
        "CompanyView",
        "name",
        lambda i: {"name": "  "},
        REQUIRED,
        edit="customer",
    ),
    # contacts
    Case(
        "contact-email-taken",
        "ContactView",
        "email",
        lambda i: {"email": f"kontakt-{i['tag']}@example.com"},
        TAKEN,
    ),
    Case(
        "contact-email-taken-other-case",
        "ContactView",
        "email",
        lambda i: {"email": f"KONTAKT-{i['tag']}@Example.COM"},
        TAKEN,
    ),
    Case(
        "contact-email-changed-to-taken",
        "ContactView",
        "email",
        lambda i: {"email": f"kontakt-{i['tag']}@example.com"},
        TAKEN,
        edit="contact2",
    ),
    Case("contact-email-invalid", "ContactView", "email", lambda i: {"email": "kein-at-zeichen"}),
    Case("contact-login-taken", "ContactView", "user", lambda i: {"user": str(i["contact_user"])}),
    Case("contact-without-last-name", "ContactView", "last_name", lambda i: {"last_name": ""}, REQUIRED),
    Case("contact-without-company", "ContactView", "company", lambda i: {"company": ""}),
    Case("contact-unknown-language", "ContactView", "language", lambda i: {"language": "fr"}, NOT_A_CHOICE),
    Case(
        "contact-unknown-salutation",
        "ContactView",
        "salutation",
        lambda i: {"salutation": "dr"},
        NOT_A_CHOICE,
    ),
    # locations
    Case(
        "location-unknown-federal-state",
        "LocationView",
        "federal_state",
        lambda i: {"federal_state": "XX"},
        NOT_A_CHOICE,
    ),
    Case(
        "location-federal-state-changed-to-unknown",
        "LocationView",
        "federal_state",
        lambda i: {"federal_state": "AT"},
        NOT_A_CHOICE,
        edit="location",
    ),
    Case(
        "location-postcode-four-digits",
        "LocationView",
        "postcode",
        lambda i: {"postcode": "1234"},
        "A postcode has five digits.",
    ),
    Case(
        "location-postcode-with-letter",
        "LocationView",
        "postcode",
        lambda i: {"postcode": "2009A"},
        "A postcode has five digits.",
    ),
    Case(
        "location-postcode-six-digits",
        "LocationView",
        "postcode",
        lambda i: {"postcode": "200950"},
        "A postcode has five digits.",
    ),
    Case(
        "location-postcode-changed-to-bad",
        "LocationView",
        "postcode",
        lambda i: {"postcode": "123"},
        "A postcode has five digits.",
        edit="location",
    ),
    Case(
        "location-postcode-too-long",
        "LocationView",
        "postcode",
        lambda i: {"postcode": "12345678901"},
        "A postcode has five digits.",
    ),
    Case("location-without-city", "LocationView", "city", lambda i: {"city": ""}, REQUIRED),
    # projects
    Case(
        "project-ends-before-start",
        "ProjectView",
        "end_date",
        lambda i: {"start_date": "2026-05-01", "end_date": "2026-04-30"},
        "The end date must not lie before the start date.",
    ),
    Case(
        "project-end-moved-before-start",
        "ProjectView",
        "end_date",
        lambda i: {"end_date": "2025-12-31"},
        "The end date must not lie before the start date.",
        edit="project",
    ),
    Case("project-without-start", "ProjectView", "start_date", lambda i: {"start_date": ""}),
    Case("project-without-customer", "ProjectView", "customer", lambda i: {"customer": ""}),
    # jobs
    Case(
        "job-twice-at-a-location",
        "JobView",
        "location",
        lambda i: {"location": str(i["location"])},
        "This project already has a job at this location.",
    ),
    Case(
        "job-moved-to-a-taken-location",
        "JobView",
        "location",
        lambda i: {"location": str(i["location"])},
        "This project already has a job at this location.",
        edit="job2",
    ),
    Case(
        "job-zero-days",
        "JobView",
        "planned_days_per_week",
        lambda i: {"planned_days_per_week": "0"},
        "Between 1 and 7 days a week.",
    ),
    Case(
        "job-eight-days",
        "JobView",
        "planned_days_per_week",
        lambda i: {"planned_days_per_week": "8"},
        "Between 1 and 7 days a week.",
    ),
    Case(
        "job-days-changed-to-nine",
        "JobView",
        "planned_days_per_week",
        lambda i: {"planned_days_per_week": "9"},
        "Between 1 and 7 days a week.",
        edit="job",
    ),
    Case("job-without-title", "JobView", "title", lambda i: {"title": ""}, REQUIRED),
    # applications
    Case(
        "application-twice",
        "ApplicationView",
        "job",
        lambda i: {"promoter": str(i["promoter"]), "job": str(i["job"])},
        "This promoter has already applied for this job.",
    ),
    # appointments
    Case(
        "appointment-ends-before-start",
        "AppointmentView",
        "end_time",
        lambda i: {"start_time": "10:00", "end_time": "09:00"},
        "The end must be after the start.",
    ),
    Case(
        "appointment-ends-at-start",
        "AppointmentView",
        "end_time",
        lambda i: {"start_time": "10:00", "end_time": "10:00"},
        "The end must be after the start.",
    ),
    Case(
        "appointment-end-moved-before-start",
        "AppointmentView",
        "end_time",
        lambda i: {"end_time": "08:00"},
        "The end must be after the start.",
        edit="appointment",
    ),
    Case("appointment-without-date", "AppointmentView", "date", lambda i: {"date": ""}),
    Case("appointment-without-job", "AppointmentView", "job", lambda i: {"job": ""}),
    # bookings
    Case(
        "booking-twice",
        "BookingView",
        "promoter",
        lambda i: {"appointment": str(i["appointment"]), "promoter": str(i["promoter"])},
        "This promoter is already on this appointment.",
    ),
    # notes, tasks, promoters
    Case("note-without-text", "NoteView", "text", lambda i: {"text": ""}, REQUIRED),
    Case("task-unknown-kind", "TaskView", "kind", lambda i: {"kind": "meeting"}, NOT_A_CHOICE),
    Case("task-without-due-date", "TaskView", "due_date", lambda i: {"due_date": ""}),
    Case(
        "promoter-email-taken",
        "PromoterView",
        "email",
        lambda i: {"email": f"promoter-{i['tag']}@example.com"},
        TAKEN,
    ),
    Case(
        "promoter-email-taken-other-case",
        "PromoterView",
        "email",
        lambda i: {"email": f"Promoter-{i['tag']}@EXAMPLE.com"},
        TAKEN,
    ),
    Case("promoter-login-taken", "PromoterView", "user", lambda i: {"user": str(i["promoter_user"])}),
    Case("promoter-without-last-name", "PromoterView", "last_name", lambda i: {"last_name": ""}, REQUIRED),
]


LIBRARY_MESSAGES = (REQUIRED, NOT_A_CHOICE, TAKEN)


def _check_error_message(case: Case, locale: str, shown: str, messages: list[str]) -> None:
    assert shown, f"{case}: the field {case.field} shows an empty error"
    repeated = sorted({m for m in messages if messages.count(m) > 1})
    assert not repeated, f"{case}: the same error is shown more than once: {messages}"
    for word in DATABASE_ERROR_WORDS:
        assert word not in shown, f"{case}: database error shown to the user: {shown!r}"
    if case.message is None:
        return
    if case.message in LIBRARY_MESSAGES:
        # Flask-AppBuilder's / WTForms' own text: any of their German wordings will do.
        expected = {case.message} if locale == "en" else german_variants(case.message)
        assert expected, f"no German text known for {case.message!r}"
        assert shown in expected, f"{case} ({locale}): error {shown!r}, expected one of {expected}"
        return
    expected = translation(case.message, locale)
    if expected is not None:
        assert shown == expected, f"{case} ({locale}): error {shown!r}, expected {expected!r}"
    else:
        assert shown != case.message, f"{case}: the error is not German: {shown!r}"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_data_gets_a_form_error(app, clients, ids, rows, case, locale):
    view = view_by_name(app, case.view)
    model = model_of(view)
    client = clients(locale)
    if case.edit:
        pk = ids[case.edit]
        url = f"{view.route_base}/edit/{pk}"
        values = _form(client, url)
        stored_before = fresh_row(app, model, pk)
    else:
        url = f"{view.route_base}/add"
        values = _form(client, url)
        values.update({k: [v] for k, v in valid_add(case.view, ids, rows).items()})
    values.update({k: [v] for k, v in case.changes(ids).items()})
    before = _all_pks(app, model)

    response = client.post(url, data=flatten(values))

    new = _all_pks(app, model) - before
    for pk_new in new:
        rows.adopt(model, pk_new)
    html = response.get_data(as_text=True)
    if response.status_code == 302:
        follow = client.get(response.headers["Location"]).get_data(as_text=True)
        pytest.fail(f"{case}: not refused by the form (302); the user is shown {flashes(follow)}")
    assert response.status_code == 200, f"{case}: status {response.status_code}"
    errors = field_error_lists(html)
    assert case.field in errors, f"{case}: no error beside {case.field}; errors: {errors}"
    _check_error_message(case, locale, " ".join(errors[case.field]), errors[case.field])
    assert not new, f"{case}: a row was written"
    if case.edit:
        assert fresh_row(app, model, ids[case.edit]) == stored_before, f"{case}: the row was changed"


def test_two_contacts_without_email_are_allowed(app, clients, ids, rows):
    from app.models.crm import Contact

    view = view_by_name(app, "ContactView")
    client = clients()
    for _ in range(2):
        values = _form(client, f"{view.route_base}/add")
        values.update({k: [v] for k, v in valid_add("ContactView", ids, rows).items()})
        values["email"] = [""]
        before = _all_pks(app, Contact)
        response = client.post(f"{view.route_base}/add", data=flatten(values))
        new = _all_pks(app, Contact) - before
        for pk in new:
            rows.adopt(Contact, pk)
        assert response.status_code == 302, field_errors(response.get_data(as_text=True))
        assert len(new) == 1
        assert fresh_row(app, Contact, new.pop())["email"] is None, "an empty email must be stored as NULL"


@pytest.mark.parametrize("view_name", ["TaskView", "PromoterView"])
def test_an_unticked_box_is_saved_as_no(app, clients, ids, rows, view_name):
    """An open task (done not ticked) and an inactive promoter can be saved."""
    view = view_by_name(app, view_name)
    model = model_of(view)
    box = {"TaskView": "done", "PromoterView": "active"}[view_name]
    client = clients()
    values = _form(client, f"{view.route_base}/add")
    values.update({k: [v] for k, v in valid_add(view_name, ids, rows).items()})
    values[box] = []  # a browser sends nothing for an unticked checkbox
    before = _all_pks(app, model)
    response = client.post(f"{view.route_base}/add", data=flatten(values))
    new = _all_pks(app, model) - before
    for pk in new:
        rows.adopt(model, pk)
    assert response.status_code == 302, f"refused: {field_errors(response.get_data(as_text=True))}"
    assert len(new) == 1 and fresh_row(app, model, new.pop())[box] is False


def test_every_required_field_is_named_when_the_add_form_is_empty(app, clients):
    from tests.helpers import agency_views, can, many_to_one, plain_columns

    client = clients()
    problems = []
    for view in agency_views(app):
        if not can(view, "add"):
            continue
        model = model_of(view)
        url = f"{view.route_base}/add"
        values = _form(client, url)  # the empty form as the browser sends it
        before = count_rows(app, model)
        response = client.post(url, data=flatten(values))
        if response.status_code != 200:
            problems.append(f"{url}: status {response.status_code}")
            continue
        columns = plain_columns(model)
        relations = many_to_one(model)
        required = []
        for name in view.add_columns:
            column = columns.get(name)
            if name in relations:
                column = columns[relations[name]]
            if column is None or column.nullable or column.default is not None:
                continue
            if name in getattr(view, "add_form_extra_fields", {}) and values.get(name):
                continue  # a select with a preset value
            required.append(name)
        errors = field_errors(response.get_data(as_text=True))
        missing = [name for name in required if name not in errors]
        if missing:
            problems.append(f"{url}: no error for the required fields {missing}")
        if count_rows(app, model) != before:
            problems.append(f"{url}: a row was written")
    assert not problems, "\n".join(problems)


def test_unique_error_is_in_the_users_language(app, clients, ids):
    view = view_by_name(app, "TerritoryView")
    shown = {}
    for locale in ("de", "en", "de"):
        client = clients(locale)
        values = _form(client, f"{view.route_base}/add")
        values["name"] = [f"Gebiet {ids['tag']}"]
        response = client.post(f"{view.route_base}/add", data=flatten(values))
        assert response.status_code == 200
        shown.setdefault(locale, set()).add(field_errors(response.get_data(as_text=True)).get("name"))
    assert shown["en"] == {TAKEN}
    assert len(shown["de"]) == 1 and shown["de"] <= german_variants(TAKEN)


def test_a_stale_appointment_edit_is_refused(app, clients, ids):
    from app.models.planning import Appointment

    view = view_by_name(app, "AppointmentView")
    pk = ids["appointment"]
    client = clients()
    url = f"{view.route_base}/edit/{pk}"
    values = _form(client, url)
    assert values.get("expected_version"), "the edit form carries no version"
    values["expected_version"] = [str(int(values["expected_version"][0]) - 1)]
    values["note"] = ["überschrieben"]
    before = fresh_row(app, Appointment, pk)
    response = client.post(url, data=flatten(values))
    assert response.status_code in (200, 302)
    html = response.get_data(as_text=True)
    if response.status_code == 302:
        html = client.get(response.headers["Location"]).get_data(as_text=True)
    messages = " ".join(flashes(html) + list(field_errors(html).values()))
    assert messages.strip(), "the user is not told why nothing was saved"
    assert fresh_row(app, Appointment, pk) == before


# ---------------------------------------------------------------- deleting referenced rows


def _delete(app, client, view_name, pk):
    view = view_by_name(app, view_name)
    response = client.post(f"{view.route_base}/delete/{pk}")
    assert response.status_code == 302, f"delete answered {response.status_code}"
    assert not is_login_redirect(response)
    return flashes(client.get(response.headers["Location"]).get_data(as_text=True))


@pytest.mark.parametrize(
    ("view_name", "victim"),
    [
        ("CompanyView", "customer"),  # has contacts and a project
        ("LocationView", "location"),  # has a job
        ("ProjectView", "project"),  # has jobs
        ("JobView", "job"),  # has appointments
        ("PromoterView", "promoter"),  # has bookings
    ],
)
def test_deleting_a_row_in_use_is_refused_with_a_message(app, clients, rows, view_name, victim):
    """RESTRICT: the row stays, and the user reads why."""
    campaign = rows.campaign()
    view = view_by_name(app, view_name)
    model = model_of(view)
    messages = _delete(app, clients(), view_name, campaign[victim])
    assert fresh_row(app, model, campaign[victim]) is not None, "a row in use was deleted"
    text = " ".join(messages).strip()
    assert text, "the delete failed without telling the user why"
    for word in DATABASE_ERROR_WORDS:
        assert word not in text


def test_deleting_a_territory_with_sub_territories_is_refused(app, clients, rows):
    """territory.parent_id is ON DELETE RESTRICT: sub-territories must not silently become top-level."""
    from app.models.crm import Territory

    parent = rows.add(Territory, name=unique("Obergebiet"))
    child = rows.add(Territory, name=unique("Untergebiet"), parent_id=parent)
    _delete(app, clients(), "TerritoryView", parent)
    assert fresh_row(app, Territory, child)["parent_id"] == parent, "the sub-territory lost its parent"
    assert fresh_row(app, Territory, parent) is not None


def test_deleting_a_retail_chain_with_stores_is_refused(app, clients, rows):
    """location.retail_chain_id is ON DELETE RESTRICT: stores must not silently lose their chain."""
    from app.models.crm import Company, Location

    chain = rows.add(Company, name=unique("Kette"), kind="retail_chain")
    store = rows.add(
        Location,
        name=unique("Markt"),
        retail_chain_id=chain,
        street="Weg",
        postcode="10115",
        city="B",
        federal_state="BE",
    )
    _delete(app, clients(), "CompanyView", chain)
    assert fresh_row(app, Location, store)["retail_chain_id"] == chain, "the store lost its retail chain"
    assert fresh_row(app, Company, chain) is not None


def test_deleting_a_booked_appointment_is_clear(app, clients, rows):
    """booking.appointment_id is ON DELETE CASCADE: the appointment goes with its bookings;
    if the app refuses instead, the user must read why and nothing may be gone."""
    from app.models.planning import Appointment, Booking

    campaign = rows.campaign()
    messages = _delete(app, clients(), "AppointmentView", campaign["appointment"])
    appointment = fresh_row(app, Appointment, campaign["appointment"])
    booking = fresh_row(app, Booking, campaign["booking"])
    if appointment is None:
        assert booking is None, "the appointment is gone but its booking is left"
        return
    assert booking is not None
    text = " ".join(messages).strip()
    assert text, "the appointment was not deleted and the user is not told why"
    for word in DATABASE_ERROR_WORDS:
        assert word not in text


def test_deleting_an_unused_job_works(app, clients, rows):
    """The control of the delete tests: a row nobody uses is deleted."""
    from app.models.crm import Location
    from app.models.planning import Job

    campaign = rows.campaign()
    location = rows.add(
        Location, name=unique("Markt"), street="Weg", postcode="10115", city="B", federal_state="BE"
    )
    job = rows.add(Job, project_id=campaign["project"], location_id=location, title=unique("Job"))
    _delete(app, clients(), "JobView", job)
    assert fresh_row(app, Job, job) is None


# ---------------------------------------------------------------- the database itself


@pytest.fixture()
def conn(app):
    """A connection in a transaction that is rolled back: nothing stays behind."""
    from app.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def _adder(conn):
    def add(model, **values):
        return conn.execute(insert(model).values(**values)).inserted_primary_key[0]

    return add


def _models():
    from app.models.crm import Company, Contact, Location, Note, Task, Territory
    from app.models.planning import Application, Appointment, Booking, Job, Project
    from app.models.promoter import Promoter

    return {
        m.__name__: m
        for m in (
            Company,
            Contact,
            Location,
            Note,
            Task,
            Territory,
            Application,
            Appointment,
            Booking,
            Job,
            Project,
        )
    } | {"Promoter": Promoter}


DB_CASES: dict[str, Callable[[Any, dict, dict], Any]] = {
    "territory-name-unique": lambda c, i, m: c.execute(
        insert(m["Territory"]).values(name=f"Gebiet {i['tag']}")
    ),
    "territory-own-parent": lambda c, i, m: c.execute(
        update(m["Territory"]).where(m["Territory"].id == i["territory"]).values(parent_id=i["territory"])
    ),
    "territory-parent-missing": lambda c, i, m: c.execute(
        insert(m["Territory"]).values(name=unique("G"), parent_id=-1)
    ),
    "company-name-null": lambda c, i, m: c.execute(insert(m["Company"]).values(name=None, kind="customer")),
    "company-kind": lambda c, i, m: c.execute(insert(m["Company"]).values(name="X", kind="supplier")),
    "contact-email-unique": lambda c, i, m: c.execute(
        insert(m["Contact"]).values(
            company_id=i["customer"], first_name="A", last_name="B", email=f"kontakt-{i['tag']}@example.com"
        )
    ),
    "contact-company-missing": lambda c, i, m: c.execute(
        insert(m["Contact"]).values(company_id=-1, first_name="A", last_name="B")
    ),
    "contact-company-null": lambda c, i, m: c.execute(
        insert(m["Contact"]).values(company_id=None, first_name="A", last_name="B")
    ),
    "contact-language": lambda c, i, m: c.execute(
        insert(m["Contact"]).values(company_id=i["customer"], first_name="A", last_name="B", language="fr")
    ),
    "contact-salutation": lambda c, i, m: c.execute(
        insert(m["Contact"]).values(company_id=i["customer"], first_name="A", last_name="B", salutation="dr")
    ),
    "location-federal-state": lambda c, i, m: c.execute(
        insert(m["Location"]).values(name="X", street="S", postcode="12345", city="C", federal_state="XX")
    ),
    "location-federal-state-lowercase": lambda c, i, m: c.execute(
        insert(m["Location"]).values(name="X", street="S", postcode="12345", city="C", federal_state="by")
    ),
    "project-ends-before-start": lambda c, i, m: c.execute(
        update(m["Project"])
        .where(m["Project"].id == i["project"])
        .values(start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 4, 30))
    ),
    "job-unique-per-project-and-location": lambda c, i, m: c.execute(
        insert(m["Job"]).values(project_id=i["project"], location_id=i["location"], title="X")
    ),
    "job-zero-days": lambda c, i, m: c.execute(
        update(m["Job"]).where(m["Job"].id == i["job"]).values(planned_days_per_week=0)
    ),
    "job-eight-days": lambda c, i, m: c.execute(
        update(m["Job"]).where(m["Job"].id == i["job"]).values(planned_days_per_week=8)
    ),
    "job-status": lambda c, i, m: c.execute(
        update(m["Job"]).where(m["Job"].id == i["job"]).values(status="x")
    ),
    "application-unique": lambda c, i, m: c.execute(
        insert(m["Application"]).values(promoter_id=i["promoter"], job_id=i["job"])
    ),
    "application-status": lambda c, i, m: c.execute(
        update(m["Application"]).where(m["Application"].id == i["application"]).values(status="x")
    ),
    "appointment-ends-before-start": lambda c, i, m: c.execute(
        update(m["Appointment"])
        .where(m["Appointment"].id == i["appointment"])
        .values(start_time=dt.time(10), end_time=dt.time(9))
    ),
    "appointment-ends-at-start": lambda c, i, m: c.execute(
        update(m["Appointment"])
        .where(m["Appointment"].id == i["appointment"])
        .values(start_time=dt.time(10), end_time=dt.time(10))
    ),
    "appointment-status": lambda c, i, m: c.execute(
        update(m["Appointment"]).where(m["Appointment"].id == i["appointment"]).values(status="x")
    ),
    "appointment-origin": lambda c, i, m: c.execute(
        update(m["Appointment"]).where(m["Appointment"].id == i["appointment"]).values(origin="x")
    ),
    "appointment-job-missing": lambda c, i, m: c.execute(
        update(m["Appointment"]).where(m["Appointment"].id == i["appointment"]).values(job_id=-1)
    ),
    "booking-unique": lambda c, i, m: c.execute(
        insert(m["Booking"]).values(appointment_id=i["appointment"], promoter_id=i["promoter"])
    ),
    "booking-status": lambda c, i, m: c.execute(
        update(m["Booking"]).where(m["Booking"].id == i["booking"]).values(status="x")
    ),
    "task-kind": lambda c, i, m: c.execute(
        update(m["Task"]).where(m["Task"].id == i["task"]).values(kind="x")
    ),
    "promoter-email-unique": lambda c, i, m: c.execute(
        insert(m["Promoter"]).values(first_name="A", last_name="B", email=f"promoter-{i['tag']}@example.com")
    ),
    "company-in-use-deleted": lambda c, i, m: c.execute(
        m["Company"].__table__.delete().where(m["Company"].id == i["customer"])
    ),
    "location-in-use-deleted": lambda c, i, m: c.execute(
        m["Location"].__table__.delete().where(m["Location"].id == i["location"])
    ),
    "promoter-in-use-deleted": lambda c, i, m: c.execute(
        m["Promoter"].__table__.delete().where(m["Promoter"].id == i["promoter"])
    ),
}


@pytest.mark.parametrize("case", sorted(DB_CASES))
def test_database_rejects_bad_rows(conn, case):
    ids = build_campaign(_adder(conn))
    with pytest.raises(IntegrityError), conn.begin_nested():
        DB_CASES[case](conn, ids, _models())


DB_ALLOWED: dict[str, Callable[[Any, dict, dict], Any]] = {
    "two-contacts-without-email": lambda c, i, m: [
        c.execute(
            insert(m["Contact"]).values(company_id=i["customer"], first_name="A", last_name=unique("B"))
        )
        for _ in range(2)
    ],
    "project-of-one-day": lambda c, i, m: c.execute(
        update(m["Project"])
        .where(m["Project"].id == i["project"])
        .values(start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 1))
    ),
    "job-one-day": lambda c, i, m: c.execute(
        update(m["Job"]).where(m["Job"].id == i["job"]).values(planned_days_per_week=1)
    ),
    "job-seven-days": lambda c, i, m: c.execute(
        update(m["Job"]).where(m["Job"].id == i["job"]).values(planned_days_per_week=7)
    ),
    "job-no-days-planned": lambda c, i, m: c.execute(
        update(m["Job"]).where(m["Job"].id == i["job"]).values(planned_days_per_week=None)
    ),
    "same-location-in-another-project": lambda c, i, m: c.execute(
        insert(m["Job"]).values(
            project_id=_adder(c)(
                m["Project"],
                name="P2",
                customer_id=i["customer"],
                start_date=dt.date(2026, 1, 1),
                end_date=dt.date(2026, 1, 2),
            ),
            location_id=i["location"],
            title="X",
        )
    ),
    "second-promoter-on-an-appointment": lambda c, i, m: c.execute(
        insert(m["Booking"]).values(appointment_id=i["appointment"], promoter_id=i["promoter2"])
    ),
    "territory-below-another": lambda c, i, m: c.execute(
        insert(m["Territory"]).values(name=unique("Unter"), parent_id=i["territory"])
    ),
}


@pytest.mark.parametrize("case", sorted(DB_ALLOWED))
def test_database_accepts_good_rows(conn, case):
    """The controls of test_database_rejects_bad_rows."""
    ids = build_campaign(_adder(conn))
    with conn.begin_nested():
        DB_ALLOWED[case](conn, ids, _models())


def test_deleting_a_contact_deletes_its_notes_and_tasks(conn):
    from app.models.crm import Contact, Note, Task

    ids = build_campaign(_adder(conn))
    conn.execute(Contact.__table__.delete().where(Contact.id == ids["contact"]))
    assert conn.execute(Note.__table__.select().where(Note.id == ids["note"])).first() is None
    assert conn.execute(Task.__table__.select().where(Task.id == ids["task"])).first() is None
