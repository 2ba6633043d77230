"""The review of reports in a real browser: the queue and a report at 375 and 1366 px (no
sideways scrolling, screenshots with SCREENSHOTS=<folder>), axe finds nothing serious,
and approving asks first, then shows its message and marks the appointment done."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.browser import open_as
from tests.review_helpers import make_review_data
from tests.test_a11y import axe_problems
from tests.test_wizard import row

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ["SCREENSHOTS"]) / "gallery" / "reporting" if os.environ.get("SCREENSHOTS") else None
AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"


@pytest.fixture()
def data(app):
    made = make_review_data(app, store_index=2)
    yield made
    made.cleanup()


def _shot(page, name: str) -> None:
    if SHOTS is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size, lang", [("phone", "de"), ("desktop", "en")])
def test_queue_and_report_fit_the_window_and_approve_asks_first(app, browser, live_server, data, size, lang):
    from app.common.timezone import local_today
    from app.models.planning import Appointment
    from app.models.reporting import Report

    with app.app_context():
        today = local_today()
    appointment_ids = [data.appointment(today - dt.timedelta(days=d)) for d in (1, 2, 3)]
    reports = [data.report(pk) for pk in appointment_ids]
    context, page = open_as(browser, live_server, "agency", lang, size, init_script=AXE)
    try:
        page.goto(f"{live_server}/reports/review/?project={data.project_id}")
        assert page.locator(f'tr[data-report="{reports[0]}"]').is_visible()
        width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= window, f"queue {width} px wide in a {window} px window"
        _shot(page, f"queue-{size}-{lang}")
        assert axe_problems(page, f"queue ({size}, {lang})") == []

        page.goto(f"{live_server}/reports/review/{reports[0]}")
        assert page.locator("#report-answers").is_visible()
        width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= window, f"report {width} px wide in a {window} px window"
        _shot(page, f"report-{size}-{lang}")
        assert axe_problems(page, f"report ({size}, {lang})") == []

        page.goto(f"{live_server}/reports/review/{reports[0]}/edit")
        width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= window, f"correction form {width} px wide in a {window} px window"
        _shot(page, f"edit-{size}-{lang}")
        assert axe_problems(page, f"edit ({size}, {lang})") == []

        page.goto(f"{live_server}/reports/review/{reports[0]}")
        with page.expect_navigation():
            page.locator("#approve-form button[type=submit]").click()
        assert row(app, Report, reports[0])["status"] == "submitted"
        _shot(page, f"confirm-{size}-{lang}")
        with page.expect_navigation():
            page.locator("#confirm-approve").click()
        flash = page.locator(".alert-success").first
        assert flash.is_visible() and flash.bounding_box()["y"] >= 0
        _shot(page, f"approved-{size}-{lang}")
        assert row(app, Report, reports[0])["status"] == "approved"
        assert row(app, Appointment, appointment_ids[0])["status"] == "done"
    finally:
        context.close()
