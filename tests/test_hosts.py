"""The customer system on its own host (CUSTOMER_HOST) or under /portal/."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import DEMO_PASSWORD, visible_text

CUSTOMER_HOST = "kunden.promoplan.test"
MAIN_HOST = "agentur.promoplan.test"


@pytest.fixture()
def hosted_app(app, database_url):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "CUSTOMER_HOST": CUSTOMER_HOST,
        }
    )


def test_customer_host_serves_the_customer_system_at_its_root(hosted_app):
    client = hosted_app.test_client()
    answer = client.get("/", headers={"Host": CUSTOMER_HOST})
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/portal/login")
    login = client.post(
        "/login", headers={"Host": CUSTOMER_HOST}, data={"username": "adm.nord", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 302
    start = client.get("/", headers={"Host": CUSTOMER_HOST})
    assert start.status_code == 200
    assert "Kundensystem" in start.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/companyview/list/", "/appointmentview/list/", "/users/list/", "/visibility/"]
)
def test_agency_routes_are_not_served_on_the_customer_host(hosted_app, path):
    client = hosted_app.test_client()
    client.post(
        "/login", headers={"Host": CUSTOMER_HOST}, data={"username": "agentur", "password": DEMO_PASSWORD}
    )
    assert client.get(path, headers={"Host": CUSTOMER_HOST}).status_code == 404


def test_static_files_are_served_on_the_customer_host(hosted_app):
    answer = hosted_app.test_client().get(
        "/static/appbuilder/css/bootstrap.min.css", headers={"Host": CUSTOMER_HOST}
    )
    assert answer.status_code == 200


def test_portal_on_the_main_host_moves_to_the_customer_host(hosted_app):
    answer = hosted_app.test_client().get("/portal/appointments?range=today", headers={"Host": MAIN_HOST})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"http://{CUSTOMER_HOST}/portal/appointments?range=today"


def test_without_customer_host_the_portal_lives_under_portal(client):
    assert client.get("/portal/").headers["Location"].startswith("/portal/login")
    assert client.get("/portal/login").status_code == 200


def test_customer_logging_into_the_agency_system_is_told_where_the_account_belongs(hosted_app):
    client = hosted_app.test_client()
    answer = client.post(
        "/login/", headers={"Host": MAIN_HOST}, data={"username": "adm.nord", "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Dieses Konto gehört zum Kundensystem." in visible_text(page)
    assert f'href="http://{CUSTOMER_HOST}/portal/login"' in page
    # Not logged in: the agency start page still asks for a login.
    assert "/login" in client.get("/projectview/list/", headers={"Host": MAIN_HOST}).headers["Location"]


@pytest.mark.parametrize("host", ["KUNDEN.promoplan.test", "Kunden.Promoplan.Test"])
def test_host_names_are_compared_in_lower_case(app, database_url, host):
    hosted = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "CUSTOMER_HOST": "Kunden.PROMOPLAN.test",
            "TRUSTED_HOSTS": ["Kunden.Promoplan.test", MAIN_HOST],
        }
    )
    client = hosted.test_client()
    # Trusted despite the case, and routed to the customer system like its lower-case name.
    answer = client.get("/login", headers={"Host": host})
    assert answer.status_code == 200
    assert "Kundensystem" in answer.get_data(as_text=True)
    assert client.get("/login", headers={"Host": "andere.promoplan.test"}).status_code == 400
    # From the main host, the customer system is reached on its (lower-case) host.
    moved = client.get("/portal/stores", headers={"Host": MAIN_HOST.upper()})
    assert moved.headers["Location"] == f"http://{CUSTOMER_HOST}/portal/stores"
