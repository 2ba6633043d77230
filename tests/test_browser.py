"""A real browser (Debian's Chromium, driven by Playwright) on a live server.

Set SCREENSHOTS=docs/screenshots to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def _login(page, base: str, path: str, username: str) -> None:
    page.goto(base + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("button[type=submit], input[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


def test_agency_planner_browses_the_locations_in_german(page, live_server):
    _login(page, live_server, "/login/", "agentur")
    assert page.locator("text=Planung").first.is_visible()
    _shot(page, "agency-start")
    page.locator("a.dropdown-toggle", has_text="CRM").click()
    page.locator("a", has_text="Standorte").first.click()
    page.wait_for_load_state("networkidle")
    body = page.inner_text("body")
    assert "Media Markt Hamburg-Altona" in body or "Media Markt" in body
    assert re.search(r"30", body)
    _shot(page, "agency-locations")


def test_field_rep_north_sees_only_the_north_and_filters_one_store(page, live_server):
    _login(page, live_server, "/portal/login", "adm.nord")
    assert page.url.endswith("/portal/")
    assert page.inner_text("#count-stores") == "12"
    assert "Einsätze heute" in page.inner_text("body")
    _shot(page, "portal-start")
    # Two clicks: the stores list, then "next week" of one store.
    page.locator("#portal-menu a", has_text="Märkte").click()
    first_store = page.locator("#stores tbody tr").first
    store_name = first_store.locator("td").first.inner_text()
    first_store.locator("a", has_text="Nächste Woche").click()
    page.wait_for_load_state("networkidle")
    rows = page.locator("#appointments tbody tr")
    assert rows.count() >= 1
    for index in range(rows.count()):
        assert rows.nth(index).locator("td").nth(2).inner_text() == store_name
    assert "München" not in page.inner_text("#appointments")
    _shot(page, "portal-appointments")


def test_planner_starts_the_day_from_the_cockpit(page, live_server):
    """The start page lists today's work and loads conflicts and the week's progress after it."""
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server, "/login/", "agentur")
    assert page.locator("#cockpit-today").is_visible()
    page.locator("#cockpit-progress").wait_for(timeout=10_000)
    assert "Supertoy" in page.inner_text("#cockpit-progress")
    assert page.inner_text("#cockpit-conflicts-count").strip().isdigit()
    _shot(page, "agency-cockpit-desktop")
    page.set_viewport_size({"width": 375, "height": 667})
    page.reload()
    page.locator("#cockpit-progress").wait_for(timeout=10_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""
    )
    assert overflow <= 0, f"the cockpit scrolls sideways by {overflow}px on a phone: {wide}"
    _shot(page, "agency-cockpit-phone")
    page.locator("#cockpit-unstaffed a.btn").click()
    page.wait_for_load_state("networkidle")
    assert "/planning/request" in page.url
