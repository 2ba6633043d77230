"""The phone walks of the customer and promoter systems, as people do them, at 375×667.

vertrieb (head of sales, English) proposes a date in three steps and reads the
confirmation, then subscribes to the calendar; promoter01 subscribes to theirs. Both feeds
answer with the calendar the link promises.
"""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.browser import SIZES
from tests.conftest import DEMO_PASSWORD
from tests.test_wizard import demo, find_day, high_water, remove_since, t

pytestmark = pytest.mark.browser


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


def _phone(browser, base: str, login_path: str, username: str):
    context = browser.new_context(locale="en-GB", viewport=SIZES["phone"], is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(base + login_path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("#login-form button[type=submit]").tap()
    return context, page


def _in_view(page, selector: str) -> bool:
    return page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; }"
    )


def _subscribe(page, base: str) -> str:
    """Create the calendar link on the page that is open and return it (what a calendar app gets)."""
    create = page.locator("#feed-create, #feed-renew").first
    with page.expect_navigation():
        create.tap()
    assert _in_view(page, ".alert-success"), "the confirmation is off-screen"
    link = page.locator("#feed-link").input_value()
    assert link.endswith(".ics")
    return link


def _fetch_feed(link: str, base: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", link)
    with urllib.request.urlopen(base + path, timeout=10) as answer:  # noqa: S310 (loopback)
        assert answer.headers["Content-Type"].startswith("text/calendar")
        return answer.read().decode("utf-8")


def test_head_of_sales_proposes_a_date_and_subscribes_in_english_on_a_phone(app, browser, live_server, tidy):
    from app.models.planning import Appointment

    info = demo(app)
    store, day = find_day(app, info, "free")
    context, page = _phone(browser, live_server, "/portal/login", "vertrieb")
    try:
        page.wait_for_url(re.compile(r".*/portal/$"))
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        with page.expect_navigation():
            page.locator("#propose-date").tap()

        # Step 1: the only project is chosen already; the store is picked.
        assert page.locator("#project").input_value() == str(info.project_id)
        page.select_option("#location", label=f"{store.name}, {store.city}")
        with page.expect_navigation():
            page.locator("#wizard-form button[type=submit]").first.tap()

        # Step 2: date and the job's usual hours; the date is checked where it stands.
        page.fill("#date", day.isoformat())
        page.locator("#date").dispatch_event("change")
        page.wait_for_selector("#date-check")
        assert page.locator("#start_time").input_value(), "no usual hours prefilled"
        page.fill("#start_time", "10:00")
        page.fill("#end_time", "16:00")
        with page.expect_navigation():
            page.locator("#next-step").tap()

        # Step 3: review and submit; the confirmation is on screen, in English.
        assert re.search(r"/proposals/new/\w+/review$", page.url), page.url
        assert "10:00–16:00" in page.inner_text("#review")
        with page.expect_navigation():
            page.locator("#submit-proposal").tap()
        flash = page.locator(".alert-success").first
        assert flash.inner_text().strip() == t("Your proposal has been sent to the agency.", "en")
        assert _in_view(page, ".alert-success")
        pk = int(page.url.rsplit("/", 1)[1])
        with app.app_context():
            from app.extensions import db

            proposal = db.session.get(Appointment, pk)
            assert (proposal.date, proposal.status) == (day, "proposed")

        # The calendar subscription from the settings.
        page.goto(live_server + "/portal/settings")
        feed = _fetch_feed(_subscribe(page, live_server), live_server)
        assert "BEGIN:VCALENDAR" in feed and "TZID:Europe/Berlin" in feed and "BEGIN:VEVENT" in feed
    finally:
        context.close()


def test_promoter_subscribes_to_the_calendar_on_a_phone(app, browser, live_server):
    context, page = _phone(browser, live_server, "/promoter/login", "promoter01")
    try:
        page.goto(live_server + "/promoter/calendar")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        feed = _fetch_feed(_subscribe(page, live_server), live_server)
        assert "BEGIN:VCALENDAR" in feed and "BEGIN:VEVENT" in feed
    finally:
        context.close()
