"""On a phone-sized browser (375×667): the customer's calendar and a promoter confirming two
requests at once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.test_promoter_system import add_booking, add_store, demo_project_id, free_day, promoter_id, row
from tests.visibility_helpers import Rows, new_tag

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


@pytest.fixture()
def phone(browser):
    context = browser.new_context(locale="de-DE", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _login(page, base: str, system: str, username: str) -> None:
    page.goto(f"{base}/{system}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(rf".*/{system}/$"))


def _no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_customer_calendar_on_a_phone(app, live_server, phone):
    _login(phone, live_server, "portal", "adm.nord")
    phone.goto(live_server + "/portal/calendar")
    assert phone.locator("h1").inner_text().strip() == "Kalender"
    _no_sideways_scrolling(phone)
    # On a phone the month is a list of its days with appointments: every one shown is readable.
    items = phone.locator("#calendar .cal-item")
    assert items.count() > 0
    first = items.first
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
    title = phone.locator("#cal-title").inner_text()
    phone.locator("#cal-next").click()
    phone.wait_for_load_state()
    assert phone.locator("#cal-title").inner_text() != title
    phone.locator("#cal-view-week").click()
    phone.wait_for_load_state()
    assert phone.locator("#calendar section").count() == 7
    _no_sideways_scrolling(phone)


def test_a_promoter_confirms_two_requests_at_once_on_a_phone(app, live_server, phone):
    from app.models.planning import Booking

    tracker = Rows(app)
    try:
        me = promoter_id(app, "promoter01")
        project = demo_project_id(app)
        day = free_day(app, 60)
        a = add_store(tracker, new_tag("bpa"), project)
        b = add_store(tracker, new_tag("bpb"), project)
        first = add_booking(tracker, a["job"], me, day, dt.time(9), dt.time(12))["booking"]
        second = add_booking(tracker, b["job"], me, day, dt.time(13), dt.time(17))["booking"]

        _login(phone, live_server, "promoter", "promoter01")
        phone.goto(live_server + "/promoter/requests")
        for pk in (first, second):
            phone.locator(f"#pick-{pk}").click()  # a tap: nothing covers the list on a phone
            assert phone.locator(f"#pick-{pk}").is_checked()
        phone.locator("#batch-confirm").click()
        phone.wait_for_url(re.compile(r".*/promoter/requests/batch$"))
        assert phone.locator("h1").inner_text().strip() == "2 Anfragen bestätigen?"
        assert phone.locator("#selected-requests tbody tr").count() == 2
        assert row(app, Booking, first)["status"] == "requested"
        phone.locator("#batch-do").click()
        phone.wait_for_selector("#batch-results")
        assert "2 von 2 Anfragen bestätigt." in phone.locator(".alert").first.inner_text()
        assert phone.locator("#batch-results tr.batch-ok").count() == 2
        assert row(app, Booking, first)["status"] == row(app, Booking, second)["status"] == "confirmed"
    finally:
        tracker.cleanup()
