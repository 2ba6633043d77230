"""Accounts in a real browser: a customer resets a forgotten password from the
mail link, and the agency's menu logs out with a POST."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.outbox.models import OutboxMessage
from tests.conftest import DEMO_PASSWORD
from tests.helpers import db_session

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Frühling-im-Markt-2027"


def _user(session, username: str):
    from flask_appbuilder.security.sqla.models import User

    return session.scalar(select(User).where(User.username == username))


def test_a_customer_resets_a_forgotten_password_in_the_browser(app, page, live_server):
    with db_session(app) as session:
        address = _user(session, "pos.marketing").email
    try:
        page.goto(live_server + "/portal/login")
        page.click("#forgot-password")
        page.fill("input[name=address]", address)
        page.click("#forgot-password-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/portal/login")
        assert "Falls ein Konto mit dieser Adresse existiert" in page.inner_text("body")

        with db_session(app) as session:
            body = session.scalar(
                select(OutboxMessage.body_text)
                .where(OutboxMessage.recipient == address, OutboxMessage.kind == "password_reset")
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        path = re.search(r"https?://[^/\s]+(/portal/password/set/\S+)", body).group(1)
        page.goto(live_server + path)
        page.fill("input[name=password]", NEW_PASSWORD)
        page.fill("input[name=confirm]", NEW_PASSWORD)
        page.click("#set-password-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "Ihr Passwort wurde festgelegt" in page.inner_text("body")

        page.fill("input[name=username]", "pos.marketing")
        page.fill("input[name=password]", NEW_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/portal/")
        assert page.inner_text("#count-stores") == "30"
    finally:
        with db_session(app) as session:
            app.appbuilder.sm.reset_password(_user(session, "pos.marketing").id, DEMO_PASSWORD)


def test_the_agency_menu_logs_out_with_a_post(page, live_server):
    page.goto(live_server + "/login/")
    page.fill("input[name=username]", "agentur")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.locator("a.dropdown-toggle .fa-user").click()
    page.click("#logout-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login/" in page.url
    page.goto(live_server + "/projectview/list/")
    assert "/login/" in page.url
