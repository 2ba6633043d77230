"""Staffing as the agency does it: the conflict rules, the request page, the actions
on jobs, applications and appointments, and the conflicts page.

The module builds a campaign of its own in the coming weeks (stores in Hamburg and
Bavaria, two days a week agreed), with promoters, applications, appointments and
bookings made for each rule:

- week W (next Monday): A1 Hamburg Mon 10–18 (P1 confirmed), A2 Bavaria Mon 12–16,
  A3 Hamburg Tue (P2 unavailable), A4 Hamburg Wed — Hamburg has 3 days, 2 agreed;
- A5 Hamburg on the next public holiday of Hamburg;
- week W+1: A6 Hamburg Mon 10–18 and A7 Bavaria Mon 11–12, both booked for P5
  (overlap), A8 Bavaria Tue booked for P5, who is unavailable that day;
- week W+2: B1 Hamburg Mon 10–18 (P2 requested), B2 Bavaria Mon 12–16.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import holidays
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from tests.helpers import Rows, client_for, db_session, flashes, fresh_row, ids_where
from tests.planning_helpers import (
    LOCALES,
    add_promoter,
    adopt_appointments,
    make_campaign,
    next_monday,
    page,
    t,
    text,
)

TEN, SIX = dt.time(10), dt.time(18)


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


def _next_holiday(state: str, after: dt.date) -> dt.date:
    calendar = holidays.country_holidays("DE", subdiv=state, years=range(after.year, after.year + 2))
    return min(day for day in calendar if day > after + dt.timedelta(days=14) and day.weekday() < 6)


@pytest.fixture(scope="module")
def world(app, rows):
    from app.models.planning import Application, Appointment, Booking
    from app.models.promoter import Unavailability
    from app.outbox.models import OutboxMessage

    w = next_monday(app)
    today = w - dt.timedelta(days=7)
    ids = make_campaign(rows, ("HH", "BY"), today, today + dt.timedelta(days=400), planned_days=2)
    ids["W"] = w
    ids["holiday"] = _next_holiday("HH", w)
    hh, by = ids["jobs"]["HH"], ids["jobs"]["BY"]
    tag = ids["tag"]
    for name in ("P1", "P2", "P3", "P5"):
        ids[name] = add_promoter(rows, tag, name)
    for promoter in ("P1", "P2"):
        for job in (hh, by):
            rows.add(Application, promoter_id=ids[promoter], job_id=job, status="accepted")
    rows.add(Application, promoter_id=ids["P3"], job_id=hh, status="applied")

    def appointment(key, job, day, start=TEN, end=SIX):
        ids[key] = rows.add(
            Appointment, job_id=job, date=day, start_time=start, end_time=end, status="planned"
        )

    appointment("A1", hh, w)
    appointment("A2", by, w, dt.time(12), dt.time(16))
    appointment("A3", hh, w + dt.timedelta(days=1))
    appointment("A4", hh, w + dt.timedelta(days=2))
    appointment("A5", hh, ids["holiday"])
    appointment("A6", hh, w + dt.timedelta(days=7))
    appointment("A7", by, w + dt.timedelta(days=7), dt.time(11), dt.time(12))
    appointment("A8", by, w + dt.timedelta(days=8))
    appointment("B1", hh, w + dt.timedelta(days=14))
    appointment("B2", by, w + dt.timedelta(days=14), dt.time(12), dt.time(16))
    rows.add(Booking, appointment_id=ids["A1"], promoter_id=ids["P1"], status="confirmed")
    rows.add(Booking, appointment_id=ids["A6"], promoter_id=ids["P5"], status="confirmed")
    rows.add(Booking, appointment_id=ids["A7"], promoter_id=ids["P5"], status="requested")
    rows.add(Booking, appointment_id=ids["A8"], promoter_id=ids["P5"], status="requested")
    rows.add(Booking, appointment_id=ids["B1"], promoter_id=ids["P2"], status="requested")
    day = w + dt.timedelta(days=1)
    ids["U2"] = rows.add(Unavailability, promoter_id=ids["P2"], start_date=day, end_date=day, note="Urlaub")
    day = w + dt.timedelta(days=8)
    ids["U5"] = rows.add(Unavailability, promoter_id=ids["P5"], start_date=day, end_date=day)
    ids["outbox"] = max(ids_where(app, OutboxMessage) or [0])
    yield ids
    for job in ids["jobs"].values():
        adopt_appointments(app, rows, job)
    for pk in ids_where(app, OutboxMessage, OutboxMessage.id > ids["outbox"]):
        rows.adopt(OutboxMessage, pk)


def objects(session, world, *keys):
    from app.models.planning import Appointment
    from app.models.promoter import Promoter

    return [session.get(Promoter if key.startswith("P") else Appointment, world[key]) for key in keys]


def as_tuples(conflicts) -> list[tuple]:
    return [(c.kind, c.message, c.blocking) for c in conflicts]


def period(start: dt.date, end: dt.date) -> str:
    return f"{start:%d.%m.%Y}–{end:%d.%m.%Y}"


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize("locale", LOCALES)
def test_overlap_with_a_confirmed_booking_refuses(app, world, locale):
    from app.extensions import db
    from app.staffing import operations as staffing
    from app.staffing import rules as staffing_rules

    with app.test_request_context(), force_locale(locale):
        p1, a2 = objects(db.session, world, "P1", "A2")
        reason = t(
            "Overlaps with %(state)s booking at %(store)s, %(start)s–%(end)s",
            locale,
            state=t("a confirmed", locale),
            store=f"Markt HH {world['tag']}",
            start="10:00",
            end="18:00",
        )
        assert as_tuples(staffing_rules.booking_conflicts(db.session, p1.id, a2)) == [
            ("overlap", reason, True)
        ]
        result = staffing.request_promoters(db.session, [a2], [p1])
        assert not result.created
        assert [(a.id, p.id, as_tuples(c)) for a, p, c in result.refused] == [
            (world["A2"], world["P1"], [("overlap", reason, True)])
        ]


def test_overlap_with_a_requested_booking_warns_and_confirming_is_serialised(app, world):
    from app.extensions import db
    from app.models.planning import Booking
    from app.staffing import operations as staffing
    from app.staffing import rules as staffing_rules

    with app.test_request_context():
        p2, b2 = objects(db.session, world, "P2", "B2")
        found = staffing_rules.booking_conflicts(db.session, p2.id, b2)
        assert [(c.kind, c.blocking) for c in found] == [("overlap", False)]
        assert t("a requested", "de") in found[0].message
        result = staffing.request_promoters(db.session, [b2], [p2])
        assert [(b.appointment_id, b.status) for b in result.created] == [(world["B2"], "requested")]
        on_b2 = db.session.scalar(select(Booking.id).where(Booking.appointment_id == world["B2"]))
        on_b1 = db.session.scalar(select(Booking.id).where(Booking.appointment_id == world["B1"]))
        assert staffing.confirm(db.session, on_b2, p2.id).status == "confirmed"
        with pytest.raises(staffing.StaffingError) as refused:
            staffing.confirm(db.session, on_b1, p2.id)
        assert "Markt BY" in str(refused.value)
    assert fresh_row(app, Booking, on_b1)["status"] == "requested"


@pytest.mark.parametrize("locale", LOCALES)
def test_unavailable_day_refuses(app, world, locale):
    from app.extensions import db
    from app.staffing import operations as staffing
    from app.staffing import rules as staffing_rules

    day = world["W"] + dt.timedelta(days=1)
    with app.test_request_context(), force_locale(locale):
        p2, a3 = objects(db.session, world, "P2", "A3")
        reason = t("Unavailable on this day (%(period)s)", locale, period=period(day, day))
        assert as_tuples(staffing_rules.booking_conflicts(db.session, p2.id, a3)) == [
            ("unavailable", reason, True)
        ]
        result = staffing.request_promoters(db.session, [a3], [p2])
        assert not result.created and as_tuples(result.refused[0][2]) == [("unavailable", reason, True)]


@pytest.mark.parametrize("locale", LOCALES)
def test_week_full_and_holiday_only_warn(app, world, locale):
    from app.extensions import db
    from app.staffing import rules as staffing_rules

    with app.test_request_context(), force_locale(locale):
        a1, a5 = objects(db.session, world, "A1", "A5")
        full = t("%(days)d days planned this week, %(planned)d agreed", locale) % {"days": 3, "planned": 2}
        assert as_tuples(staffing_rules.appointment_conflicts(db.session, a1)) == [("week_full", full, False)]
        name = holidays.country_holidays(
            "DE", subdiv="HH", years=a5.date.year, language="de" if locale == "de" else "en_US"
        )[a5.date]
        holiday = t("Public holiday in %(state)s: %(name)s", locale, state="HH", name=name)
        assert ("holiday", holiday, False) in as_tuples(staffing_rules.appointment_conflicts(db.session, a5))


def test_the_bulk_checks_agree_with_the_rules(app, world):
    """The request page's few queries find exactly what the per-pair rules find."""
    from app.extensions import db
    from app.staffing import rules as staffing_rules
    from app.staffing.conflicts import appointment_warnings, pair_conflicts

    keys = ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "B1", "B2")
    with app.test_request_context():
        appointments = objects(db.session, world, *keys)
        promoters = objects(db.session, world, "P1", "P2", "P3", "P5")
        pairs = pair_conflicts(db.session, appointments, [p.id for p in promoters])
        warnings = appointment_warnings(db.session, appointments)
        found_any = 0
        for a in appointments:
            assert as_tuples(warnings.get(a.id, [])) == as_tuples(
                staffing_rules.appointment_conflicts(db.session, a)
            )
            for p in promoters:
                expected = as_tuples(staffing_rules.booking_conflicts(db.session, p.id, a))
                assert sorted(as_tuples(pairs.get((a.id, p.id), []))) == sorted(expected), (a.id, p.id)
                found_any += bool(expected)
        assert found_any >= 4


# ---------------------------------------------------------------- the request page


@pytest.mark.parametrize("locale", LOCALES)
def test_request_page_shows_every_pair_with_its_reasons(app, world, locale):
    client = client_for(app, "agentur", None if locale == "de" else locale)
    ids = ",".join(str(world[k]) for k in ("A1", "A2", "A3", "A4", "A5"))
    html = page(client, f"/planning/request/?ids={ids}")
    assert t("Request promoters", locale) in text(html)

    def cell(appointment: str, promoter: str) -> str:
        marker = f'data-pair="{world[appointment]}:{world[promoter]}"'
        assert marker in html, (appointment, promoter)
        return html.split(marker, 1)[1].split("</td>", 1)[0]

    store = f"Markt HH {world['tag']}"
    overlap = t(
        "Overlaps with %(state)s booking at %(store)s, %(start)s–%(end)s",
        locale,
        state=t("a confirmed", locale),
        store=store,
        start="10:00",
        end="18:00",
    )
    assert overlap in text(cell("A2", "P1")) and 'class="conflict text-danger"' in cell("A2", "P1")
    day = world["W"] + dt.timedelta(days=1)
    assert t("Unavailable on this day (%(period)s)", locale, period=period(day, day)) in text(
        cell("A3", "P2")
    )
    assert 'name="pair"' in cell("A4", "P2") and "conflict" not in cell("A4", "P2")
    assert t("Confirmed", locale) in text(cell("A1", "P1")) and 'name="pair"' not in cell("A1", "P1")
    row_a1 = html.split(f'data-appointment="{world["A1"]}"', 1)[1].split("</tr>", 1)[0]
    full = t("%(days)d days planned this week, %(planned)d agreed", locale) % {"days": 3, "planned": 2}
    assert full in text(row_a1)
    row_a5 = html.split(f'data-appointment="{world["A5"]}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-kind="holiday"' in row_a5
    # P3 only applied (not accepted): no column; promoters of other jobs: no cell to tick.
    assert f'data-promoter="{world["P3"]}"' not in html


def test_requesting_creates_bookings_and_one_mail_per_promoter(app, world):
    from app.extensions import db
    from app.models.planning import Booking
    from app.outbox.models import OutboxMessage

    mark = max(ids_where(app, OutboxMessage) or [0])
    client = client_for(app, "agentur")
    ids = ",".join(str(world[k]) for k in ("A1", "A2", "A3", "A4", "A5"))
    pairs = [
        ("A3", "P1"),
        ("A5", "P1"),
        ("A2", "P1"),
        ("A3", "P2"),
        ("A4", "P2"),
        ("A5", "P2"),
        ("A1", "P3"),
        ("A4", "P3"),
    ]
    data = {"ids": ids, "pair": [f"{world[a]}:{world[p]}" for a, p in pairs]}
    response = client.post("/planning/request/", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    with db_session(app) as session:
        states = {
            (b.appointment_id, b.promoter_id): b.status
            for b in session.scalars(
                select(Booking).where(Booking.appointment_id.in_([world[a] for a, _p in pairs]))
            )
        }
        mails = session.execute(
            select(OutboxMessage.recipient, func.count())
            .where(OutboxMessage.id > mark, OutboxMessage.kind == "booking_requests")
            .group_by(OutboxMessage.recipient)
        ).all()
    for a, p in [("A3", "P1"), ("A5", "P1"), ("A4", "P2"), ("A5", "P2")]:
        assert states[world[a], world[p]] == "requested", (a, p)
    for a, p in [("A2", "P1"), ("A3", "P2"), ("A1", "P3"), ("A4", "P3")]:
        assert (world[a], world[p]) not in states, (a, p)
    tag = world["tag"]
    assert sorted(mails) == [(f"p1-{tag}@example.com", 1), (f"p2-{tag}@example.com", 1)]

    assert "4 Anfragen erstellt, 2 Promoter benachrichtigt." in flashes(html)
    assert html.split('id="created-count">', 1)[1].startswith("4<")
    refused = html.split('id="refused"', 1)[1].split("</table>", 1)[0]
    assert f'data-pair="{world["A2"]}:{world["P1"]}"' in refused
    assert f'data-pair="{world["A3"]}:{world["P2"]}"' in refused
    # A1 is staffed (P1 confirmed): refused for the appointment, whoever is asked.
    assert f'data-pair="{world["A1"]}:"' in refused
    assert t("A promoter has already confirmed this appointment.", "de") in text(refused)
    assert f'data-pair="{world["A4"]}:{world["P3"]}"' in refused
    assert t("Not an accepted applicant of this job", "de") in text(refused)
    assert 'data-kind="overlap"' in refused and 'data-kind="unavailable"' in refused

    # The same batch again: nothing new, no further mail.
    html = page(client, "/planning/request/", method="POST", data=data)
    assert html.split('id="created-count">', 1)[1].startswith("0<")
    assert html.split('id="already-count">', 1)[1].startswith("4<")
    with app.app_context():
        again = db.session.scalar(
            select(func.count()).where(OutboxMessage.id > mark, OutboxMessage.kind == "booking_requests")
        )
    assert again == 2


def test_a_whole_promoter_can_be_ticked(app, world):
    from app.models.planning import Booking

    client = client_for(app, "agentur", "en")
    ids = f"{world['A4']},{world['A2']}"
    html = page(client, "/planning/request/", method="POST", data={"ids": ids, "promoter": str(world["P1"])})
    # A4 requested; A2 refused for the overlap with P1's confirmed booking.
    with db_session(app) as session:
        booked = session.scalar(
            select(Booking.status).where(
                Booking.appointment_id == world["A4"], Booking.promoter_id == world["P1"]
            )
        )
    assert booked == "requested"
    assert "1 requests created, 1 promoters notified." in flashes(html)
    assert f'data-pair="{world["A2"]}:{world["P1"]}"' in html


def test_request_page_without_appointments_and_without_ticks(app, world):
    client = client_for(app, "agentur")
    html = page(client, "/planning/request/?ids=abc,,-1")
    assert 'id="no-appointments"' in html
    response = client.post("/planning/request/", data={"ids": str(world["A4"])})
    assert response.status_code == 302
    followed = page(client, response.headers["Location"])
    assert t("Please tick at least one promoter.", "de") in flashes(followed)


def test_the_appointment_action_opens_the_request_page(app, world):
    client = client_for(app, "agentur")
    response = client.post(
        "/appointmentview/action_post",
        data={"action": "request_promoters", "rowid": [str(world["A3"]), str(world["A4"])]},
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/planning/request/"
    assert parse_qs(location.query)["ids"] == [f"{world['A3']},{world['A4']}"]


# ---------------------------------------------------------------- actions


@pytest.fixture(scope="module")
def drafts(app, rows, world):
    """Three draft jobs (one closed) with applications in every state."""
    from app.extensions import db
    from app.models.planning import Application, Job

    ids = make_campaign(
        rows, ("NW", "HE", "SN", "TH"), world["W"], world["W"] + dt.timedelta(days=90), status="draft"
    )
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == ids["jobs"]["SN"]).values(status="closed"))
    job = ids["jobs"]["NW"]
    ids["applications"] = {
        name: rows.add(Application, promoter_id=world[promoter], job_id=job, status=status)
        for name, promoter, status in (
            ("applied1", "P1", "applied"),
            ("applied2", "P2", "applied"),
            ("applied3", "P3", "applied"),
            ("withdrawn", "P5", "withdrawn"),
        )
    }
    return ids


def status_of(app, model, pk) -> str:
    return fresh_row(app, model, pk)["status"]


def test_open_jobs_for_applications(app, drafts):
    from app.models.planning import Job

    jobs = drafts["jobs"]
    client = client_for(app, "agentur")
    response = client.post(
        "/jobview/action_post",
        data={"action": "open_job", "rowid": [str(jobs["NW"]), str(jobs["HE"]), str(jobs["SN"])]},
    )
    assert response.status_code == 302
    assert [status_of(app, Job, jobs[s]) for s in ("NW", "HE", "SN")] == ["open", "open", "closed"]
    messages = flashes(page(client, "/jobview/list/"))
    assert t("%(count)d jobs are open for applications.", "de", count=2) in messages
    assert any(t("A closed job cannot be opened again.", "de") in m for m in messages)
    # Single, from the job's page.
    assert client.post(f"/jobview/action/open_job/{jobs['TH']}").status_code == 302
    assert status_of(app, Job, jobs["TH"]) == "open"


def test_accept_and_reject_applications(app, drafts):
    from app.models.planning import Application

    apps = drafts["applications"]
    client = client_for(app, "agentur", "en")
    response = client.post(
        "/applicationview/action_post",
        data={"action": "accept", "rowid": [str(apps["applied1"]), str(apps["withdrawn"])]},
    )
    assert response.status_code == 302
    assert status_of(app, Application, apps["applied1"]) == "accepted"
    assert status_of(app, Application, apps["withdrawn"]) == "withdrawn"
    messages = flashes(page(client, "/applicationview/list/"))
    assert "1 applications accepted." in messages
    assert any("The promoter has withdrawn this application." in m for m in messages)

    assert client.post(f"/applicationview/action/reject/{apps['applied2']}").status_code == 302
    assert status_of(app, Application, apps["applied2"]) == "rejected"
    client.post("/applicationview/action_post", data={"action": "reject", "rowid": [str(apps["applied3"])]})
    assert status_of(app, Application, apps["applied3"]) == "rejected"
    assert client.post(f"/applicationview/action/accept/{apps['applied3']}").status_code == 302
    assert status_of(app, Application, apps["applied3"]) == "accepted"
    # The applicants of a job are the related tab of the job's page, with the actions.
    html = page(client, f"/jobview/show/{drafts['jobs']['NW']}")
    assert f"/applicationview/show/{apps['applied1']}" in html


def test_cancel_appointments(app, rows, drafts, world):
    from app.models.planning import Appointment, Booking

    job = drafts["jobs"]["HE"]
    day = world["W"] + dt.timedelta(days=21)
    c1 = rows.add(Appointment, job_id=job, date=day, start_time=TEN, end_time=SIX)
    c2 = rows.add(Appointment, job_id=job, date=day + dt.timedelta(days=1), start_time=TEN, end_time=SIX)
    c3 = rows.add(
        Appointment, job_id=job, date=day - dt.timedelta(days=40), start_time=TEN, end_time=SIX, status="done"
    )
    c4 = rows.add(Appointment, job_id=job, date=day + dt.timedelta(days=2), start_time=TEN, end_time=SIX)
    b1 = rows.add(Booking, appointment_id=c1, promoter_id=world["P1"], status="requested")
    b2 = rows.add(Booking, appointment_id=c1, promoter_id=world["P2"], status="declined")
    client = client_for(app, "admin")
    response = client.post(
        "/appointmentview/action_post", data={"action": "cancel", "rowid": [str(c1), str(c2), str(c3)]}
    )
    assert response.status_code == 302
    assert [status_of(app, Appointment, pk) for pk in (c1, c2, c3)] == ["cancelled", "cancelled", "done"]
    assert status_of(app, Booking, b1) == "cancelled" and status_of(app, Booking, b2) == "declined"
    assert fresh_row(app, Appointment, c1)["updated_by_id"] is not None
    messages = flashes(page(client, "/appointmentview/list/"))
    assert t("%(count)d appointments cancelled.", "de", count=2) in messages
    assert any(t("This appointment cannot be cancelled any more.", "de") in m for m in messages)
    assert client.post(f"/appointmentview/action/cancel/{c4}").status_code == 302
    assert status_of(app, Appointment, c4) == "cancelled"


@pytest.mark.parametrize("user", ("adm.nord", "promoter01"))
def test_customers_and_promoters_cannot_use_the_actions(app, world, drafts, user):
    from app.models.planning import Application, Appointment

    client = client_for(app, user)
    application = drafts["applications"]["applied3"]
    before = (status_of(app, Appointment, world["A4"]), status_of(app, Application, application))
    for url, data in (
        ("/appointmentview/action_post", {"action": "cancel", "rowid": [str(world["A4"])]}),
        (f"/appointmentview/action/cancel/{world['A4']}", {}),
        (
            "/applicationview/action_post",
            {"action": "accept", "rowid": [str(drafts["applications"]["applied3"])]},
        ),
        ("/jobview/action_post", {"action": "open_job", "rowid": [str(drafts["jobs"]["NW"])]}),
        ("/planning/request/", {"ids": str(world["A4"]), "promoter": str(world["P2"])}),
    ):
        assert client.post(url, data=data).status_code == 403, url
    assert (status_of(app, Appointment, world["A4"]), status_of(app, Application, application)) == before


# ---------------------------------------------------------------- the conflicts page


@pytest.mark.parametrize("locale", LOCALES)
def test_conflicts_page_lists_each_kind_with_its_reason(app, world, locale):
    client = client_for(app, "agentur", None if locale == "de" else locale)
    from app.models.planning import Job

    project = fresh_row(app, Job, world["jobs"]["HH"])["project_id"]
    html = page(client, f"/planning/conflicts/?weeks=26&project={project}")
    assert t("Conflicts", locale) in text(html)

    def section(kind: str) -> str:
        return html.split(f'id="conflicts-{kind}"', 1)[1].split("</table>", 1)[0]

    overlap = section("overlap")
    assert (
        f'data-appointment="{world["A6"]}" data-other="{world["A7"]}" data-promoter="{world["P5"]}"'
        in overlap
    )
    reason = t(
        "Overlaps with %(state)s booking at %(store)s, %(start)s–%(end)s",
        locale,
        state=t("a requested", locale),
        store=f"Markt BY {world['tag']}",
        start="11:00",
        end="12:00",
    )
    assert reason in text(overlap)
    unavailable = section("unavailable")
    day = world["W"] + dt.timedelta(days=8)
    assert f'data-appointment="{world["A8"]}" data-promoter="{world["P5"]}"' in unavailable
    assert t("Unavailable on this day (%(period)s)", locale, period=period(day, day)) in text(unavailable)
    weeks = section("week_full")
    assert f'data-job="{world["jobs"]["HH"]}" data-week="{world["W"].isoformat()}"' in weeks
    assert t("%(days)d days planned this week, %(planned)d agreed", locale) % {
        "days": 3,
        "planned": 2,
    } in text(weeks)
    holiday = section("holiday")
    assert f'data-appointment="{world["A5"]}"' in holiday
    assert t("Public holiday in %(state)s: %(name)s", locale, state="HH", name="").split(":")[0] in text(
        holiday
    )

    # The project filter: only this project's rows (and nothing of the demo).
    own = {str(v) for k, v in world.items() if k[:1] in "AB" and k[1:].isdigit()}
    listed = set()
    for kind in ("overlap", "unavailable", "holiday"):
        listed |= set(part.split('"', 1)[0] for part in section(kind).split('data-appointment="')[1:])
    assert listed and listed <= own
