"""A live server and a headless Chromium for browser tests.

Chromium comes from Debian (``apt-get install chromium``); Playwright only
drives it. Without Chromium the browser tests are skipped locally, but fail
in CI (``CI`` set), where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI must run the browser tests")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser) -> Iterator[object]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


# ---------------------------------------------------------------- pages of tests/pages.py

#: The two window sizes every page of the customer and promoter systems is checked at.
SIZES = {"phone": {"width": 375, "height": 667}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture(scope="module")
def page_places(app) -> Iterator[dict[str, object]]:
    """The placeholders of tests/pages.py (a proposal, wizard drafts); removed after the module,
    so that later tests find the demo as it was."""
    from tests.pages import demo_places
    from tests.test_wizard import high_water, remove_since

    marks = high_water(app)
    yield demo_places(app)
    remove_since(app, marks)


def open_as(browser, base: str, role: str, lang: str, size: str, *, logged_in: bool = True, init_script=None):
    """A fresh browser context and page for ``role`` in ``lang`` at ``size``, logged in through the form."""
    from tests.conftest import DEMO_PASSWORD
    from tests.pages import LANGUAGE_PATHS, LOGIN_PATHS, LOGINS

    context = browser.new_context(locale="de-DE" if lang == "de" else "en-GB", viewport=SIZES[size])
    if init_script:
        context.add_init_script(path=str(init_script))
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(base + LOGIN_PATHS[role])
    if logged_in:
        page.fill("input[name=username]", LOGINS[role])
        page.fill("input[name=password]", DEMO_PASSWORD)
        with page.expect_navigation():
            page.locator("button[type=submit], input[type=submit]").first.click()
    page.goto(base + LANGUAGE_PATHS[role].format(lang=lang))
    return context, page


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the keyboard focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "s => { const el = document.activeElement; return !!el && el.matches(s); }", selector
        ):
            return
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
    raise AssertionError(f"{limit} presses of Tab never reached {selector}; the focus is on {focused}")


def type_date(page, selector: str, day) -> None:
    """Type ``day`` into the focused date field, in whatever order its segments come.

    Headless Chromium lays date fields out in US order (mm/dd/yyyy) whatever the page's
    locale; a person types the digits in the order shown.
    """
    for order in ("%d%m%Y", "%m%d%Y", "%Y%m%d"):
        page.keyboard.type(day.strftime(order))
        if page.input_value(selector) == day.isoformat():
            return
        page.keyboard.press("Shift+Tab")  # back to the field's first segment
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"{selector} did not take {day.isoformat()} from the keyboard")


def type_time(page, selector: str, hour: int, minute: int) -> None:
    """Type a time into the focused time field (24-hour, or 12-hour with AM/PM)."""
    page.keyboard.type(f"{hour:02d}{minute:02d}")
    if not page.input_value(selector):  # 12-hour field: AM or PM still to choose
        page.keyboard.type("A" if hour < 12 else "P")
    value = page.input_value(selector)
    assert value == f"{hour:02d}:{minute:02d}", f"{selector} shows {value!r}"
