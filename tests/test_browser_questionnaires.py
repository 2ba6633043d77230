"""The questionnaire editor in a real browser, on a phone (375 px) and a desktop (1366 px), in
German and English: no sideways scrolling, the flash messages are seen, axe finds nothing
serious, and a question is added, a page deleted and the questionnaire published by clicking.

``SCREENSHOTS=<folder>`` saves the pages to <folder>/gallery/reporting/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import open_as
from tests.test_a11y import AXE, axe_problems
from tests.test_browser_agency_forms import WIDER_THAN_WINDOW
from tests.test_questionnaires import add_report, campaign, made, remove_reports, rows  # noqa: F401

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ["SCREENSHOTS"]) / "gallery" / "reporting" if os.environ.get("SCREENSHOTS") else None


def check(page, name: str, problems: list[str], where: str) -> None:
    page.wait_for_load_state("networkidle")
    width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    if width > window:
        problems.append(f"{name} ({where}): {width} px wide in a {window} px window")
    problems.extend(f"{name} ({where}): {w}" for w in page.evaluate(WIDER_THAN_WINDOW))
    problems.extend(axe_problems(page, f"{name} ({where})"))
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{where}.png"), full_page=True)


def flash_seen(page) -> str:
    """The flash message's text; asserts it lies in the window (not under the menu)."""
    alert = page.locator(".alert-success").first
    alert.wait_for()
    box = alert.bounding_box()
    window = page.evaluate("[innerWidth, innerHeight]")
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= window[1] and box["width"] <= window[0]
    return alert.inner_text()


@pytest.mark.parametrize(("size", "lang"), [("phone", "de"), ("desktop", "en"), ("phone", "en")])
def test_editor_on_phone_and_desktop(app, browser, live_server, campaign, size, lang):  # noqa: F811
    from app.extensions import db
    from app.models.reporting import Questionnaire

    questionnaire_id = made(app, published=True)
    with app.app_context():
        questionnaire = db.session.get(Questionnaire, questionnaire_id)
        add_report(db.session, campaign, questionnaire.versions[0])
        version_id = questionnaire.versions[0].id
        db.session.remove()
    where = f"{size}-{lang}"
    base = f"{live_server}/questionnaires/{questionnaire_id}/"
    context, page = open_as(browser, live_server, "agency", lang, size, init_script=AXE)
    problems: list[str] = []
    try:
        page.goto(f"{live_server}/questionnaires/")
        check(page, "list", problems, where)
        page.goto(base)
        assert page.locator("#new-version-banner").is_visible()
        check(page, "editor-with-reports", problems, where)
        # add a sub-question to the group
        page.locator(".add-sub-question").first.click()
        page.wait_for_load_state()
        check(page, "question-form", problems, where)
        # the form shows the settings of the chosen kind
        page.select_option("#kind", "single_choice")
        assert page.locator("#choices").is_visible() and not page.locator("#min_value").is_visible()
        page.select_option("#kind", "integer")
        assert page.locator("#min_value").is_visible() and not page.locator("#choices").is_visible()
        assert not page.locator("#max_count").is_visible()
        page.fill("#label_de", "Verkostungen")
        page.fill("#label_en", "Tastings")
        page.fill("#min_value", "0")
        page.fill("#max_value", "5")
        page.fill("#unit", "x")
        page.locator("#save").click()
        page.wait_for_load_state()
        assert ("Die Frage wurde hinzugefügt." if lang == "de" else "The question was added.") in flash_seen(
            page
        )
        sub = page.locator('.sub-question[data-key="verkostungen"]')
        assert sub.is_visible() and "Verkostungen" in sub.inner_text()
        # the change went into version 2; the banner is gone (no report uses version 2)
        assert page.locator("#new-version-banner").count() == 0
        assert page.locator('#versions tr[data-version="2"]').count() == 1
        check(page, "editor-version-2", problems, where)
        # a form with a mistake shows the message at the field
        page.locator(".add-question").first.click()
        page.wait_for_load_state()
        page.select_option("#kind", "photo")
        page.fill("#label_de", "Regalfoto")
        page.fill("#max_count", "30")
        page.locator("#save").click()
        page.wait_for_load_state()
        error = page.locator('[data-field="max_count"] .field-error')
        assert error.inner_text() == ("Höchstens 20." if lang == "de" else "At most 20.")
        check(page, "question-form-error", problems, where)
        # add a page, delete it after confirming
        page.goto(base)
        page.fill("#title_de", "Fotos")
        page.locator("#add-page").click()
        page.wait_for_load_state()
        flash_seen(page)
        page.locator(".questionnaire-page").last.locator("a.btn-danger").first.click()
        page.wait_for_load_state()
        check(page, "confirm-delete", problems, where)
        page.locator("#confirm").click()
        page.wait_for_load_state()
        assert ("Die Seite wurde gelöscht." if lang == "de" else "The page was deleted.") in flash_seen(page)
        assert page.locator(".questionnaire-page").count() == 1
        # publish
        page.locator("#publish").click()
        page.wait_for_load_state()
        page.locator("#confirm").click()
        page.wait_for_load_state()
        published = "Version 2 ist veröffentlicht." if lang == "de" else "Version 2 is published."
        assert published in flash_seen(page)
        page.goto(f"{base}versions/{version_id}")
        check(page, "preview-version-1", problems, where)
        assert page.locator('[data-key="verkostungen"]').count() == 0
    finally:
        context.close()
        with app.app_context():
            remove_reports(db.session, campaign)
            db.session.remove()
    assert not problems, "\n".join(problems)
