"""promoter01 writes today's day report on a phone (375×667), in a real browser: opens it from
the start page, fills it in, adds a photo, saves a draft, submits. Nothing scrolls sideways,
axe finds nothing serious; ``SCREENSHOTS=<folder>`` saves the
pages at 375 and 1366 px to <folder>/gallery/reporting/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import SIZES
from tests.conftest import DEMO_PASSWORD
from tests.reporting_helpers import ReportRows, add_appointment, add_job, make_questionnaire, promoter_id
from tests.test_a11y import AXE, axe_problems
from tests.test_report_capture import jpeg, reports_of
from tests.visibility_helpers import local_today

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ["SCREENSHOTS"]) / "gallery" / "reporting" if os.environ.get("SCREENSHOTS") else None


@pytest.fixture()
def today_booked(app) -> Iterator[dict]:
    rows = ReportRows(app)
    made = make_questionnaire(rows)
    job = add_job(rows, day_questionnaire=made["questionnaire"])
    appointment = add_appointment(rows, job, promoter_id(app, "promoter01"), local_today(app))
    yield {"job": job, "appointment": appointment}
    rows.cleanup()


def _open(browser, base: str, size: str, lang: str = "de"):
    context = browser.new_context(
        locale="de-DE" if lang == "de" else "en-GB",
        viewport=SIZES[size],
        is_mobile=size == "phone",
        has_touch=size == "phone",
    )
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(base + "/promoter/login")
    page.fill("input[name=username]", "promoter01")
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("#login-form button[type=submit]").click()
    page.goto(base + f"/promoter/lang/{lang}")
    return context, page


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def _shot(page, name: str) -> None:
    if SHOTS is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_promoter_writes_todays_report_on_a_phone(app, browser, live_server, today_booked):
    appointment = today_booked["appointment"]
    context, page = _open(browser, live_server, "phone")
    try:
        page.goto(live_server + "/promoter/")
        assert page.locator("#menu-badge-promoter-reports").count() == 1
        with page.expect_navigation():
            page.locator(f"#report-{appointment}").tap()
        assert re.search(r"/promoter/reports/\d+$", page.url)
        assert page.locator("h1").inner_text() == "Tagesbericht"
        assert local_today(app).strftime("%d.%m.%Y") in page.locator("#report-head").inner_text()
        assert _fits(page), "the empty form scrolls sideways"
        _shot(page, "report-form-375")

        page.fill("#f-actual_start", "09:05")
        page.fill("#f-actual_end", "17:30")
        page.fill("#f-q-sold", "42")
        page.fill("#f-q-price", "3,99")
        page.locator("input[name='q.tasting'][value=yes]").check()
        page.locator("input[name='q.weather'][value=sun]").check()
        page.locator("input[name='q.material'][value=flyer]").check()
        page.fill("#f-g-products-0-product", "Saft")
        page.fill("#f-g-products-0-count", "12")
        page.set_input_files(
            "#f-q-photos", files=[{"name": "stand.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
        )
        with page.expect_navigation():
            page.locator("#save-draft").tap()
        assert "Ihr Entwurf wurde gespeichert." in page.locator(".flash-messages").inner_text()
        assert page.locator("#f-q-sold").input_value() == "42"
        assert page.locator("#f-q-photos-files li").count() == 1
        thumbnail = page.locator("#f-q-photos-files img")
        thumbnail.scroll_into_view_if_needed()
        assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"), (
            "the thumbnail does not load"
        )
        assert _fits(page), "the saved draft scrolls sideways"
        _shot(page, "report-draft-375")

        # submitting without the break: the message is next to the field and at the top
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.locator("#submit-report").tap()
        assert page.locator("#error-summary").is_visible()
        assert "Bitte dieses Feld ausfüllen." in page.locator("#f-break_minutes-error").inner_text()
        assert page.locator("#f-q-sold").input_value() == "42"
        assert _fits(page)
        assert not axe_problems(page, "report form with errors (375, de)")
        _shot(page, "report-errors-375")

        page.fill("#f-break_minutes", "30")
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.locator("#submit-report").tap()
        assert page.url.endswith("/promoter/reports")
        assert "Ihr Bericht ist abgegeben." in page.locator(".flash-messages").inner_text()
        (report,) = reports_of(app, today_booked["job"])
        assert report["status"] == "submitted"
        assert page.locator(f"#done-report-{report['id']}").is_visible()
        assert _fits(page)
        assert not axe_problems(page, "reports (375, de)")
        _shot(page, "reports-375")

        page.goto(live_server + f"/promoter/reports/{report['id']}")
        assert page.locator("#report-form").count() == 0
        assert "Saft" in page.locator("main").inner_text()
        assert page.locator("main .thumbs img").evaluate("img => img.complete && img.naturalWidth > 0")
        assert _fits(page)
        _shot(page, "report-read-only-375")
    finally:
        context.close()


def test_report_pages_on_a_desktop_in_english(app, browser, live_server, today_booked):
    appointment = today_booked["appointment"]
    context, page = _open(browser, live_server, "desktop", "en")
    try:
        page.goto(live_server + "/promoter/reports")
        assert page.locator(f"#due-appointment-{appointment}").is_visible()
        assert not axe_problems(page, "reports (1366, en)")
        _shot(page, "reports-1366")
        with page.expect_navigation():
            page.locator(f"#start-report-{appointment}").click()
        assert page.locator("h1").inner_text() == "Day report"
        assert "Units sold" in page.locator("main").inner_text()
        assert _fits(page)
        assert not axe_problems(page, "report form (1366, en)")
        _shot(page, "report-form-1366")
    finally:
        context.close()
