"""Accessibility in a real browser: axe-core on every page, and keyboard-only walks.

axe-core (tests/assets/axe-core, pinned) runs on every page of the customer and promoter
systems (tests/pages.py) — in German on a phone, in English on a desktop — and on the
agency's start page, proposal decision screen, planning board and appointment list in both
languages. No serious or
critical violation may remain, nor a missing main landmark, page heading or page language
(axe rates those "moderate"). Then a field rep proposes a date and a promoter confirms a
request with the keyboard alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser import open_as, tab_to, type_date, type_time
from tests.pages import AGENCY_PAGES, CUSTOMER_PAGES, PROMOTER_PAGES, Page

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"

#: Rules that fail whatever impact axe gives them: what the issue asks for by name.
ALWAYS = {"landmark-one-main", "page-has-heading-one", "html-has-lang", "html-lang-valid", "label"}

#: Pages so large (the board: some 5,000 elements) that axe's colour-contrast rule takes 15 s;
#: colours do not depend on the language, so contrast is checked there in German only.
CONTRAST_IN_GERMAN_ONLY = {"agency-board"}

RUN_AXE = """async contrast => {
  const rules = contrast ? {} : {"color-contrast": {enabled: false}};
  const result = await axe.run(document, {resultTypes: ["violations"], rules});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def axe_problems(page, where: str, contrast: bool = True) -> list[str]:
    problems = []
    for violation in page.evaluate(RUN_AXE, contrast):
        if violation["impact"] in ("serious", "critical") or violation["id"] in ALWAYS:
            problems.append(
                f"{where}: {violation['id']} ({violation['impact']}) {violation['help']} — "
                + ", ".join(violation["targets"])
            )
    return problems


def _axe_on(browser, base: str, pages: tuple[Page, ...], places: dict, size: str, lang: str) -> list[str]:
    problems = []
    for logged_in in (False, True):
        chosen = [p for p in pages if p.logged_in == logged_in]
        if not chosen:
            continue
        context, page = open_as(
            browser, base, chosen[0].role, lang, size, logged_in=logged_in, init_script=AXE
        )
        try:
            for spec in chosen:
                page.goto(base + spec.path.format(**places))
                contrast = lang == "de" or spec.name not in CONTRAST_IN_GERMAN_ONLY
                problems += axe_problems(page, f"{spec.name} ({size}, {lang})", contrast)
        finally:
            context.close()
    return problems


#: Every page in each language and at each size once: markup and colours do not depend on the
#: language, and the two sizes cover both layouts (cards on the phone, striped tables on the desktop).
SIZE_FOR = {"de": "phone", "en": "desktop"}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_finds_nothing_serious_on_the_customer_and_promoter_systems(
    browser, live_server, page_places, lang
):
    problems = []
    for size in (SIZE_FOR[lang],):
        for pages in (CUSTOMER_PAGES, PROMOTER_PAGES):
            problems += _axe_on(browser, live_server, pages, page_places, size, lang)
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_finds_nothing_serious_on_the_agency_screens(browser, live_server, page_places, lang):
    problems = _axe_on(browser, live_server, AGENCY_PAGES, page_places, "desktop", lang)
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems)


# ---------------------------------------------------------------- keyboard only


@pytest.fixture()
def tidy(app) -> Iterator[dict]:
    from tests.test_wizard import high_water, remove_since

    marks = high_water(app)
    yield marks
    remove_since(app, marks)


def _choose(page, selector: str, label: str, limit: int = 60) -> None:
    """Pick ``label`` in the focused <select> with the arrow keys."""
    for _ in range(limit):
        if (
            page.evaluate("s => document.querySelector(s).selectedOptions[0].textContent.trim()", selector)
            == label
        ):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{label!r} is not reachable with the arrow keys in {selector}")


def test_field_rep_proposes_a_date_with_the_keyboard_alone_on_a_phone(app, browser, live_server, tidy):
    from app.models.planning import Appointment
    from tests.test_wizard import demo, find_day, rows, t

    info = demo(app)
    store, day = find_day(app, info, "free")
    context, page = open_as(browser, live_server, "customer", "de", "phone")
    try:
        page.goto(live_server + "/portal/")
        tab_to(page, "#propose-date")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        # Step 1: project and store.
        tab_to(page, "#project")
        _choose(page, "#project", info.project_name)
        tab_to(page, "#location")
        _choose(page, "#location", f"{store.name}, {store.city}")
        tab_to(page, "#wizard-form button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        # Step 2: date and times.
        assert re.search(r"/proposals/new/\w+/when$", page.url), page.url
        tab_to(page, "#date")
        type_date(page, "#date", day)
        tab_to(page, "#start_time")
        type_time(page, "#start_time", 10, 30)
        tab_to(page, "#end_time")
        type_time(page, "#end_time", 17, 0)
        tab_to(page, "#next-step")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        # Step 3: review and submit.
        assert re.search(r"/proposals/new/\w+/review$", page.url), page.url
        assert "10:30–17:00" in page.inner_text("#review")
        tab_to(page, "#submit-proposal")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        flash = page.locator(".flash-messages .alert-success")
        assert flash.inner_text().strip() == t("Your proposal has been sent to the agency.", "de")
        assert flash.evaluate("el => el.getBoundingClientRect().bottom <= innerHeight"), (
            "confirmation off-screen"
        )
    finally:
        context.close()
    (saved,) = rows(app, Appointment, Appointment.id > tidy["appointment"])
    assert (saved["job_id"], saved["date"], saved["status"]) == (store.job_id, day, "proposed")
    assert (saved["start_time"], saved["end_time"]) == (dt.time(10, 30), dt.time(17))


@pytest.fixture()
def request_for_promoter01(app) -> Iterator[int]:
    """A fresh request for promoter01 on a day without any conflict; removed afterwards."""
    from tests.test_promoter_system import add_booking, add_store, demo_project_id, free_day, promoter_id
    from tests.visibility_helpers import Rows, new_tag

    tracker = Rows(app)
    store = add_store(tracker, new_tag(), demo_project_id(app))
    made = add_booking(
        tracker, store["job"], promoter_id(app, "promoter01"), free_day(app, 7), dt.time(10), dt.time(18)
    )
    yield made["booking"]
    tracker.cleanup()


def test_promoter_confirms_a_request_with_the_keyboard_alone_on_a_phone(
    app, browser, live_server, request_for_promoter01
):
    from app.extensions import db
    from app.models.planning import Booking

    booking = request_for_promoter01
    context, page = open_as(browser, live_server, "promoter", "en", "phone")
    try:
        page.goto(live_server + "/promoter/requests")
        tab_to(page, f"#request-{booking} .btn-success", limit=400)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        flash = page.locator(".flash-messages .alert-success")
        assert flash.inner_text().startswith("Confirmed: Testmarkt")
        assert flash.evaluate("el => el.getBoundingClientRect().bottom <= innerHeight"), (
            "confirmation off-screen"
        )
    finally:
        context.close()
    with app.app_context():
        assert db.session.scalar(select(Booking.status).where(Booking.id == booking)) == "confirmed"
        db.session.remove()
