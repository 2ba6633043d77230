"""The agency's booking and application lists as a planner uses them: quick filters for
promoter, store (or job) and period, "cancellation requests awaiting an answer", bookings from
today on by default — chosen by searching, not from a dropdown of every row."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.helpers import Rows, client_for
from tests.planning_helpers import add_promoter, make_campaign

BOOKINGS = "/bookingview/list/"
APPLICATIONS = "/applicationview/list/"


@pytest.fixture(scope="module")
def rows(app):
    made = Rows(app)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def world(app, rows):
    from app.common.models import utcnow
    from app.common.timezone import local_today
    from app.models.planning import Application, Appointment, Booking

    with app.app_context():
        today = local_today()
    campaign = make_campaign(rows, ("BY", "NW"), today - dt.timedelta(days=30), today + dt.timedelta(days=60))
    tag = campaign["tag"]
    zora, yann = add_promoter(rows, tag, "Zora"), add_promoter(rows, tag, "Yann")

    def appointment(state: str, day: dt.date, hour: int) -> int:
        return rows.add(
            Appointment,
            job_id=campaign["jobs"][state],
            date=day,
            start_time=dt.time(hour, 0),
            end_time=dt.time(hour + 1, 0),
            status="planned",
        )

    past = appointment("BY", today - dt.timedelta(days=2), 7)
    soon = appointment("BY", today + dt.timedelta(days=1), 8)
    later = appointment("NW", today + dt.timedelta(days=20), 9)
    rows.add(Booking, appointment_id=past, promoter_id=zora, status="confirmed")
    rows.add(Booking, appointment_id=soon, promoter_id=zora, status="confirmed")
    rows.add(
        Booking,
        appointment_id=later,
        promoter_id=yann,
        status="confirmed",
        cancel_requested_at=utcnow(),
        cancel_reason="Krank",
    )
    rows.add(Booking, appointment_id=soon, promoter_id=yann, status="withdrawn")
    rows.add(Application, promoter_id=zora, job_id=campaign["jobs"]["BY"], status="applied")
    rows.add(Application, promoter_id=yann, job_id=campaign["jobs"]["NW"], status="applied")
    return {**campaign, "zora": zora, "yann": yann, "today": today}


def _hours(html: str) -> list[str]:
    """The appointments' start hours of the listed bookings (each test appointment has its own)."""
    table = html.split('class="table table-bordered table-hover"', 1)[-1]
    return sorted(re.findall(r"\b(\d\d):00[–-]", table))


def test_bookings_start_today_and_narrow_by_promoter(app, world):
    client = client_for(app, "agentur", "de")
    zora = client.get(f"{BOOKINGS}?promoter={world['zora']}").get_data(as_text=True)
    assert _hours(zora) == ["08"], "yesterday's booking is not listed by default, tomorrow's is"
    assert "Ab heute" in zora
    everything = client.get(f"{BOOKINGS}?promoter={world['zora']}&period=all").get_data(as_text=True)
    assert _hours(everything) == ["07", "08"]
    # the chosen promoter stays in the form, by name
    form = zora.split('id="quick-filters"', 1)[1].split("</form>")[0]
    assert f"Zora Test {world['tag']}" in form
    assert form.count("<option") < 20, "no dropdown of every promoter"


def test_bookings_by_store_and_open_cancellation_requests(app, world):
    client = client_for(app, "agentur", "en")
    by_store = client.get(f"{BOOKINGS}?store={world['locations']['NW']}").get_data(as_text=True)
    assert _hours(by_store) == ["09"]
    pending = client.get(f"{BOOKINGS}?store={world['locations']['NW']}&cancel_pending=y&period=all").get_data(
        as_text=True
    )
    assert _hours(pending) == ["09"]
    none_pending = client.get(f"{BOOKINGS}?promoter={world['zora']}&cancel_pending=y&period=all").get_data(
        as_text=True
    )
    assert _hours(none_pending) == []
    assert "Only cancellation requests awaiting an answer" in pending


def test_bookings_custom_dates_and_broken_input(app, world):
    client = client_for(app, "agentur", "de")
    day = (world["today"] - dt.timedelta(days=2)).strftime("%d.%m.%Y")
    html = client.get(f"{BOOKINGS}?promoter={world['zora']}&date_from={day}&date_to={day}").get_data(
        as_text=True
    )
    assert _hours(html) == ["07"]
    broken = client.get(f"{BOOKINGS}?promoter={world['zora']}&date_from=31.02.2026&store=abc")
    assert broken.status_code == 200
    text = broken.get_data(as_text=True)
    form = text.split('id="quick-filters"', 1)[1].split("</form>")[0]
    assert "Bitte das Datum wie" in form  # the broken From is explained, and ignored:
    assert _hours(text) == ["08"]
    assert "Traceback" not in text and "SELECT" not in text
    assert "Bitte einen Eintrag aus der Liste wählen." in form


def test_applications_by_promoter_and_job(app, world):
    client = client_for(app, "agentur", "en")
    html = client.get(f"{APPLICATIONS}?promoter={world['zora']}").get_data(as_text=True)
    table = html.split('class="table table-bordered table-hover"', 1)[-1]
    assert f"Zora Test {world['tag']}" in table and f"Yann Test {world['tag']}" not in table
    by_job = client.get(f"{APPLICATIONS}?job={world['jobs']['NW']}").get_data(as_text=True)
    table = by_job.split('class="table table-bordered table-hover"', 1)[-1]
    assert f"Yann Test {world['tag']}" in table and f"Zora Test {world['tag']}" not in table
