"""The Supertoy demo (``flask --app app seed-demo``), checked as a demo user would see it.

The session's database is seeded once by tests/conftest.py with DEMO_PASSWORD. The
reset test rebuilds it in place (ids change, the content does not).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import holidays
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_appbuilder import Model
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash

from app.common.choices import FEDERAL_STATES
from app.common.timezone import local_today
from app.models.crm import Contact, Location, Task
from app.models.planning import Application, Appointment, Booking, Job, Project
from app.models.promoter import Promoter
from app.models.reporting import Questionnaire, Report, ReportAnswer
from app.reporting.definitions import current_version, day_questionnaire_id, week_questionnaire_id
from app.rules.calendar import week_of
from tests.conftest import DEMO_PASSWORD, login

NORTH = "ADM Nord / Supertoy"
SOUTH = "ADM Süd / Supertoy"
GERMANY = "Supertoy Deutschland"
DEMO_LOGINS = [
    "admin",
    "agentur",
    "adm.nord",
    "adm.sued",
    "pos.marketing",
    "vertrieb",
    *[f"promoter{n:02d}" for n in range(1, 11)],
]
COUNTED_TABLES = (
    "company",
    "contact",
    "location",
    "territory",
    "note",
    "task",
    "project",
    "job",
    "application",
    "appointment",
    "booking",
    "promoter",
    "questionnaire",
    "question",
    "report",
    "report_answer",
    "project_contact",
    "project_manager",
    "contact_territory",
    "ab_user",
    "ab_user_role",
)
ACTIVE_BOOKINGS = ("requested", "confirmed")
SHOWCASE_STORE = "Media Markt Hamburg-Altona"  # promoter01's store


def _project(session: Session) -> Project:
    return session.scalars(select(Project).where(Project.name == "Supertoy Sales Promotion")).one()


def _stores(session: Session) -> list[Location]:
    return [job.location for job in _project(session).jobs]


def _user(app: Flask, username: str):
    return app.appbuilder.sm.find_user(username=username)


def _counts(session: Session) -> dict[str, int]:
    counts = {
        name: session.scalar(select(func.count()).select_from(Model.metadata.tables[name]))
        for name in COUNTED_TABLES
    }
    counts["proposed"] = session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.status == "proposed")
    )
    return counts


def _plan(session: Session) -> list[tuple]:
    """What the planner sees: store, day, time, status and the booked promoters."""
    rows = session.execute(
        select(
            Location.name,
            Appointment.date,
            Appointment.start_time,
            Appointment.status,
            Promoter.email,
            Booking.status,
        )
        .join(Job, Appointment.job_id == Job.id)
        .join(Location, Job.location_id == Location.id)
        .outerjoin(Booking, Booking.appointment_id == Appointment.id)
        .outerjoin(Promoter, Booking.promoter_id == Promoter.id)
    ).all()
    return sorted(tuple("" if v is None else v for v in row) for row in rows)


def test_thirty_stores_twelve_north_eighteen_south(session):
    project = _project(session)
    stores = _stores(session)
    assert project.customer.name == "Supertoy"
    assert project.customer.kind == "customer"
    assert len(stores) == 30
    assert len({store.id for store in stores}) == 30
    assert Counter(store.territory.name for store in stores) == {NORTH: 12, SOUTH: 18}
    assert {store.territory.parent.name for store in stores} == {GERMANY}
    assert {(s.retail_chain.name, s.retail_chain.kind) for s in stores} == {("Media Markt", "retail_chain")}
    assert all(store.name.startswith("Media Markt ") for store in stores)


@pytest.mark.parametrize(
    ("city", "state", "territory"),
    [
        ("Hamburg", "HH", NORTH),
        ("Bremen", "HB", NORTH),
        ("Hannover", "NI", NORTH),
        ("Kiel", "SH", NORTH),
        ("Berlin", "BE", NORTH),
        ("Rostock", "MV", NORTH),
        ("Magdeburg", "ST", NORTH),
        ("Bielefeld", "NW", NORTH),
        ("München", "BY", SOUTH),
        ("Stuttgart", "BW", SOUTH),
        ("Frankfurt am Main", "HE", SOUTH),
        ("Mainz", "RP", SOUTH),
        ("Saarbrücken", "SL", SOUTH),
    ],
)
def test_store_lies_in_its_real_federal_state(session, city, state, territory):
    (store,) = [store for store in _stores(session) if store.city == city]
    assert store.federal_state == state
    assert store.territory.name == territory


def test_store_addresses_are_complete(session):
    for store in _stores(session):
        assert store.federal_state in FEDERAL_STATES
        assert len(store.postcode) == 5 and store.postcode.isdigit(), store
        assert store.street and store.street[-1].isdigit(), store


def test_project_starts_eight_weeks_ago_and_runs_26_weeks(session):
    project = _project(session)
    today = local_today()
    assert project.start_date == week_of(today - dt.timedelta(weeks=8))[0]
    assert project.start_date.weekday() == 0
    assert (project.end_date - project.start_date).days + 1 == 26 * 7
    assert project.start_date < today < project.end_date


def test_every_week_of_every_store_has_two_to_six_days(session):
    project = _project(session)
    days: dict[int, set[dt.date]] = defaultdict(set)
    rows = session.execute(
        select(Appointment.job_id, Appointment.date)
        .join(Job, Appointment.job_id == Job.id)
        .where(Job.project_id == project.id, Appointment.status != "proposed")
    )
    for job_id, day in rows:
        days[job_id].add(day)
    assert len(project.jobs) == 30
    today = local_today()
    for job in project.jobs:
        assert job.status == "open"
        assert 2 <= job.planned_days_per_week <= 6
        assert job.title == f"Promotion {job.location.name}"
        closed = holidays.country_holidays("DE", subdiv=job.location.federal_state, years=range(2000, 2100))
        if job.location.name == SHOWCASE_STORE and (today.weekday() == 6 or today in closed):
            # promoter01 works today even on a Sunday or a holiday (the reporting walk)
            days[job.id].discard(today)
        assert all(project.start_date <= day <= project.end_date for day in days[job.id])
        assert not [day for day in days[job.id] if day.weekday() == 6], f"Sunday at {job.location.name}"
        assert not [day for day in days[job.id] if day in closed], f"holiday at {job.location.name}"
        monday = project.start_date
        while monday + dt.timedelta(days=6) <= project.end_date:
            week = [day for day in days[job.id] if monday <= day <= monday + dt.timedelta(days=6)]
            assert 2 <= len(week) <= min(6, job.planned_days_per_week), (job.location.name, monday, week)
            monday += dt.timedelta(weeks=1)


def test_past_days_are_done_by_their_approved_report_and_coming_days_partly_staffed(session):
    today = local_today()
    appointments = session.scalars(
        select(Appointment)
        .join(Job)
        .where(Job.project_id == _project(session).id)
        .options(selectinload(Appointment.bookings))
    ).all()
    reports = {r.appointment_id: r for r in session.scalars(select(Report).where(Report.kind == "day"))}
    past = [a for a in appointments if a.date < today]
    coming = [a for a in appointments if a.date > today and a.status == "planned"]
    assert past and coming
    for appointment in past:
        assert [b.status for b in appointment.bookings] == ["confirmed"]
        report = reports.get(appointment.id)
        if report is not None and report.status == "approved":
            assert appointment.status == "done"
            assert (appointment.actual_start_time, appointment.actual_end_time) == (
                report.actual_start,
                report.actual_end,
            )
            assert report.promoter_id == appointment.bookings[0].promoter_id
        else:
            # returned, awaiting review or missing: not done until the agency approves
            assert appointment.status == "planned"
            assert appointment.actual_start_time is None
    assert not [a for a in appointments if a.date >= today and a.id in reports]
    staffing = Counter(tuple(sorted(b.status for b in a.bookings)) for a in coming)
    assert set(staffing) == {("confirmed",), ("requested",), ()}
    assert staffing[("confirmed",)] > staffing[("requested",)] > 0


def test_no_promoter_has_two_bookings_on_one_day(session):
    doubles = session.execute(
        select(Booking.promoter_id, Appointment.date, func.count())
        .join(Appointment, Booking.appointment_id == Appointment.id)
        .where(Booking.status.in_(ACTIVE_BOOKINGS))
        .group_by(Booking.promoter_id, Appointment.date)
        .having(func.count() > 1)
    ).all()
    assert doubles == []


def test_promoters_and_their_logins(app_ctx, session):
    promoters = session.scalars(select(Promoter).order_by(Promoter.id)).all()
    assert len(promoters) == 40
    assert all(p.email.endswith("@example.org") and p.phone and p.city for p in promoters)
    logins = {p.user.username: p for p in promoters if p.user is not None}
    assert sorted(logins) == [f"promoter{n:02d}" for n in range(1, 11)]
    for username in logins:
        assert [role.name for role in _user(app_ctx, username).roles] == ["Promoter"]
    statuses = Counter(session.scalars(select(Application.status)))
    assert statuses["accepted"] >= 30 and statuses["applied"] > 0 and statuses["rejected"] > 0


def test_promoter01_has_requested_and_confirmed_coming_days(session):
    today = local_today()
    statuses = Counter(
        session.scalars(
            select(Booking.status)
            .join(Booking.appointment)
            .join(Booking.promoter)
            .where(Promoter.user.has(username="promoter01"))
            .where(Appointment.date > today, Appointment.date <= today + dt.timedelta(weeks=3))
        )
    )
    assert statuses["requested"] > 0 and statuses["confirmed"] > 0


def test_four_customer_contacts_with_logins(app_ctx, session):
    expected = {
        "adm.nord": ("Außendienst Nord", [NORTH], "de"),
        "adm.sued": ("Außendienst Süd", [SOUTH], "de"),
        "pos.marketing": ("Leitung POS-Marketing", [GERMANY], "de"),
        "vertrieb": ("Leitung Vertrieb", [GERMANY], "en"),
    }
    contacts = _project(session).contacts
    seen = {
        c.user.username: (c.position, [t.name for t in c.territories], c.language) for c in contacts if c.user
    }
    assert seen == expected
    assert len(contacts) == 4
    for contact in contacts:
        assert contact.company.name == "Supertoy"
        assert contact.email.endswith("@supertoy.example")
        assert [role.name for role in contact.user.roles] == ["Customer"]


def test_agency_logins(app_ctx, session):
    assert [role.name for role in _user(app_ctx, "admin").roles] == ["Admin"]
    agentur = _user(app_ctx, "agentur")
    assert [role.name for role in agentur.roles] == ["Agency"]
    assert [user.username for user in _project(session).managers] == ["agentur"]


def test_three_pending_customer_proposals_in_the_north(session):
    today = local_today()
    adm_nord = session.scalars(select(Contact).where(Contact.user.has(username="adm.nord"))).one()
    proposals = session.scalars(select(Appointment).where(Appointment.status == "proposed")).all()
    assert len(proposals) == 3
    assert len({p.job_id for p in proposals}) == 3
    for proposal in proposals:
        assert proposal.origin == "customer"
        assert proposal.proposed_by_id == adm_nord.id
        assert proposal.job.location.territory.name == NORTH
        assert today < proposal.date <= today + dt.timedelta(days=14)
        assert proposal.bookings == []


def test_planned_call_tomorrow(session):
    tomorrow = local_today() + dt.timedelta(days=1)
    calls = session.scalars(select(Task).where(Task.due_date == tomorrow, Task.kind == "call")).all()
    assert [(t.assignee.username, t.done, t.contact.user.username) for t in calls] == [
        ("agentur", False, "adm.nord")
    ]
    assert all(contact.notes for contact in _project(session).contacts)


@pytest.mark.parametrize("username", ["admin", "agentur", "adm.nord", "promoter01"])
def test_demo_login_works(client: FlaskClient, username: str):
    login(client, username, DEMO_PASSWORD)


def test_seeding_again_changes_nothing(session):
    from app.demo.seed import seed_demo

    before, plan = _counts(session), _plan(session)
    counts = seed_demo(password=DEMO_PASSWORD)
    assert _counts(session) == before
    assert _plan(session) == plan
    assert counts["locations"] == 30 and counts["demo_users"] == 16


def test_seeding_again_resets_the_demo_passwords(app_ctx, session):
    from app.demo.seed import seed_demo

    try:
        seed_demo(password="another-demo-pw")
        for username in DEMO_LOGINS:
            assert check_password_hash(_user(app_ctx, username).password, "another-demo-pw")
    finally:
        seed_demo(password=DEMO_PASSWORD)
    for username in DEMO_LOGINS:
        assert check_password_hash(_user(app_ctx, username).password, DEMO_PASSWORD)


def test_reset_rebuilds_the_same_demo(app_ctx, session, client):
    runner = app_ctx.test_cli_runner()
    args = ["seed-demo", "--reset", "--password", DEMO_PASSWORD]

    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "30 stores" in result.output
    counts, plan = _counts(session), _plan(session)
    assert {k: counts[k] for k in ("company", "territory", "location", "contact", "promoter", "job")} == {
        "company": 3,
        "territory": 3,
        "location": 30,
        "contact": 4,
        "promoter": 40,
        "job": 30,
    }
    assert (counts["project"], counts["project_contact"], counts["proposed"]) == (1, 4, 3)

    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert _counts(session) == counts
    assert _plan(session) == plan

    result = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    assert _counts(session) == counts
    login(client, "adm.nord", DEMO_PASSWORD)


# ---------------------------------------------------------------- campaign reporting


def _territory_of_report():
    from app.models.crm import Territory

    return (
        select(Report.id, Territory.name.label("territory"))
        .join(Job, Job.id == Report.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Territory, Territory.id == Location.territory_id)
        .subquery()
    )


def test_the_project_has_published_day_and_weekly_questionnaires(session):
    project = _project(session)
    job = project.jobs[0]
    appointment = session.scalars(select(Appointment).where(Appointment.job_id == job.id)).first()
    day = session.get(Questionnaire, day_questionnaire_id(session, appointment))
    week = session.get(Questionnaire, week_questionnaire_id(session, job))
    assert (day.kind, week.kind) == ("day", "week")
    version = current_version(session, day.id)
    assert version is not None and version.published_at is not None
    questions = {q.key: q for q in version.questions}
    assert {key: q.kind for key, q in questions.items()} == {
        "contacts": "integer",
        "footfall": "integer",
        "products": "group",
        "product": "single_choice",
        "opening_stock": "integer",
        "units_sold": "integer",
        "closing_stock": "integer",
        "competitor_activity": "yes_no",
        "competitor_notes": "text",
        "mood": "single_choice",
        "display_photo": "photo",
        "remarks": "long_text",
    }
    assert {q.key for q in questions["products"].children} == {
        "product",
        "opening_stock",
        "units_sold",
        "closing_stock",
    }
    assert len(questions["product"].choices.splitlines()) == 3
    assert (questions["display_photo"].min_count, questions["display_photo"].max_count) == (1, 3)
    assert all(q.label_de and q.label_en and q.label_de != q.label_en for q in version.questions)
    assert all(page.title_de and page.title_en for page in version.pages)
    week_version = current_version(session, week.id)
    assert {q.key: q.kind for q in week_version.questions} == {
        "summary": "long_text",
        "best_product": "single_choice",
        "restock_needed": "yes_no",
    }


def test_figures_differ_between_north_and_south(session):
    where = _territory_of_report()
    averages = dict(
        session.execute(
            select(where.c.territory, func.avg(ReportAnswer.value_number))
            .join(ReportAnswer, ReportAnswer.report_id == where.c.id)
            .join(Report, Report.id == where.c.id)
            .where(ReportAnswer.question_key == "contacts", Report.status == "approved")
            .group_by(where.c.territory)
        ).all()
    )
    sold = dict(
        session.execute(
            select(where.c.territory, func.avg(ReportAnswer.value_number))
            .join(ReportAnswer, ReportAnswer.report_id == where.c.id)
            .where(ReportAnswer.question_key == "units_sold", ReportAnswer.group_key == "products")
            .group_by(where.c.territory)
        ).all()
    )
    assert set(averages) == {NORTH, SOUTH}
    assert averages[SOUTH] > averages[NORTH] * 1.2
    assert sold[SOUTH] > sold[NORTH] * 1.2


def test_approved_reports_in_every_store_and_a_few_returned_waiting_and_missing(session):
    today = local_today()
    where = _territory_of_report()
    per_status = Counter(
        session.execute(
            select(where.c.territory, Report.status)
            .join(Report, Report.id == where.c.id)
            .where(Report.kind == "day")
        ).all()
    )
    for territory in (NORTH, SOUTH):
        assert per_status[territory, "approved"] > 100
        assert per_status[territory, "returned"] >= 2
    assert sum(n for (_, status), n in per_status.items() if status == "submitted") > 0
    approved_stores = session.scalars(
        select(func.count(func.distinct(Report.job_id))).where(
            Report.status == "approved", Report.kind == "day"
        )
    ).one()
    assert approved_stores == 30
    returned = session.scalars(select(Report).where(Report.status == "returned")).all()
    assert all(r.return_comment and r.reviewed_at for r in returned)
    missing = session.scalars(
        select(Appointment)
        .join(Job)
        .where(Job.project_id == _project(session).id, Appointment.date < today)
        .where(~select(Report.id).where(Report.appointment_id == Appointment.id).exists())
    ).all()
    assert 3 <= len(missing) <= 10
    assert all(a.status == "planned" for a in missing)
    weekly = session.scalars(select(Report).where(Report.kind == "week")).all()
    assert weekly and {r.status for r in weekly} == {"approved"}
    assert all(r.week_start < week_of(today)[0] for r in weekly)


def test_promoter01_has_a_report_due_today(app_ctx, session):
    from app.reporting.definitions import requires_day_report

    today = local_today()
    appointments = session.scalars(
        select(Appointment)
        .join(Booking, Booking.appointment_id == Appointment.id)
        .join(Promoter, Promoter.id == Booking.promoter_id)
        .where(Promoter.user.has(username="promoter01"), Booking.status == "confirmed")
        .where(Appointment.date == today, Appointment.status == "planned")
    ).all()
    assert len(appointments) == 1
    (appointment,) = appointments
    assert appointment.job.project.name == "Supertoy Sales Promotion"
    assert appointment.job.location.name == SHOWCASE_STORE
    assert appointment.start_time <= dt.time(8)
    assert requires_day_report(session, appointment)
    assert session.scalar(select(Report.id).where(Report.appointment_id == appointment.id)) is None
    # and one of their earlier reports came back for correction
    returned = session.scalars(
        select(Report).where(
            Report.promoter_id == appointment.bookings[0].promoter_id, Report.status == "returned"
        )
    ).all()
    assert len(returned) == 1


def test_generated_photos_of_the_display(session):
    """The demo's photos (stored through the report storage's ``put``): one JPEG with a
    thumbnail for each recent day report, in the region's colour; a second run adds none."""
    import io

    from PIL import Image

    from app.demo.photos import RECENT_DAYS, attach_photos
    from app.models.reporting import ReportFile

    today = local_today()
    stored: dict[str, tuple[bytes, str]] = {}

    def put(key: str, data: bytes, content_type: str) -> None:
        assert key not in stored
        stored[key] = (data, content_type)

    project = _project(session)
    try:
        # from scratch (whether seed-demo stored photos already or not; rolled back below)
        session.execute(
            delete(ReportFile).where(
                ReportFile.report_id.in_(select(Report.id).join(Job).where(Job.project_id == project.id))
            )
        )
        added = attach_photos(session, project.id, today, put)
        session.flush()
        files = session.scalars(select(ReportFile).where(ReportFile.storage_key.in_(stored))).all()
        recent = set(
            session.scalars(
                select(Report.id)
                .join(Appointment, Appointment.id == Report.appointment_id)
                .join(Job, Job.id == Report.job_id)
                .where(
                    Job.project_id == project.id, Appointment.date >= today - dt.timedelta(days=RECENT_DAYS)
                )
            )
        )
        assert added == len(files) == len(recent) > 0
        assert {f.report_id for f in files} == recent
        colours = {}
        for f in files:
            photo = Image.open(io.BytesIO(stored[f.storage_key][0]))
            thumbnail = Image.open(io.BytesIO(stored[f.thumbnail_key][0]))
            assert (photo.format, photo.size) == ("JPEG", (f.width, f.height))
            assert thumbnail.format == "JPEG" and max(thumbnail.size) == 320
            assert f.byte_size == len(stored[f.storage_key][0]) and stored[f.storage_key][1] == f.content_type
            territory = session.get(Report, f.report_id).job.location.territory.name
            colours.setdefault(territory, photo.getpixel((5, 5)))
        assert set(colours) == {NORTH, SOUTH} and colours[NORTH] != colours[SOUTH]
        assert attach_photos(session, project.id, today, put) == 0
    finally:
        session.rollback()
