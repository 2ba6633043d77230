"""A real browser walks the proposal wizard as adm.nord, in German."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.test_wizard import demo, find_day, high_water, local_date, remove_since, rows, t

pytestmark = pytest.mark.browser


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


def test_field_rep_north_proposes_a_date_in_the_browser(app, live_server, page, tidy):
    from app.models.planning import Appointment
    from app.outbox.models import OutboxMessage

    info = demo(app)
    store, day = find_day(app, info, "free")

    page.goto(live_server + "/portal/login")
    page.fill("input[name=username]", "adm.nord")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("button[type=submit], input[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/portal/$"))
    assert page.locator("html").get_attribute("lang") == "de"

    # The menu, then the button that starts the wizard.
    page.locator("#portal-menu a", has_text=t("My proposals", "de")).click()
    page.wait_for_url(re.compile(r".*/portal/proposals/$"))
    button = page.locator("#new-proposal")
    assert button.inner_text().strip() == t("Propose a date", "de")
    button.click()

    # Step 1: project and store.
    page.wait_for_url(re.compile(r".*/portal/proposals/new(\?token=\w+)?$"))
    assert t("Project and store", "de") in page.inner_text("#wizard-steps li[aria-current=step]")
    options = page.locator("#location option").all_inner_texts()
    assert f"{store.name}, {store.city}" in options
    assert not any(s.name in " ".join(options) for s in info.south)
    page.select_option("#project", label=info.project_name)
    page.select_option("#location", label=f"{store.name}, {store.city}")
    page.locator("#wizard-form button[type=submit]").click()

    # Step 2: date, times and a note.
    page.wait_for_url(re.compile(r".*/portal/proposals/new/\w+/when$"))
    assert t("Date and time", "de") in page.inner_text("#wizard-steps li[aria-current=step]")
    assert page.get_attribute("#date", "type") == "date"
    page.fill("#date", day.isoformat())
    # A chosen date is checked at once: the page comes back with the store's appointments around it.
    page.wait_for_selector("#date-check")
    assert page.locator("#around").count() == 1
    page.fill("#start_time", "10:30")
    page.fill("#end_time", "17:00")
    page.fill("#note", "Aus dem Browser vorgeschlagen")
    page.locator("#next-step").click()

    # Step 3: review and submit.
    page.wait_for_url(re.compile(r".*/portal/proposals/new/\w+/review$"))
    review = page.inner_text("#review")
    assert f"{store.name}, {store.city}" in review
    assert local_date(day, "de") in review
    assert "10:30–17:00" in review
    assert page.locator("#warnings").count() == 0
    submit = page.locator("#submit-proposal")
    assert submit.inner_text().strip() == t("Submit proposal", "de")
    submit.click()

    page.wait_for_url(re.compile(r".*/portal/proposals/\d+$"))
    pk = int(page.url.rsplit("/", 1)[1])
    assert t("Your proposal has been sent to the agency.", "de") in page.inner_text(".alert-success")
    assert page.inner_text("#proposal-state").strip() == t("Awaiting the agency's decision", "de")

    # Listed with its state.
    page.locator("#portal-menu a", has_text=t("My proposals", "de")).click()
    page.wait_for_url(re.compile(r".*/portal/proposals/$"))
    line = page.locator("#proposals tbody tr", has=page.locator(f'a[href="/portal/proposals/{pk}"]'))
    assert line.count() == 1
    cells = line.locator("td").all_inner_texts()
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d", cells[0])  # submitted
    assert cells[1] == local_date(day, "de")
    assert cells[2] == "10:30–17:00"
    assert cells[3] == store.name
    assert cells[4] == t("Awaiting the agency's decision", "de")

    (saved,) = rows(app, Appointment, Appointment.id > tidy["appointment"])
    assert saved["id"] == pk and saved["status"] == "proposed" and saved["origin"] == "customer"
    assert (saved["job_id"], saved["date"]) == (store.job_id, day)
    assert saved["proposed_by_id"] == info.contact_id
    assert saved["note"] == "Aus dem Browser vorgeschlagen"
    assert [m["kind"] for m in rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"])] == [
        "proposal_new"
    ]
