"""Every agency screen works for Admin and Agency, in German and in English.

The screens are taken from the app (the views registered through
``app.security.roles.register_agency_view``), not from a list kept here.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from flask import url_for
from sqlalchemy import String, Text
from werkzeug.datastructures import MultiDict

from tests.conftest import visible_text
from tests.helpers import (
    PAGE_SIZE,
    Rows,
    agency_view_names,
    agency_views,
    as_form_value,
    can,
    client_for,
    column_values,
    count_rows,
    db_session,
    expected_text,
    field_errors,
    first_pk,
    flatten,
    form_values,
    fresh_row,
    german_catalog,
    ids_where,
    is_login_redirect,
    list_pks,
    list_rows,
    many_to_one,
    menu_categories,
    menu_links,
    model_of,
    other_agency_screen_names,
    panel_title,
    plain_columns,
    text_of,
    translation,
    unique,
    view_by_name,
)

VIEW_NAMES = agency_view_names()
AGENCY_USERS = ("admin", "agentur")
LOCALES = ("de", "en")


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(app, rows):
    """One row of every model of the test's own (so that no screen is without a row)."""
    from app.extensions import db
    from app.outbox.enqueue import enqueue
    from app.outbox.models import OutboxMessage

    made = rows.campaign()
    with app.test_request_context():
        mail = enqueue(db.session, "digest_pending", "screens@example.com", "de", proposals=[], link="x")
        mail.status = "sent"
        db.session.commit()
        rows.adopt(OutboxMessage, mail.id)
    return made


@pytest.fixture(scope="module")
def clients(app):
    """One logged-in client per (user, language), shared by the module."""
    cache = {}

    def get(user: str, locale: str = "de"):
        if (user, locale) not in cache:
            # German is the default: no language switch for it.
            cache[user, locale] = client_for(app, user, None if locale == "de" else locale)
        return cache[user, locale]

    return get


def title_check(clients, user: str, locale: str, url: str, text, html: str) -> None:
    """The screen's title is shown in the user's language."""
    shown = panel_title(html)
    expected = expected_text(text, locale)
    if expected is not None:
        assert shown == expected, f"{url} ({locale}): title {shown!r}, expected {expected!r}"
        return
    # No German catalog yet: at least the German page must not be the English one.
    english = clients(user, "en").get(url)
    assert english.status_code == 200
    assert text_of(english.get_data(as_text=True)) != text_of(html), f"{url} is not German"


# ---------------------------------------------------------------- the screens exist


def test_agency_screens_are_found(app):
    names = [type(view).__name__ for view in agency_views(app)]
    assert names, "no agency screen registered"
    assert tuple(names) == VIEW_NAMES
    with app.test_request_context():
        menu_hrefs = {
            child.get_url() for item in app.appbuilder.menu.get_list() for child in item.childs or []
        }
    for view in agency_views(app):
        assert view.route_base + "/list/" in menu_hrefs, f"{type(view).__name__} is not in the menu"


# ---------------------------------------------------------------- list, show, add, edit


@pytest.mark.parametrize("view_name", VIEW_NAMES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_list_page(app, clients, campaign, user, locale, view_name):
    view = view_by_name(app, view_name)
    url = f"{view.route_base}/list/"
    response = clients(user, locale).get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    title_check(clients, user, locale, url, view.list_title, html)
    total = count_rows(app, model_of(view))
    assert len(list_pks(html, view)) == min(total, view.page_size), f"{url}: rows shown"


@pytest.mark.parametrize("view_name", VIEW_NAMES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_show_page(app, clients, campaign, user, locale, view_name):
    view = view_by_name(app, view_name)
    model = model_of(view)
    pk = first_pk(app, model)
    if pk is None:
        pytest.skip(f"no {model.__name__} row to show")
    url = f"{view.route_base}/show/{pk}"
    response = clients(user, locale).get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    title_check(clients, user, locale, url, view.show_title, html)
    text = " ".join(text_of(html).split())
    expected = _shown_values(app, view, model, pk, locale)
    assert expected, f"{url}: nothing to look for (test data?)"
    for name, value in expected.items():
        assert value in text, f"{url}: {name} {value!r} not shown"


#: Formatted columns whose text is what the user reads, in words (not a coded value's label):
#: expected as the formatter shows it, in the page's language.
READ_AS_FORMATTED = {"AuditView": ("summary",)}


def _formatted(app, formatter, value, locale: str) -> str:
    """The text a formatter shows for ``value`` in ``locale`` (its markup dropped)."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        return " ".join(text_of(str(formatter(value))).split())


def _shown_values(app, view, model, pk, locale: str = "de") -> dict[str, str]:
    """Show-page columns whose text is predictable: free text, the names of related rows, and
    the columns of READ_AS_FORMATTED as formatted."""
    from flask_appbuilder import Model

    from app.lookups.remote_select import RemoteSelectField

    extra = {
        **(getattr(view, "edit_form_extra_fields", {}) or {}),
        **(getattr(view, "add_form_extra_fields", {}) or {}),
    }
    # Extra fields hold coded choices, except remote selects of related rows (shown by name).
    coded = {
        name for name, field in extra.items() if getattr(field, "field_class", None) is not RemoteSelectField
    }
    columns = plain_columns(model)
    values = {}
    with db_session(app) as session:
        item = session.get(model, pk)
        for name in view.show_columns:
            if name in coded or "." in name:
                continue
            value = getattr(item, name, None)
            column = columns.get(name)
            formatter = view.formatters_columns.get(name)
            if formatter is not None and name in READ_AS_FORMATTED.get(type(view).__name__, ()):
                if value is not None:
                    values[name] = _formatted(app, formatter, value, locale)
                continue
            if formatter is not None and value is not None and str(formatter(value)) != str(value):
                continue  # a coded value shown by its label
            if isinstance(value, Model) or (
                column is not None and isinstance(column.type, String | Text) and value
            ):
                values[name] = " ".join(str(value).split())
    return values


@pytest.mark.parametrize("view_name", VIEW_NAMES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_add_form(app, clients, user, locale, view_name):
    view = view_by_name(app, view_name)
    if not can(view, "add"):
        pytest.skip("a read-only screen")
    url = f"{view.route_base}/add"
    response = clients(user, locale).get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    title_check(clients, user, locale, url, view.add_title, html)
    fields = form_values(html)
    missing = [name for name in view.add_columns if name not in fields]
    assert not missing, f"{url}: fields missing from the form: {missing}"
    assert not field_errors(html), f"{url}: an empty form shows errors"


@pytest.mark.parametrize("view_name", VIEW_NAMES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_edit_form(app, clients, campaign, user, locale, view_name):
    view = view_by_name(app, view_name)
    model = model_of(view)
    pk = first_pk(app, model)
    if not can(view, "edit"):
        pytest.skip("a read-only screen")
    if pk is None:
        pytest.skip(f"no {model.__name__} row to edit")
    url = f"{view.route_base}/edit/{pk}"
    response = clients(user, locale).get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    title_check(clients, user, locale, url, view.edit_title, html)
    fields = form_values(html)
    stored = fresh_row(app, model, pk)
    columns = plain_columns(model)
    relations = many_to_one(model)
    for name in view.edit_columns:
        if name in relations:
            expected = as_form_value(stored[relations[name]]) or "__None"
        elif name in columns and not isinstance(stored[name], bool):
            expected = as_form_value(stored[name], locale)
        else:
            continue
        shown = (fields.get(name) or [""])[0]
        if expected == "__None" and shown == "":
            continue
        assert shown == expected, f"{url}: field {name} shows {shown!r}, stored {expected!r}"


@pytest.mark.parametrize("view_name", other_agency_screen_names())
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_other_agency_screen(app, clients, user, locale, view_name):
    """Screens that are no CRUD list (e.g. the visibility check) render in the user's language."""
    view = view_by_name(app, view_name)
    with app.test_request_context():
        url = url_for(f"{view.endpoint}.{view.default_view}")
        labels = [
            child.label
            for item in app.appbuilder.menu.get_list()
            for child in item.childs or []
            if child.get_url() == url
        ]
    assert labels, f"{view_name} is not in the menu"
    response = clients(user, locale).get(url)
    assert response.status_code == 200, url
    content = text_of(response.get_data(as_text=True).split("</header>", 1)[-1])
    expected = expected_text(labels[0], locale)
    if expected is not None:
        assert expected in content, f"{url} ({locale}): {expected!r} not on the page"


# ---------------------------------------------------------------- search, sort, pages


SEARCH_CASES = (
    "company-name-equal",
    "company-name-starts",
    "location-city",
    "location-territory",
    "contact-company",
    "job-store",
    "job-store-and-project",
    "appointment-job-date",
)


def _search_case(app, case: str):
    from app.models.crm import Company, Contact, Location
    from app.models.planning import Appointment, Job

    supertoy = ids_where(app, Company, Company.name == "Supertoy")
    assert supertoy, "demo company Supertoy missing"
    location = fresh_row(app, Location, first_pk(app, Location))
    job = fresh_row(app, Job, first_pk(app, Job))
    (appointment_id, *_) = ids_where(app, Appointment, Appointment.job_id == job["id"])
    appointment = fresh_row(app, Appointment, appointment_id)
    return {
        "company-name-equal": ("CompanyView", {"_flt_3_name": "Supertoy"}, [Company.name == "Supertoy"]),
        "company-name-starts": ("CompanyView", {"_flt_0_name": "Media"}, [Company.name.like("Media%")]),
        "location-city": (
            "LocationView",
            {"_flt_3_city": location["city"]},
            [Location.city == location["city"]],
        ),
        "location-territory": (
            "LocationView",
            {"_flt_0_territory": location["territory_id"]},
            [Location.territory_id == location["territory_id"]],
        ),
        "contact-company": (
            "ContactView",
            {"_flt_0_company": supertoy[0]},
            [Contact.company_id == supertoy[0]],
        ),
        # store and project are quick filters (remote selects), not FAB's dropdown filters
        "job-store": (
            "JobView",
            {"store": job["location_id"]},
            [Job.location_id == job["location_id"]],
        ),
        "job-store-and-project": (
            "JobView",
            {"store": job["location_id"], "project": job["project_id"]},
            [Job.location_id == job["location_id"], Job.project_id == job["project_id"]],
        ),
        "appointment-job-date": (
            "AppointmentView",
            {"job": job["id"], "_flt_0_date": appointment["date"].isoformat()},
            [Appointment.job_id == job["id"], Appointment.date == appointment["date"]],
        ),
    }[case]


@pytest.mark.parametrize("case", SEARCH_CASES)
def test_search_shows_the_matching_rows_only(app, clients, case):
    view_name, args, criteria = _search_case(app, case)
    view = view_by_name(app, view_name)
    model = model_of(view)
    expected = {str(pk) for pk in ids_where(app, model, *criteria)}
    assert expected, f"{view_name} {args}: no demo row to find"
    assert len(expected) < count_rows(app, model), f"{view_name} {args}: the filter would not filter"
    assert len(expected) <= PAGE_SIZE
    url = f"{view.route_base}/list/?{urlencode(args)}"
    response = clients("agentur").get(url)
    assert response.status_code == 200, url
    assert set(list_pks(response.get_data(as_text=True), view)) == expected, url


#: Tables an agency's lists can hold thousands of rows of: never a dropdown of all of them.
LARGE_TABLES = {"location", "job", "appointment", "promoter", "contact", "project", "booking"}


def test_no_search_form_offers_a_dropdown_of_a_large_table(app):
    """FAB's filter bar renders a relation filter as a select of every related row (5,000
    stores in the job list); such filters are quick filters with a remote select instead."""
    from flask_appbuilder.baseviews import BaseCRUDView
    from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField

    dropdowns = []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, BaseCRUDView) or view.search_form is None:
            continue
        for name in dir(view.search_form):
            field_class = getattr(getattr(view.search_form, name, None), "field_class", None)
            if not (
                isinstance(field_class, type)
                and issubclass(field_class, (QuerySelectField, QuerySelectMultipleField))
            ):
                continue
            table = view.datamodel.get_related_model(name).__tablename__
            if table in LARGE_TABLES:
                dropdowns.append(f"{type(view).__name__}.{name} ({table})")
    assert not dropdowns


def test_job_list_filters_by_store_without_a_store_dropdown(app, clients):
    from app.models.planning import Job

    view = view_by_name(app, "JobView")
    job = fresh_row(app, Job, first_pk(app, Job))
    url = f"{view.route_base}/list/?store={job['location_id']}"
    html = clients("agentur").get(url).get_data(as_text=True)
    assert 'data-ajax--url="/api/v1/remote-select/location"' in html
    assert html.count("<option") < 10, "the store is searched, not listed"
    assert str(job["id"]) in list_pks(html, view)


def test_search_for_supertoy_does_not_show_media_markt(app, clients):
    view = view_by_name(app, "CompanyView")
    response = clients("agentur").get(f"{view.route_base}/list/?_flt_3_name=Supertoy")
    names = [row[view.list_columns.index("name")] for row in list_rows(response.get_data(as_text=True), view)]
    assert names and set(names) == {"Supertoy"}


@pytest.mark.parametrize(
    ("view_name", "column"),
    [
        ("LocationView", "postcode"),
        ("LocationView", "name"),
        ("CompanyView", "name"),
        ("ProjectView", "name"),
    ],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sorting_orders_the_list(app, clients, view_name, column, direction):
    view = view_by_name(app, view_name)
    model = model_of(view)
    attribute = getattr(model, column)
    expected = column_values(
        app, attribute, attribute.asc() if direction == "asc" else attribute.desc(), limit=PAGE_SIZE
    )
    name = type(view).__name__
    url = f"{view.route_base}/list/?_oc_{name}={column}&_od_{name}={direction}"
    response = clients("agentur").get(url)
    assert response.status_code == 200, url
    index = view.list_columns.index(column)
    shown = [row[index] for row in list_rows(response.get_data(as_text=True), view)]
    assert shown == [str(value) for value in expected], url


def test_sorting_both_ways_gives_different_orders(app, clients):
    view = view_by_name(app, "LocationView")
    index = view.list_columns.index("postcode")
    pages = {}
    for direction in ("asc", "desc"):
        url = f"{view.route_base}/list/?_oc_LocationView=postcode&_od_LocationView={direction}"
        pages[direction] = [
            row[index] for row in list_rows(clients("agentur").get(url).get_data(as_text=True), view)
        ]
    assert pages["asc"] and pages["asc"] != pages["desc"]
    assert pages["asc"] == sorted(pages["asc"]) and pages["desc"] == sorted(pages["desc"], reverse=True)


@pytest.mark.parametrize("view_name", VIEW_NAMES)
def test_every_sort_column_can_be_used(app, clients, campaign, view_name):
    view = view_by_name(app, view_name)
    name = type(view).__name__
    expected = min(count_rows(app, model_of(view)), PAGE_SIZE)
    for column in view.order_columns:
        for direction in ("asc", "desc"):
            url = f"{view.route_base}/list/?_oc_{name}={column}&_od_{name}={direction}"
            response = clients("agentur").get(url)
            assert response.status_code == 200, url
            assert len(list_pks(response.get_data(as_text=True), view)) == expected, url


def test_appointments_are_paged_by_25(app, clients):
    from app.models.planning import Appointment

    view = view_by_name(app, "AppointmentView")
    total = count_rows(app, Appointment)
    assert total > PAGE_SIZE, "the demo should have more appointments than fit on one page"
    client = clients("agentur")
    first = client.get(f"{view.route_base}/list/")
    html = first.get_data(as_text=True)
    first_page = list_pks(html, view)
    assert len(first_page) == PAGE_SIZE
    assert "page_AppointmentView=1" in html, "no link to the next page"
    second = client.get(f"{view.route_base}/list/?page_AppointmentView=1")
    assert second.status_code == 200
    second_page = list_pks(second.get_data(as_text=True), view)
    assert len(second_page) == min(PAGE_SIZE, total - PAGE_SIZE)
    assert not set(first_page) & set(second_page), "the second page repeats rows of the first"


# ---------------------------------------------------------------- the agency works with the forms


def _post_and_find(app, client, url, data, model, *criteria):
    response = client.post(url, data=MultiDict(data))
    html = response.get_data(as_text=True)
    assert response.status_code == 302, f"{url}: {response.status_code} {field_errors(html)}"
    found = ids_where(app, model, *criteria)
    assert len(found) == 1, f"{url}: row not saved"
    return found[0]


def _edit(app, client, view, pk, changes):
    url = f"{view.route_base}/edit/{pk}"
    form = client.get(url)
    assert form.status_code == 200, url
    values = form_values(form.get_data(as_text=True))
    values.update(
        {name: [value] if isinstance(value, str) else list(value) for name, value in changes.items()}
    )
    response = client.post(url, data=flatten(values))
    assert response.status_code == 302, (
        f"{url}: {response.status_code} {field_errors(response.get_data(as_text=True))}"
    )


def test_agency_creates_and_edits_a_company(app, clients, rows):
    from app.models.crm import Company

    view = view_by_name(app, "CompanyView")
    client = clients("agentur")
    name = unique("Spielwaren")
    pk = _post_and_find(
        app,
        client,
        f"{view.route_base}/add",
        {
            "name": name,
            "kind": "customer",
            "street": "Domplatz 1",
            "postcode": "50667",
            "city": "Köln",
            "country": "DE",
        },
        Company,
        Company.name == name,
    )
    rows.adopt(Company, pk)
    stored = fresh_row(app, Company, pk)
    assert (stored["kind"], stored["street"], stored["postcode"], stored["city"]) == (
        "customer",
        "Domplatz 1",
        "50667",
        "Köln",
    )
    _edit(app, client, view, pk, {"city": "Bonn", "postcode": "53111", "kind": "other"})
    stored = fresh_row(app, Company, pk)
    assert (stored["name"], stored["city"], stored["postcode"], stored["kind"]) == (
        name,
        "Bonn",
        "53111",
        "other",
    )


def test_agency_creates_and_edits_a_contact(app, clients, rows, campaign):
    from app.models.crm import Contact, contact_territory

    view = view_by_name(app, "ContactView")
    client = clients("agentur")
    last_name = unique("Kontakt")
    pk = _post_and_find(
        app,
        client,
        f"{view.route_base}/add",
        [
            ("salutation", "ms"),
            ("first_name", "Erika"),
            ("last_name", last_name),
            ("company", str(campaign["customer"])),
            ("email", f"{last_name.split()[-1]}@Example.com"),
            ("language", "en"),
            ("territories", str(campaign["territory"])),
            ("user", "__None"),
        ],
        Contact,
        Contact.last_name == last_name,
    )
    rows.adopt(Contact, pk)
    stored = fresh_row(app, Contact, pk)
    assert stored["company_id"] == campaign["customer"]
    assert stored["salutation"] == "ms" and stored["language"] == "en"
    assert stored["email"] == f"{last_name.split()[-1]}@example.com", "emails are stored in lower case"
    assert ids_where(app, Contact, Contact.id == pk, Contact.territories.any()) == [pk]
    _edit(app, client, view, pk, {"position": "Einkauf", "language": "de", "territories": []})
    stored = fresh_row(app, Contact, pk)
    assert (stored["position"], stored["language"]) == ("Einkauf", "de")
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        linked = conn.execute(contact_territory.select().where(contact_territory.c.contact_id == pk)).all()
    assert linked == [], "territory was not removed"


def test_agency_creates_and_edits_a_location(app, clients, rows, campaign):
    from app.models.crm import Location

    view = view_by_name(app, "LocationView")
    client = clients("agentur")
    name = unique("Markt")
    pk = _post_and_find(
        app,
        client,
        f"{view.route_base}/add",
        {
            "name": name,
            "retail_chain": str(campaign["chain"]),
            "street": "Kaufingerstraße 1",
            "postcode": "80331",
            "city": "München",
            "federal_state": "BY",
            "territory": str(campaign["territory"]),
        },
        Location,
        Location.name == name,
    )
    rows.adopt(Location, pk)
    stored = fresh_row(app, Location, pk)
    assert (stored["postcode"], stored["city"], stored["federal_state"]) == ("80331", "München", "BY")
    assert (stored["retail_chain_id"], stored["territory_id"]) == (campaign["chain"], campaign["territory"])
    _edit(app, client, view, pk, {"federal_state": "BW", "city": "Stuttgart", "postcode": "70173"})
    stored = fresh_row(app, Location, pk)
    assert (stored["name"], stored["federal_state"], stored["city"]) == (name, "BW", "Stuttgart")


def test_agency_creates_and_edits_a_project(app, clients, rows, campaign):
    from app.models.planning import Project

    view = view_by_name(app, "ProjectView")
    client = clients("agentur")
    name = unique("Kampagne")
    pk = _post_and_find(
        app,
        client,
        f"{view.route_base}/add",
        [
            ("name", name),
            ("customer", str(campaign["customer"])),
            ("start_date", "2026-04-01"),
            ("end_date", "2026-09-30"),
            ("description", "Sechs Monate"),
            ("contacts", str(campaign["contact"])),
        ],
        Project,
        Project.name == name,
    )
    rows.adopt(Project, pk)
    stored = fresh_row(app, Project, pk)
    assert (stored["start_date"], stored["end_date"]) == (dt.date(2026, 4, 1), dt.date(2026, 9, 30))
    assert ids_where(app, Project, Project.id == pk, Project.contacts.any()) == [pk]
    _edit(app, client, view, pk, {"end_date": "2026-10-31", "description": "Verlängert"})
    stored = fresh_row(app, Project, pk)
    assert (stored["end_date"], stored["description"]) == (dt.date(2026, 10, 31), "Verlängert")


def test_agency_creates_and_edits_a_job(app, clients, rows, campaign):
    from app.models.crm import Location
    from app.models.planning import Job

    location = rows.add(
        Location, name=unique("Markt"), street="Weg 1", postcode="10115", city="Berlin", federal_state="BE"
    )
    view = view_by_name(app, "JobView")
    client = clients("agentur")
    title = unique("Job")
    pk = _post_and_find(
        app,
        client,
        f"{view.route_base}/add",
        {
            "title": title,
            "project": str(campaign["project"]),
            "location": str(location),
            "planned_days_per_week": "4",
        },
        Job,
        Job.title == title,
    )
    rows.adopt(Job, pk)
    stored = fresh_row(app, Job, pk)
    assert (stored["project_id"], stored["location_id"]) == (campaign["project"], location)
    assert (stored["status"], stored["planned_days_per_week"]) == ("draft", 4)
    # The status changes through the screen's actions (the form has no status field).
    assert client.post(f"{view.route_base}/action/open_job/{pk}").status_code == 302
    assert fresh_row(app, Job, pk)["status"] == "open"
    _edit(app, client, view, pk, {"planned_days_per_week": "6"})
    stored = fresh_row(app, Job, pk)
    assert (stored["planned_days_per_week"], stored["status"]) == (6, "open")
    assert client.post(f"{view.route_base}/action/close_job/{pk}").status_code == 302
    assert fresh_row(app, Job, pk)["status"] == "closed"


def test_agency_creates_and_edits_an_appointment(app, clients, rows, campaign):
    from app.models.planning import Appointment

    view = view_by_name(app, "AppointmentView")
    client = clients("agentur")
    note = unique("Termin")
    pk = _post_and_find(
        app,
        client,
        f"{view.route_base}/add",
        {
            "job": str(campaign["job"]),
            "date": "2026-03-14",
            "start_time": "09:30",
            "end_time": "17:00",
            "note": note,
        },
        Appointment,
        Appointment.note == note,
    )
    rows.adopt(Appointment, pk)
    agentur = _user_id(app, "agentur")
    stored = fresh_row(app, Appointment, pk)
    assert (stored["job_id"], stored["date"]) == (campaign["job"], dt.date(2026, 3, 14))
    assert (stored["start_time"], stored["end_time"]) == (dt.time(9, 30), dt.time(17, 0))
    assert (stored["created_by_id"], stored["origin"], stored["version"]) == (agentur, "agency", 1)
    assert stored["status"] == "planned"
    _edit(app, client, view, pk, {"end_time": "18:30"})
    stored = fresh_row(app, Appointment, pk)
    assert (stored["end_time"], stored["status"]) == (dt.time(18, 30), "planned")
    assert (stored["updated_by_id"], stored["version"]) == (agentur, 2)
    # Done is an action (the form has no status field); the day lies in the past.
    assert client.post(f"{view.route_base}/action/complete/{pk}").status_code == 302
    stored = fresh_row(app, Appointment, pk)
    assert (stored["status"], stored["updated_by_id"], stored["version"]) == ("done", agentur, 3)


def _user_id(app, username):
    from app.extensions import db

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        user_id = user.id
        db.session.rollback()
    return user_id


# ---------------------------------------------------------------- menus


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("user", AGENCY_USERS)
def test_menu_has_the_agency_groups_and_screens(app, clients, user, locale):
    html = clients(user, locale).get("/").get_data(as_text=True)
    categories = menu_categories(html)
    links = menu_links(html)
    menu = app.appbuilder.menu
    for group in ("Planning", "CRM", "Promoters", "Security"):  # Security: shown as Administration
        item = menu.find(group)
        assert item is not None, f"menu group {group} missing"
        label = expected_text(item.label, locale)
        if label is not None:
            assert label in categories, f"{group} ({locale}) not in {categories}"
    with app.test_request_context():
        for view in agency_views(app):
            url = view.route_base + "/list/"
            assert url in links, f"{url} not in the menu of {user}"
            entry = next(
                child for item in menu.get_list() for child in item.childs or [] if child.get_url() == url
            )
            label = expected_text(entry.label, locale)
            if label is not None:
                assert links[url] == label, f"menu entry of {url} ({locale})"


@pytest.mark.parametrize("locale", LOCALES)
def test_admin_sees_the_security_menu(app, clients, locale):
    client = clients("admin", locale)
    html = client.get("/").get_data(as_text=True)
    # FAB's security screens sit in the Administration menu, next to outbox and audit trail
    assert expected_text("Administration", locale) in menu_categories(html)
    links = menu_links(html)
    assert links.get("/users/list/") == expected_text("List Users", locale)
    response = client.get("/users/list/")
    assert response.status_code == 200
    assert "agentur" in visible_text(response.get_data(as_text=True))


@pytest.mark.parametrize("locale", LOCALES)
def test_agency_has_no_security_menu_and_no_user_list(app, clients, locale):
    client = clients("agentur", locale)
    html = client.get("/").get_data(as_text=True)
    categories = menu_categories(html)
    assert categories, "the agency menu is empty"
    assert expected_text("Security", locale) not in categories
    assert "Security" not in categories and "Sicherheit" not in categories
    assert not [href for href in menu_links(html) if href.startswith(("/users/", "/roles/", "/permissions"))]
    response = client.get("/users/list/")
    assert response.status_code == 403 or is_login_redirect(response)
    assert "admin" not in visible_text(response.get_data(as_text=True)).split()


def test_german_is_the_default_and_english_can_be_chosen(app, clients):
    view = view_by_name(app, "CompanyView")
    url = f"{view.route_base}/list/"
    german = clients("agentur", "de").get(url).get_data(as_text=True)
    english = clients("agentur", "en").get(url).get_data(as_text=True)
    assert panel_title(english) == "Companies"
    assert translation("Search", "de") in visible_text(german) and "Search" in visible_text(english)
    if german_catalog() is not None:
        assert panel_title(german) == expected_text(view.list_title, "de") != "Companies"
