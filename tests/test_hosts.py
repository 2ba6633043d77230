"""The customer system on its own host (CUSTOMER_HOST) or under /portal/."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import DEMO_PASSWORD

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


def test_customer_logging_into_the_agency_system_is_sent_to_the_customer_system(hosted_app):
    client = hosted_app.test_client()
    client.post(
        "/login/", headers={"Host": MAIN_HOST}, data={"username": "adm.nord", "password": DEMO_PASSWORD}
    )
    answer = client.get("/", headers={"Host": MAIN_HOST})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"http://{CUSTOMER_HOST}/"
