"""The decision screen in a real browser: Enter in the reason field accepts nothing and rejects
nothing; it leads to the confirmation of a rejection, which "Back" leaves undecided."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.test_decision_screen import tidied
from tests.test_decisions import decided_mails
from tests.test_wizard import demo, find_day, propose_directly, row

pytestmark = pytest.mark.browser


def test_enter_in_the_reason_field_asks_first_and_back_decides_nothing(app, page, live_server):
    from app.models.planning import Appointment

    with tidied(app) as marks:
        store, day = find_day(app, demo(app), "free")
        pk = propose_directly(app, store, day)
        before = row(app, Appointment, pk)
        page.goto(live_server + "/login/")
        page.fill("input[name=username]", "agentur")
        page.fill("input[name=password]", DEMO_PASSWORD)
        with page.expect_navigation():
            page.locator("button[type=submit], input[type=submit]").first.click()
        page.goto(live_server + "/proposals/")

        # Enter in an empty reason field: the browser asks for a reason, nothing is sent.
        reason = page.locator(f"#reason-{pk}")
        reason.press("Enter")
        assert page.url.endswith("/proposals/")
        assert reason.evaluate("el => !el.validity.valid")

        # Enter with a reason: the confirmation page, not a decision.
        reason.fill("Kein Personal")
        with page.expect_navigation():
            reason.press("Enter")
        assert page.locator("#confirm-reason").inner_text() == "Kein Personal"
        assert row(app, Appointment, pk) == before
        assert decided_mails(app, marks) == []

        # Back: still pending, no mail.
        with page.expect_navigation():
            page.locator("#confirm-back").click()
        assert page.locator(f"#proposal-{pk}").is_visible()
        assert row(app, Appointment, pk) == before
        assert decided_mails(app, marks) == []

        # Confirmed: rejected, one mail.
        page.locator(f"#reason-{pk}").fill("Kein Personal")
        with page.expect_navigation():
            page.locator(f"#reject-{pk} button[type=submit]").click()
        with page.expect_navigation():
            page.locator("#confirm-decision").click()
        assert row(app, Appointment, pk)["status"] == "rejected"
        assert len(decided_mails(app, marks)) == 1
