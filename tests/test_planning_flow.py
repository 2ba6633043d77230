"""The planning issue's acceptance walk, as the agency and a promoter would do it.

agentur opens a job, accepts an applicant, generates a month of appointments for
the store and requests the applicant for them; the promoter logs into the
promoter system, confirms them and sees them in the calendar feed; a second,
overlapping request is refused on confirmation with a clear reason.
"""

from __future__ import annotations

import datetime as dt
import re

import holidays
import icalendar
import pytest
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORD, login
from tests.helpers import Rows
from tests.planning_helpers import make_campaign


@pytest.fixture()
def rows(app):
    made = Rows(app)
    yield made
    made.cleanup()


def _promoter_with_login(app, rows: Rows, tag: str) -> tuple[int, str]:
    from app.extensions import db
    from app.models.promoter import Promoter

    username = f"flow-{tag}"
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            username,
            "Flora",
            f"Flow {tag}",
            f"{username}@example.com",
            sm.find_role("Promoter"),
            password=DEMO_PASSWORD,
        )
        promoter = Promoter(
            first_name="Flora",
            last_name=f"Flow {tag}",
            email=f"flora-{tag}@example.com",
            active=True,
            user_id=user.id,
        )
        db.session.add(promoter)
        db.session.commit()
        promoter_id, user_id = promoter.id, user.id
    rows.adopt(Promoter, promoter_id)
    rows.adopt(type(user), user_id)
    return promoter_id, username


def _ids(app, model, *where) -> list[int]:
    from app.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(model.id).where(*where).order_by(model.id)))


def test_open_accept_generate_request_confirm_feed_and_refuse_overlap(app, rows):
    from app.models.planning import Application, Appointment, Booking

    today = dt.date.today()
    first = today + dt.timedelta(days=14 - today.weekday())  # a Monday two weeks ahead
    campaign = make_campaign(
        rows, ("HH", "BY"), first, first + dt.timedelta(weeks=12), planned_days=5, status="draft"
    )
    job_hh, job_by = campaign["jobs"]["HH"], campaign["jobs"]["BY"]
    promoter_id, username = _promoter_with_login(app, rows, campaign["tag"])

    agency = app.test_client()
    login(agency, "agentur")
    promoter = app.test_client()
    answer = promoter.post("/promoter/login", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 302 and "login" not in answer.headers["Location"]

    # 1. agentur opens both jobs for applications; the promoter applies for both
    for job in (job_hh, job_by):
        answer = agency.post("/jobview/action_post", data={"action": "open_job", "rowid": [job]})
        assert answer.status_code == 302
        assert promoter.post(f"/promoter/jobs/{job}/apply").status_code == 302
    applications = _ids(app, Application, Application.promoter_id == promoter_id)
    assert len(applications) == 2
    for application in applications:
        rows.adopt(Application, application)

    # 2. agentur accepts the applicant
    agency.post("/applicationview/action_post", data={"action": "accept", "rowid": applications})

    # 3. a month of appointments for the Hamburg store, Mon/Wed/Fri 10:00–18:00
    month = {
        "job": job_hh,
        "start": first.isoformat(),
        "end": (first + dt.timedelta(days=27)).isoformat(),
        "weekdays": ["0", "2", "4"],
        "start_time": "10:00",
        "end_time": "18:00",
        "skip_holidays": "y",
    }
    preview = agency.post("/planning/generate/", data={**month, "step": "preview"})
    assert preview.status_code == 200
    assert _ids(app, Appointment, Appointment.job_id == job_hh) == [], "the preview wrote nothing"
    agency.post("/planning/generate/", data={**month, "step": "create"})
    month_ids = _ids(app, Appointment, Appointment.job_id == job_hh)
    for pk in month_ids:
        rows.adopt(Appointment, pk)
    hamburg_holidays = holidays.country_holidays("DE", subdiv="HH", years=[first.year, first.year + 1])
    expected = [
        first + dt.timedelta(days=n)
        for n in range(28)
        if (first + dt.timedelta(days=n)).weekday() in (0, 2, 4)
        and first + dt.timedelta(days=n) not in hamburg_holidays
    ]
    assert 10 <= len(expected) <= 12
    assert len(month_ids) == len(expected)

    # an appointment at the Munich store that overlaps the first Hamburg day
    from app.extensions import db

    with app.app_context():
        clash = Appointment(
            job_id=job_by, date=first, start_time=dt.time(12), end_time=dt.time(16), status="planned"
        )
        db.session.add(clash)
        db.session.commit()
        clash_id = clash.id
    rows.adopt(Appointment, clash_id)

    # 4. request the applicant for the month and (by a second planner's click) the Munich day
    answer = agency.post(
        "/planning/request/", data={"ids": ",".join(map(str, month_ids)), "promoter": [promoter_id]}
    )
    assert answer.status_code in (200, 302)
    agency.post("/planning/request/", data={"ids": str(clash_id), "promoter": [promoter_id]})
    bookings = _ids(app, Booking, Booking.promoter_id == promoter_id, Booking.appointment_id.in_(month_ids))
    (clash_booking,) = _ids(app, Booking, Booking.appointment_id == clash_id)
    for booking in [*bookings, clash_booking]:
        rows.adopt(Booking, booking)
    assert len(bookings) == len(expected)

    # 5. the promoter confirms the month in the promoter system
    for booking in bookings:
        assert promoter.post(f"/promoter/requests/{booking}/confirm").status_code == 302
    confirmed = _ids(app, Booking, Booking.promoter_id == promoter_id, Booking.status == "confirmed")
    assert sorted(confirmed) == sorted(bookings)

    # 6. … and sees them in a calendar app through the private feed
    promoter.post("/promoter/calendar", data={"action": "create"})
    page = promoter.get("/promoter/calendar").get_data(as_text=True)
    feed_path = re.search(r"(/promoter/feed/[\w-]+\.ics)", page).group(1)
    calendar = icalendar.Calendar.from_ical(app.test_client().get(feed_path).data)
    starts = sorted(e.decoded("DTSTART") for e in calendar.walk("VEVENT"))
    assert [start.date() for start in starts] == expected
    assert all(start.hour == 10 and str(start.tzinfo) == "Europe/Berlin" for start in starts)

    # 7. the overlapping Munich request is refused on confirmation, with the reason
    refused = promoter.post(f"/promoter/requests/{clash_booking}/confirm", follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "Bestätigen nicht möglich" in text and "Überschneidet sich" in text
    assert _ids(app, Booking, Booking.id == clash_booking, Booking.status == "requested") == [clash_booking]
