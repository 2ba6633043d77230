"""The agency's appointment list as a planner uses it: upcoming first, store, city and
confirmed promoters as columns, quick filters (store, job, period, unstaffed), no dropdown of
every row, and a pager that does not count every appointment."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.helpers import Rows, client_for
from tests.planning_helpers import add_promoter, make_campaign

LIST = "/appointmentview/list/"


@pytest.fixture(scope="module")
def rows(app):
    made = Rows(app)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def today(app):
    from app.common.timezone import local_today

    with app.app_context():
        return local_today()


@pytest.fixture(scope="module")
def world(app, rows, today):
    from app.models.planning import Appointment, Booking

    campaign = make_campaign(rows, ("BY", "NW"), today - dt.timedelta(days=30), today + dt.timedelta(days=60))
    tag = campaign["tag"]
    zora = add_promoter(rows, tag, "Zora")
    yann = add_promoter(rows, tag, "Yann")
    next_monday = today + dt.timedelta(days=7 - today.weekday())

    def appointment(state: str, day: dt.date, hour: int, status: str = "planned") -> int:
        return rows.add(
            Appointment,
            job_id=campaign["jobs"][state],
            date=day,
            start_time=dt.time(hour, 0),
            end_time=dt.time(hour + 1, 0),
            status=status,
        )

    ids = {
        "past": appointment("BY", today - dt.timedelta(days=1), 7),
        "today": appointment("BY", today, 8),
        "next_week": appointment("NW", next_monday + dt.timedelta(days=1), 9),
        "next_week_cancelled": appointment("NW", next_monday + dt.timedelta(days=2), 10, "cancelled"),
        "next_week_requested": appointment("NW", next_monday + dt.timedelta(days=3), 11),
    }
    rows.add(Booking, appointment_id=ids["today"], promoter_id=zora, status="confirmed")
    rows.add(Booking, appointment_id=ids["today"], promoter_id=yann, status="requested")
    rows.add(Booking, appointment_id=ids["next_week_requested"], promoter_id=yann, status="requested")
    return {**campaign, **ids, "next_monday": next_monday}


def _rows_of(html: str) -> list[str]:
    """The list's table rows as text (one string per appointment)."""
    body = html.split("<tbody", 1)[-1] if "<tbody" in html else html.split("</thead>", 1)[-1]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in body.split("<tr")[1:]]


def _times(html: str) -> list[str]:
    """The start times of the listed rows (each test appointment has its own hour)."""
    return re.findall(r"\b(\d\d:00) (?:\d\d:00)", " ".join(_rows_of(html)))


def test_starts_today_and_shows_store_city_and_confirmed_promoters(app, world):
    html = client_for(app, "agentur", "en").get(f"{LIST}?job={world['jobs']['BY']}").get_data(as_text=True)
    rows = _rows_of(html)
    assert _times(html) == ["08:00"], rows  # yesterday's 07:00 is not listed by default
    (row,) = [r for r in rows if "08:00" in r]
    assert f"Markt BY {world['tag']}" in row
    assert "Stadt BY" in row
    assert f"Zora Test {world['tag']}" in row
    assert "Yann" not in row  # only requested, not confirmed
    assert "Confirmed promoters" in html and "City" in html


def test_german_labels(app, world):
    html = client_for(app, "agentur", "de").get(f"{LIST}?job={world['jobs']['BY']}").get_data(as_text=True)
    assert "Bestätigte Promoter" in html
    assert "Ab heute" in html  # the default period, chosen in the quick filter
    assert "Nur unbesetzte" in html


def test_all_dates_and_fab_date_filter_show_the_past(app, world, today):
    client = client_for(app, "agentur", "de")
    job = world["jobs"]["BY"]
    assert _times(client.get(f"{LIST}?job={job}&period=all").get_data(as_text=True)) == ["07:00", "08:00"]
    yesterday = (today - dt.timedelta(days=1)).strftime("%d.%m.%Y")
    # FAB's own date filter (the cockpit links to it) replaces the default "from today".
    html = client.get(f"{LIST}?job={job}&_flt_0_date={yesterday}").get_data(as_text=True)
    assert _times(html) == ["07:00"]


def test_store_period_and_unstaffed(app, world):
    client = client_for(app, "agentur", "en")
    store = world["locations"]["NW"]
    next_week = client.get(f"{LIST}?store={store}&period=next_week").get_data(as_text=True)
    assert _times(next_week) == ["09:00", "10:00", "11:00"]
    unstaffed = client.get(f"{LIST}?store={store}&period=next_week&unstaffed=y").get_data(as_text=True)
    # planned without a confirmed booking (a request does not staff it); cancelled is not planned
    assert _times(unstaffed) == ["09:00", "11:00"]
    this_week = client.get(f"{LIST}?store={store}&period=today").get_data(as_text=True)
    assert _times(this_week) == []
    by = world["locations"]["BY"]
    assert _times(client.get(f"{LIST}?store={by}&unstaffed=y").get_data(as_text=True)) == []
    # the chosen store stays in the form, by name
    assert f"Markt NW {world['tag']}" in next_week.split('id="quick-filters"', 1)[1].split("</form>")[0]


def test_custom_dates_typed_in_german(app, world):
    client = client_for(app, "agentur", "de")
    day = world["next_monday"] + dt.timedelta(days=2)
    html = client.get(
        f"{LIST}?store={world['locations']['NW']}&period=custom&date_from={day:%d.%m.%Y}&date_to={day:%d.%m.%Y}"
    ).get_data(as_text=True)
    assert _times(html) == ["10:00"]


def test_broken_quick_filter_input_is_explained_not_a_500(app, world):
    client = client_for(app, "agentur", "de")
    response = client.get(f"{LIST}?store=999999999&date_from=31.02.2026&period=nonsense")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bitte einen Eintrag aus der Liste wählen." in html or "Bitte wählen Sie" in html
    assert "Bitte geben Sie das Datum" in html or "15.12.2026" in html


def test_no_dropdown_of_every_job_promoter_or_contact(app, world):
    """Job, contact and promoter are chosen by searching (remote selects), never from a list
    of every row, on the appointment, booking and application lists."""
    client = client_for(app, "agentur", "en")
    for url in (LIST, "/bookingview/list/", "/applicationview/list/", "/transfer/"):
        html = client.get(url).get_data(as_text=True)
        selects = re.findall(r"<select[^>]*>.*?</select>", html, flags=re.S)
        for select in selects:
            # FAB's filter bar and the quick filters: no select of related rows without search
            name = re.search(r'name="([^"]*)"', select)
            if name and name.group(1) in ("job", "promoter", "proposed_by", "store", "appointment"):
                assert "data-ajax--url" in select, (url, select[:300])
                assert select.count("<option") <= 2, (url, select[:300])


def test_import_form_chooses_the_job_by_search(app, world):
    client = client_for(app, "agentur", "en")
    html = client.get(f"/transfer/?job={world['jobs']['BY']}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="job".*?</select>', html, re.S).group(0)
    assert "data-ajax--url" in select
    assert f"Job BY {world['tag']}" in select and "selected" in select


def test_pager_stops_counting(app, world, monkeypatch):
    from app.planning.views import AppointmentView

    monkeypatch.setattr(AppointmentView.datamodel, "count_ahead", 1)
    client = client_for(app, "agentur", "en")
    html = client.get(f"{LIST}?period=all&psize_AppointmentView=2").get_data(as_text=True)
    assert "more than 3" in html
    german = client_for(app, "agentur", "de").get(f"{LIST}?period=all&psize_AppointmentView=2")
    assert "mehr als 3" in german.get_data(as_text=True)
    # a small result is counted exactly
    exact = client.get(f"{LIST}?job={world['jobs']['BY']}&period=all").get_data(as_text=True)
    assert re.search(r"Record Count:</strong>\s*2\b", exact)


def test_booking_list_stops_counting_too(app, world, monkeypatch):
    from app.staffing.views import BookingView

    monkeypatch.setattr(BookingView.datamodel, "count_ahead", 1)
    client = client_for(app, "agentur", "en")
    assert "more than 3" in client.get("/bookingview/list/?psize_BookingView=2").get_data(as_text=True)


@pytest.fixture(scope="module")
def busy_days(app, rows, today):
    """Two days of one store whose appointments were entered out of order of their times."""
    from app.models.planning import Appointment

    campaign = make_campaign(rows, ("HE",), today, today + dt.timedelta(days=30))
    first = today + dt.timedelta(days=5)
    for day, hours in ((first, (11, 10, 8)), (first + dt.timedelta(days=1), (9, 7))):
        for hour in hours:
            rows.add(
                Appointment,
                job_id=campaign["jobs"]["HE"],
                date=day,
                start_time=dt.time(hour, 0),
                end_time=dt.time(hour + 1, 0),
                status="planned",
            )
    return campaign


def test_a_days_appointments_come_by_their_start_time(app, busy_days):
    client = client_for(app, "agentur", "de")
    url = f"{LIST}?job={busy_days['jobs']['HE']}"
    assert _times(client.get(url).get_data(as_text=True)) == ["08:00", "10:00", "11:00", "07:00", "09:00"]
    # latest date first: the day's latest appointment first too
    latest = client.get(f"{url}&_oc_AppointmentView=date&_od_AppointmentView=desc").get_data(as_text=True)
    assert _times(latest) == ["09:00", "07:00", "11:00", "10:00", "08:00"]
    # a column the user sorts by still wins over the date
    by_start = client.get(f"{url}&_oc_AppointmentView=start_time&_od_AppointmentView=asc").get_data(
        as_text=True
    )
    assert _times(by_start) == ["07:00", "08:00", "09:00", "10:00", "11:00"]
