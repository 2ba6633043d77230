"""Both calendar feeds read right in real calendar clients.

Every event's start and end are read by Mozilla's ical.js (the parser behind
Thunderbird; pinned in tests/js/package.json, installed with ``npm ci``) and by
Python's ``icalendar``, and compared in UTC with the app's own conversion of the
stored local time, for summer and winter appointments. The customer feed holds
exactly the contact's visible appointments (computed here with plain joins, not
the visibility module) with confirmed promoters' display names only; UIDs stay,
SEQUENCE grows with a change, cancelled appointments stay as cancelled events.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from tests.test_ical_feed import _booking, _store, promoter_id, set_token
from tests.visibility_helpers import (
    Rows,
    confirmed_names,
    db_session,
    expected_appointments,
    local_today,
    new_tag,
    session_client,
)

BERLIN = ZoneInfo("Europe/Berlin")
JS = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def icaljs() -> Path:
    """The node script that reads a feed with ical.js; ``npm ci`` installs the pinned version."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed in CI (apt packages nodejs and npm)")
        pytest.skip("node and npm are not installed; .ci/run installs them (apt nodejs npm)")
    if not (JS / "node_modules" / "ical.js" / "package.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, timeout=300)
    return JS / "feed_starts.mjs"


def read_with_icaljs(script: Path, body: bytes) -> dict[str, dict]:
    done = subprocess.run(["node", str(script)], input=body, capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def utc(day: dt.date, time: dt.time) -> dt.datetime:
    """The app's own conversion of a stored local time."""
    return dt.datetime.combine(day, time, tzinfo=BERLIN).astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture()
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


def contact_of(app, username: str):
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact

    with db_session(app) as session:
        return session.scalar(
            select(Contact.id).join(User, User.id == Contact.user_id).where(User.username == username)
        )


def set_contact_token(app, contact: int, token: str | None) -> None:
    from app.extensions import db
    from app.models.crm import Contact

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(Contact.__table__).where(Contact.__table__.c.id == contact).values(feed_token=token)
        )


@pytest.fixture()
def north_feed(app):
    contact = contact_of(app, "adm.nord")
    token = secrets.token_urlsafe(32)
    set_contact_token(app, contact, token)
    yield token
    set_contact_token(app, contact, None)


def customer_feed(app, token: str):
    return app.test_client().get(f"/portal/feed/{token}.ics")


# ---------------------------------------------------------------- the VTIMEZONE


def test_the_vtimezone_is_the_standard_recurring_form(app):
    """One DAYLIGHT and one STANDARD part with "last Sunday of March/October" rules."""
    from app.common.ical import vtimezone

    zone = vtimezone("Europe/Berlin")
    parts = {part.name: part for part in zone.subcomponents}
    assert set(parts) == {"DAYLIGHT", "STANDARD"}
    assert parts["DAYLIGHT"]["RRULE"].to_ical() in (
        b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        b"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    )
    assert parts["STANDARD"]["RRULE"].to_ical() in (
        b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        b"FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    )
    assert parts["DAYLIGHT"].decoded("DTSTART") == dt.datetime(1970, 3, 29, 2, 0)
    assert parts["STANDARD"].decoded("DTSTART") == dt.datetime(1970, 10, 25, 3, 0)
    assert "RDATE" not in parts["DAYLIGHT"] and "RDATE" not in parts["STANDARD"]


# ---------------------------------------------------------------- ical.js, both feeds


def _check_every_event(
    script: Path, body: bytes, expected: dict[str, tuple[dt.datetime, dt.datetime]]
) -> None:
    by_icaljs = read_with_icaljs(script, body)
    by_python = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    assert set(by_icaljs) == set(by_python) == set(expected)
    for uid, (start, end) in expected.items():
        assert by_icaljs[uid]["start"] == iso(start), uid
        assert by_icaljs[uid]["end"] == iso(end), uid
        assert by_python[uid].decoded("DTSTART").astimezone(dt.UTC) == start
        assert by_python[uid].decoded("DTEND").astimezone(dt.UTC) == end


def test_promoter_feed_reads_right_in_icaljs_summer_and_winter(app, rows, icaljs):
    me = promoter_id(app, "promoter01")
    token = secrets.token_urlsafe(32)
    set_token(app, me, token)
    try:
        job = _store(rows, app, new_tag("js"))
        year = local_today(app).year + 1
        summer = _booking(rows, job, me, dt.date(year, 7, 15), dt.time(10), dt.time(18))
        winter = _booking(rows, job, me, dt.date(year, 1, 15), dt.time(10), dt.time(18))
        body = app.test_client().get(f"/promoter/feed/{token}.ics").data
        from app.models.planning import Appointment, Booking

        with db_session(app) as session:
            found = session.execute(
                select(Booking.id, Appointment.date, Appointment.start_time, Appointment.end_time)
                .join(Appointment, Appointment.id == Booking.appointment_id)
                .where(Booking.id.in_([b for b in _uids(body, "booking")]))
            )
            expected = {f"booking-{b}@promoplan.local": (utc(d, s), utc(d, e)) for b, d, s, e in found}
        _check_every_event(icaljs, body, expected)
        by_icaljs = read_with_icaljs(icaljs, body)
        assert by_icaljs[f"booking-{summer}@promoplan.local"]["start"] == f"{year}-07-15T08:00:00.000Z"
        assert by_icaljs[f"booking-{winter}@promoplan.local"]["start"] == f"{year}-01-15T09:00:00.000Z"
    finally:
        set_token(app, me, None)


def _uids(body: bytes, kind: str) -> list[int]:
    return [int(n) for n in re.findall(rf"UID:{kind}-(\d+)@", body.decode())]


def test_customer_feed_reads_right_in_icaljs_and_holds_exactly_the_visible_appointments(
    app, rows, north_feed, icaljs
):
    from app.models.crm import Location, Territory
    from app.models.planning import Appointment

    # A store of the north (visible to adm.nord) with a summer and a winter appointment.
    with db_session(app) as session:
        north = session.scalar(select(Territory.id).where(Territory.name == "ADM Nord / Supertoy"))
    job = _store(rows, app, new_tag("cjs"))
    with db_session(app) as session:
        from app.models.planning import Job

        location = session.get(Job, job).location_id
    with app.app_context():
        from app.extensions import db

        with db.engine.begin() as conn:
            conn.execute(
                update(Location.__table__)
                .where(Location.__table__.c.id == location)
                .values(territory_id=north)
            )
    year = local_today(app).year + 1
    summer = rows.add(
        Appointment,
        job_id=job,
        date=dt.date(year, 7, 15),
        start_time=dt.time(10),
        end_time=dt.time(18),
        status="planned",
        origin="agency",
        version=1,
    )
    winter = rows.add(
        Appointment,
        job_id=job,
        date=dt.date(year, 1, 15),
        start_time=dt.time(10),
        end_time=dt.time(18),
        status="cancelled",
        origin="agency",
        version=2,
    )
    body = customer_feed(app, north_feed).data
    since = local_today(app) - dt.timedelta(days=90)
    with db_session(app) as session:
        visible = expected_appointments(session, "adm.nord", Appointment.date >= since)
        names = confirmed_names(session, [r.id for r in visible])
    expected = {
        f"appointment-{r.id}@promoplan.local": (utc(r.date, r.start_time), utc(r.date, r.end_time))
        for r in visible
    }
    assert f"appointment-{summer}@promoplan.local" in expected
    _check_every_event(icaljs, body, expected)
    by_icaljs = read_with_icaljs(icaljs, body)
    assert by_icaljs[f"appointment-{summer}@promoplan.local"]["start"] == f"{year}-07-15T08:00:00.000Z"
    assert by_icaljs[f"appointment-{winter}@promoplan.local"]["start"] == f"{year}-01-15T09:00:00.000Z"
    assert by_icaljs[f"appointment-{winter}@promoplan.local"]["status"] == "CANCELLED"
    assert by_icaljs[f"appointment-{winter}@promoplan.local"]["sequence"] == 2
    # Confirmed promoters' display names only, exactly those of the customer system's lists.
    events = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    for row in visible:
        lines = str(events[f"appointment-{row.id}@promoplan.local"]["DESCRIPTION"]).split("\n")
        shown = lines[2].split(": ", 1)[1].split(", ") if len(lines) > 2 else []
        assert shown == names.get(row.id, []), row.id


def test_south_stores_never_appear_in_the_north_feed(app, north_feed):
    from app.models.planning import Appointment

    body = customer_feed(app, north_feed).data
    since = local_today(app) - dt.timedelta(days=90)
    with db_session(app) as session:
        south = {r.id for r in expected_appointments(session, "adm.sued", Appointment.date >= since)}
        north = {r.id for r in expected_appointments(session, "adm.nord", Appointment.date >= since)}
    shown = set(_uids(body, "appointment"))
    assert shown == north
    assert not shown & south


def test_a_change_keeps_the_uid_and_raises_the_sequence(app, rows, north_feed):
    from app.models.planning import Appointment

    with db_session(app) as session:
        first = expected_appointments(
            session, "adm.nord", Appointment.date >= local_today(app), Appointment.status == "planned"
        )[0]
    uid = f"appointment-{first.id}@promoplan.local"

    def event():
        return {
            str(e["UID"]): e for e in Calendar.from_ical(customer_feed(app, north_feed).data).walk("VEVENT")
        }[uid]

    before = event()
    with db_session(app) as session:
        appointment = session.get(Appointment, first.id)
        appointment.start_time, appointment.end_time = dt.time(7), dt.time(9)
        session.commit()
    try:
        after = event()
        assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
        assert after.decoded("DTSTART") == dt.datetime.combine(first.date, dt.time(7), tzinfo=BERLIN)
    finally:
        with db_session(app) as session:
            appointment = session.get(Appointment, first.id)
            appointment.start_time, appointment.end_time = first.start_time, first.end_time
            session.commit()


def test_settings_create_renew_and_revoke_the_customer_link(app):
    contact = contact_of(app, "adm.nord")
    client = session_client(app, "adm.nord")
    try:
        page = client.get("/portal/settings").get_data(as_text=True)
        assert 'id="no-feed"' in page
        client.post("/portal/settings", data={"action": "create"})
        link = _link(client)
        assert app.test_client().get(link).status_code == 200
        client.post("/portal/settings", data={"action": "renew"})
        renewed = _link(client)
        assert renewed != link
        assert app.test_client().get(link).status_code == 404
        assert app.test_client().get(renewed).status_code == 200
        client.post("/portal/settings", data={"action": "revoke"})
        assert app.test_client().get(renewed).status_code == 404
        assert app.test_client().get("/portal/feed/not a token.ics").status_code == 404
    finally:
        set_contact_token(app, contact, None)


def _link(client) -> str:
    html = client.get("/portal/settings").get_data(as_text=True)
    url = re.search(r'id="feed-link" value="([^"]+)"', html).group(1)
    return "/" + url.split("/", 3)[3]


def test_an_inactive_login_loses_the_feed(app, north_feed):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db

    assert customer_feed(app, north_feed).status_code == 200
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(User.__table__).where(User.__table__.c.username == "adm.nord").values(active=False)
        )
    try:
        assert customer_feed(app, north_feed).status_code == 404
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(
                update(User.__table__).where(User.__table__.c.username == "adm.nord").values(active=True)
            )
