"""The calendar of the agency screens' date fields, in a real browser: German weeks start on
Monday with German month names, and a date picked or typed lands in the field as dd.mm.yyyy."""

from __future__ import annotations

import pytest

from tests.browser import open_as

pytestmark = pytest.mark.browser

#: The weekday heads of the open calendar, in order.
WEEKDAY_HEADS = """() => Array.from(
  document.querySelectorAll('.datepicker-days thead tr:last-child th.dow')).map(th => th.textContent)"""


@pytest.mark.parametrize(
    ("lang", "week", "value", "title"),
    [
        ("de", ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"], "15.12.2026", "Dezember 2026"),
        # English follows Babel's "en" (Monday first, like the app's ISO weeks).
        ("en", ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"], "12/15/2026", "December 2026"),
    ],
)
def test_the_project_form_calendar_speaks_the_users_language(browser, live_server, lang, week, value, title):
    context, page = open_as(browser, live_server, "agency", lang, "desktop")
    try:
        page.goto(live_server + "/projectview/add")
        field = page.locator("input#start_date")
        field.fill(value)
        page.locator(".promoplan-date:has(#start_date) .input-group-addon").click()
        calendar = page.locator(".datepicker-dropdown").first
        calendar.wait_for(state="visible")
        assert page.evaluate(WEEKDAY_HEADS) == week
        assert calendar.locator(".datepicker-days .datepicker-switch").inner_text() == title
        calendar.locator(".datepicker-days td.day:not(.old):not(.new)", has_text="17").first.click()
        expected = "17.12.2026" if lang == "de" else "12/17/2026"
        assert field.input_value() == expected
    finally:
        context.close()
