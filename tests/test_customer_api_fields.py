"""The customer API shows exactly what the customer system shows: the same rows and the
same fields (never an appointment's note or origin), for every customer; the agency keeps
every field; promoters get nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale

from tests.helpers import client_for
from tests.visibility_helpers import CUSTOMERS, JwtClient, local_today, table_rows

#: API resource -> (portal page, table id, {API field: the page's column}); ids are references.
PORTAL_TABLES = {
    "location": (
        "/portal/stores",
        "stores",
        {"name": 0, "street": 1, "postcode": 2, "city": 3, "territory.name": 4},
    ),
    "job": ("/portal/jobs", "jobs", {"title": 0, "project.name": 1, "location.name": 2, "location.city": 3}),
}
#: Every field a customer may get per resource (what those pages and the appointment list show).
CUSTOMER_FIELDS = {
    "project": {"id", "name", "start_date", "end_date", "description"},
    "location": {"id", "name", "street", "postcode", "city", "territory.name"},
    "job": {"id", "title", "project.id", "project.name", "location.id", "location.name", "location.city"},
    "appointment": {
        "id",
        "date",
        "start_time",
        "end_time",
        "status",
        "job.id",
        "job.title",
        "location_id",
        "location_name",
    },
}
INTERNAL = {"note", "origin", "request_token", "proposed_by", "created_by", "decision_reason", "version"}


def flat(record: dict, prefix: str = "") -> dict:
    """{"job": {"id": 1}} -> {"job.id": 1}."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def api_rows(client, resource: str, query: str = "page_size:500") -> list[dict]:
    response = client.get(f"/api/v1/{resource}/?q=({query})")
    assert response.status_code == 200, (resource, response.status_code)
    return [flat(r) for r in response.get_json()["result"]]


@pytest.fixture(scope="module")
def api_clients(app):
    return {user: JwtClient(app, user) for user in (*CUSTOMERS, "agentur", "admin")}


@pytest.mark.parametrize("user", CUSTOMERS)
def test_customer_api_fields_are_the_portals(app, api_clients, user):
    api = api_clients[user]
    portal = client_for(app, user, "de")
    for resource, fields in CUSTOMER_FIELDS.items():
        rows = api_rows(api, resource)
        assert rows, (user, resource)
        for row in rows:
            # The project list leaves the description to the project's own page, like the portal.
            assert set(row) == fields - ({"description"} if resource == "project" else set()), (
                user,
                resource,
            )
        show = api.get(f"/api/v1/{resource}/{rows[0]['id']}")
        assert show.status_code == 200
        assert set(flat(show.get_json()["result"])) == fields, (user, resource)
        # Asking for hidden fields, or filtering and sorting by them, changes nothing.
        asked = api.get(f"/api/v1/{resource}/?q=(columns:!(note,origin,federal_state,status),page_size:5)")
        assert asked.status_code == 200
        assert all(set(flat(r)) <= fields for r in asked.get_json()["result"]), (user, resource)
        listed = api.get(f"/api/v1/{resource}/?q=(select_columns:!(note,origin,description),page_size:5)")
        assert listed.status_code in (200, 400)
        if listed.status_code == 200:
            assert all(set(flat(r)) <= fields for r in listed.get_json()["result"])
    # The values are the portal's, row by row.
    for resource, (url, table, columns) in PORTAL_TABLES.items():
        shown = sorted(table_rows(portal.get(url).get_data(as_text=True), table))
        expected = sorted(
            [str(r[field] if r[field] is not None else "") for field in columns]
            for r in api_rows(api, resource)
        )
        assert [row[: len(columns)] for row in shown] == expected, (user, resource)
    project_names = {r["name"] for r in api_rows(api, "project")}
    projects_page = portal.get("/portal/projects").get_data(as_text=True)
    assert all(name in projects_page for name in project_names)


@pytest.mark.parametrize("user", CUSTOMERS)
def test_customer_api_appointments_equal_the_portal_list(app, api_clients, user):
    from app.common.choices import APPOINTMENT_STATUSES, label

    api = api_clients[user]
    portal = client_for(app, user, "de")
    job = api_rows(api, "job")[0]
    today = local_today(app)
    first, last = today - dt.timedelta(days=7), today + dt.timedelta(days=7)
    html = portal.get(
        f"/portal/appointments?job={job['id']}&range=custom&date_from={first}&date_to={last}&sort=date"
    ).get_data(as_text=True)
    shown = table_rows(html, "appointments")
    rows = api_rows(
        api,
        "appointment",
        f"filters:!((col:job,opr:rel_o_m,value:{job['id']}),"
        f"(col:date,opr:gt,value:'{first - dt.timedelta(days=1)}'),"
        f"(col:date,opr:lt,value:'{last + dt.timedelta(days=1)}')),"
        "order_column:date,order_direction:asc,page_size:100",
    )
    assert shown and len(shown) == len(rows), (user, len(shown), len(rows))
    with app.test_request_context(), force_locale("de"):
        expected = [
            (
                dt.date.fromisoformat(r["date"]).strftime("%d.%m.%Y"),
                f"{r['start_time'][:5]}–{r['end_time'][:5]}",
                r["location_name"],
                str(label(APPOINTMENT_STATUSES, r["status"])),
            )
            for r in rows
        ]
    found = [(row[0][-10:], row[1], row[2], row[4]) for row in shown]
    assert sorted(found) == sorted(expected)


def test_the_agency_keeps_every_field(app, api_clients):
    for user in ("agentur", "admin"):
        rows = api_rows(api_clients[user], "appointment", "page_size:5")
        assert rows and "origin" in rows[0]
        show = api_clients[user].get(f"/api/v1/appointment/{rows[0]['id']}").get_json()["result"]
        assert {"note", "origin"} <= set(show)
        assert "federal_state" in api_rows(api_clients[user], "location", "page_size:5")[0]


def test_no_customer_sees_a_note_or_an_origin(app, api_clients):
    for user in CUSTOMERS:
        for resource in CUSTOMER_FIELDS:
            body = api_clients[user].get(f"/api/v1/{resource}/?q=(page_size:500)").get_data(as_text=True)
            assert not any(f'"{field}"' in body.split('"result"', 1)[1] for field in INTERNAL), (
                user,
                resource,
            )


def test_promoters_get_no_customer_api(app):
    from tests.visibility_helpers import jwt_token

    client = app.test_client(use_cookies=False)
    token = jwt_token(app, "promoter01")
    for resource in CUSTOMER_FIELDS:
        answer = client.get(f"/api/v1/{resource}/", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (401, 403, 404), (resource, answer.status_code)
