"""The agency's add/edit forms, the appointment list, the cockpit and Import / Export fit a
phone (375 px) and a desktop: no horizontal scrolling, wide multi-selects included, in German
and English.

``SCREENSHOTS=<folder>`` saves each page to <folder>/agency-<page>-<size>-<lang>.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import open_as

pytestmark = pytest.mark.browser

PAGES = {
    "appointments": "/appointmentview/list/",
    "appointment-add": "/appointmentview/add",
    "project-add": "/projectview/add",
    "contact-add": "/contactview/add",
    "task-add": "/taskview/add",
    "location-add": "/locationview/add",
    # a form with chosen rows in its multi-selects (the demo project's contacts and managers)
    "project-edit": "/projectview/edit/{project}",
    "contact-edit": "/contactview/edit/{contact}",
    # pages of the agency's own (not generated): the cockpit and Import / Export
    "cockpit": "/",
    "import-export": "/transfer/",
}

WIDER_THAN_WINDOW = """() => {
  const wide = [];
  for (const el of document.querySelectorAll("main *")) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > innerWidth + 1 && !el.closest(".table-responsive")) {
      wide.push(`<${el.tagName.toLowerCase()} class="${el.className}"> ends at ${Math.round(r.right)} px`);
    }
  }
  for (const el of document.querySelectorAll(".select2-selection__choice")) {
    const box = el.closest(".select2-selection").getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.right > box.right + 1) {
      wide.push(`chosen "${el.innerText.trim()}" ends at ${Math.round(r.right)} px, ` +
                `its field at ${Math.round(box.right)}`);
    }
  }
  return wide.slice(0, 5);
}"""


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_agency_forms_and_list_fit_the_window(app, browser, live_server, size, lang):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.crm import Contact, contact_territory
    from app.models.planning import Project, project_contact

    with app.app_context():
        places = {
            "project": db.session.scalar(
                select(Project.id).join(project_contact).group_by(Project.id).order_by(func.count().desc())
            ),
            "contact": db.session.scalar(
                select(Contact.id).join(contact_territory).group_by(Contact.id).order_by(func.count().desc())
            ),
        }
    context, page = open_as(browser, live_server, "agency", lang, size)
    problems = []
    try:
        for name, path in PAGES.items():
            response = page.goto(live_server + path.format(**places))
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            if width > window:
                problems.append(f"{name} ({size}, {lang}): {width} px wide in a {window} px window")
            problems.extend(f"{name} ({size}, {lang}): {w}" for w in page.evaluate(WIDER_THAN_WINDOW))
            if "-add" in name:
                save = page.locator("main button[type=submit]").first
                box = save.bounding_box()
                assert box and box["x"] + box["width"] <= window, f"{name}: the save button is off screen"
            folder = os.environ.get("SCREENSHOTS")
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(folder) / f"agency-{name}-{size}-{lang}.png"), full_page=True)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
