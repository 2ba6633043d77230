"""The booking form in a real browser: a promoter is found by typing, not picked from every row."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORD
from tests.helpers import db_session

pytestmark = pytest.mark.browser


def test_planner_finds_a_promoter_by_typing_in_the_booking_form(app, page, live_server):
    from app.models.promoter import Promoter

    with db_session(app) as session:
        wanted = session.scalars(select(Promoter).order_by(Promoter.id)).first()
        last_name, wanted_id = wanted.last_name, wanted.id
    page.goto(live_server + "/login/")
    page.fill("input[name=username]", "agentur")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("button[type=submit], input[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    page.goto(live_server + "/bookingview/add")
    page.wait_for_load_state("networkidle")
    assert page.locator("select#appointment option").count() == 1, "no list of every appointment"

    page.locator("#promoter + .select2-container").click()
    page.locator(".select2-search__field").fill(last_name)
    option = page.locator(".select2-results__option", has_text=last_name).first
    option.wait_for()
    option.click()
    assert page.locator("select#promoter").input_value() == str(wanted_id)

    page.locator("#appointment + .select2-container").click()
    first = page.locator(".select2-results__option").first
    first.wait_for()
    assert page.locator(".select2-results__option").count() <= 21  # one page (and "loading more")
