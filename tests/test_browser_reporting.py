"""The reporting area in a real browser: adm.nord's dashboard on a phone (375 px) and a desktop
(1366 px), in German and English — nothing scrolls sideways, nothing lies under the menu, the
charts are drawn and their tables open; vertrieb's territory comparison; the agency's dashboard.
axe finds nothing serious. ``SCREENSHOTS=<folder>`` saves every page to <folder>/gallery/reporting/.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from tests.browser import open_as
from tests.pages import Page
from tests.test_a11y import AXE, axe_problems
from tests.test_browser_layout import check_page
from tests.visibility_helpers import local_today

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ["SCREENSHOTS"]) / "gallery" / "reporting" if os.environ.get("SCREENSHOTS") else None
SIZE_WIDTH = {"phone": 375, "desktop": 1366}


def _shot(page, name: str) -> None:
    if SHOTS is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _query(app) -> str:
    today = local_today(app)
    first, last = today - dt.timedelta(days=120), today + dt.timedelta(days=30)
    return f"from={first.isoformat()}&to={last.isoformat()}"


def _check_charts(page, where: str) -> list[str]:
    """Each chart is drawn inside the window's width, and its table opens."""
    problems = []
    charts = page.locator("figure.report-chart")
    if charts.count() == 0:
        return [f"{where}: no chart"]
    for index in range(charts.count()):
        chart = charts.nth(index)
        name = chart.get_attribute("id")
        svg = chart.locator("svg")
        if svg.count() == 0:
            problems.append(f"{where}: {name} has no drawing")
        else:
            svg.first.scroll_into_view_if_needed()
            box = svg.first.bounding_box()
            width = page.evaluate("innerWidth")
            if not box or box["width"] < 100 or box["height"] < 50:
                problems.append(f"{where}: {name} is not visible ({box})")
            elif box["x"] < 0 or box["x"] + box["width"] > width + 1:
                problems.append(f"{where}: {name} leaves the window ({box})")
        table = chart.locator("details table")
        if table.is_visible():
            problems.append(f"{where}: the table of {name} is open before it is asked for")
        chart.locator("summary").click()
        if not table.is_visible():
            problems.append(f"{where}: the table of {name} does not open")
        if page.evaluate("document.documentElement.scrollWidth > innerWidth"):
            problems.append(f"{where}: the open table of {name} makes the page scroll sideways")
    return problems


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_adm_nord_reads_his_dashboard(app, browser, live_server, size, lang):
    width = SIZE_WIDTH[size]
    query = _query(app)
    context, page = open_as(browser, live_server, "customer", lang, size, init_script=AXE)
    problems = []
    try:
        pages = (
            Page(
                "reporting", f"/portal/reporting/?{query}", "customer", primary="#filters button[type=submit]"
            ),
            Page("reporting-stores", f"/portal/reporting/stores?{query}", "customer"),
            Page("reporting-photos", f"/portal/reporting/photos?{query}", "customer"),
        )
        for spec in pages:
            where = f"{spec.name} ({width}, {lang})"
            problems += check_page(page, live_server, spec, {}, size, lang)
            problems += axe_problems(page, where)
            _shot(page, f"{spec.name}-{width}-{lang}")
            if spec.name == "reporting":
                heading = "Berichte" if lang == "de" else "Reporting"
                assert page.locator("main h1").inner_text() == heading
                assert page.locator("#key-figures li").count() >= 6
                problems += _check_charts(page, where)
                _shot(page, f"reporting-tables-open-{width}-{lang}")
            if spec.name == "reporting-photos":
                image = page.locator("#photo-grid img").first
                image.scroll_into_view_if_needed()
                assert image.evaluate("img => img.complete && img.naturalWidth > 0"), (
                    "a thumbnail does not load"
                )
                report_link = page.locator(
                    "#photo-grid a", has_text=re.compile("Bericht öffnen|Open report")
                ).first
                with page.expect_navigation():
                    report_link.click()
                assert re.search(r"/portal/reporting/reports/\d+$", page.url)
                problems += check_page(
                    page,
                    live_server,
                    Page("reporting-report", page.url[len(live_server) :], "customer"),
                    {},
                    size,
                    lang,
                )
                problems += axe_problems(page, f"reporting-report ({width}, {lang})")
                _shot(page, f"reporting-report-{width}-{lang}")
        if size == "phone":
            # the open menu pushes the page down instead of covering it
            page.goto(live_server + f"/portal/reporting/?{query}")
            page.locator(".menu-toggle").click()
            menu_bottom = page.locator(".site-header").evaluate("el => el.getBoundingClientRect().bottom")
            top = page.locator("main").evaluate("el => el.getBoundingClientRect().top")
            assert top >= menu_bottom, (
                f"the content starts at {top} px, under the menu ending at {menu_bottom}"
            )
            assert page.locator(".site-menu a[aria-current=page]").inner_text() in ("Berichte", "Reporting")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_vertrieb_sees_north_against_south_on_a_phone_in_english(app, browser, live_server):
    context, page = open_as(browser, live_server, "customer", "en", "phone", logged_in=False, init_script=AXE)
    try:
        from tests.conftest import DEMO_PASSWORD

        page.goto(live_server + "/portal/login")
        page.fill("input[name=username]", "vertrieb")
        page.fill("input[name=password]", DEMO_PASSWORD)
        with page.expect_navigation():
            page.locator("#login-form button[type=submit]").click()
        page.goto(live_server + "/portal/lang/en")
        page.goto(live_server + f"/portal/reporting/?{_query(app)}")
        chart = page.locator("#chart-territories")
        assert chart.is_visible()
        chart.locator("summary").click()
        text = chart.locator("table").inner_text()
        assert "Nord" in text and "Süd" in text
        assert not page.evaluate("document.documentElement.scrollWidth > innerWidth")
        assert not axe_problems(page, "reporting (vertrieb, 375, en)")
        _shot(page, "reporting-vertrieb-375-en")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_agency_dashboard_on_a_desktop(app, browser, live_server, lang):
    context, page = open_as(browser, live_server, "agency", lang, "desktop", init_script=AXE)
    problems = []
    try:
        for name, path in (
            ("agency-dashboard", f"/reporting/dashboard/?{_query(app)}"),
            ("agency-punctuality", f"/reporting/punctuality/?{_query(app)}"),
        ):
            response = page.goto(live_server + path)
            assert response.status == 200, f"{path}: HTTP {response.status}"
            where = f"{name} (1366, {lang})"
            problems += axe_problems(page, where)
            if page.evaluate("document.documentElement.scrollWidth > innerWidth"):
                problems.append(f"{where}: the page scrolls sideways")
            if name == "agency-dashboard":
                problems += _check_charts(page, where)
            _shot(page, f"{name}-1366-{lang}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_reporting_page_scrolls_sideways_from_320_to_1920_px(app, browser, live_server, lang):
    from tests.test_browser_layout import WIDTHS

    query = _query(app)
    context, page = open_as(browser, live_server, "customer", lang, "phone")
    problems = []
    try:
        page.goto(live_server + f"/portal/reporting/photos?{query}")
        report = page.locator("#photo-grid a[href*='/reporting/reports/']").first.get_attribute("href")
        for path in (f"/portal/reporting/?{query}", f"/portal/reporting/stores?{query}", report):
            page.goto(live_server + path)
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                if scroll_width > width:
                    problems.append(f"{path} at {width} px ({lang}): the page is {scroll_width} px wide")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
