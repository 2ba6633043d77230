"""Appointments from a weekly pattern: ``plan_dates``, ``generate_appointments`` and
the agency page /planning/generate/ (preview, then create).

The service and page tests run on a project of the module's own (2027, stores in
Bavaria and Hamburg), so the demo stays as it is; the demo's stores only lend their
patterns (2–6 days a week for 26 weeks) to the pure tests.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import holidays
import pytest
from flask_babel import force_locale

from tests.helpers import Rows, client_for, fresh_row, ids_where
from tests.planning_helpers import (
    INTRUDERS,
    LOCALES,
    adopt_appointments,
    make_campaign,
    page,
    t,
    text,
    user_id,
)

START = dt.date(2027, 1, 4)  # a Monday
END = dt.date(2027, 7, 4)  # 26 weeks later, a Sunday
EPIPHANY = dt.date(2027, 1, 6)  # Wednesday; a holiday in BW, BY, ST only
CORPUS_CHRISTI = dt.date(2027, 5, 27)  # Thursday; BW, BY, HE, NW, RP, SL
GOOD_FRIDAY = dt.date(2027, 3, 26)  # everywhere
TEN, SIX = dt.time(10), dt.time(18)


@pytest.fixture(scope="module")
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="module")
def campaign(app, rows):
    ids = make_campaign(rows, ("BY", "HH", "NW"), START, END, planned_days=3)
    yield ids
    for job in ids["jobs"].values():
        adopt_appointments(app, rows, job)


def appointment_rows(app, job_id: int) -> list[dict]:
    from app.models.planning import Appointment

    return [
        fresh_row(app, Appointment, pk)
        for pk in ids_where(app, Appointment, Appointment.job_id == job_id, order_by=Appointment.date)
    ]


def generate(app, job_id: int, start, end, weekdays, start_time=TEN, end_time=SIX, skip=True, locale="de"):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.planning import Job
    from app.planning.generator import generate_appointments

    with app.test_request_context(), force_locale(locale):
        job = db.session.get(Job, job_id)
        user = db.session.get(User, user_id(app, "agentur"))
        plan = generate_appointments(db.session, job, start, end, weekdays, start_time, end_time, skip, user)
        return {
            "created": [a.date for a in plan.created],
            "existing": list(plan.existing),
            "skipped_holidays": list(plan.skipped_holidays),
            "skipped": plan.skipped_count,
            "warnings": [(day, c.kind, c.message) for day, c in plan.warnings],
        }


# ---------------------------------------------------------------- plan_dates (pure)


def test_plan_dates_follows_the_weekdays():
    from app.planning.generator import plan_dates

    dates, skipped = plan_dates(START, END, [0, 2, 4])
    assert len(dates) == 26 * 3 and not skipped
    assert dates == sorted(dates) and dates[0] == START
    assert {d.weekday() for d in dates} == {0, 2, 4}
    assert all(START <= d <= END for d in dates)
    assert plan_dates(START, START, [1]) == ([], [])
    assert plan_dates(END, START, [0, 1, 2, 3, 4, 5, 6]) == ([], [])


@pytest.mark.parametrize("index", range(30))
def test_plan_dates_on_the_demo_pattern(index):
    """Each demo store's 2–6 days a week for 26 weeks, without its state's public holidays."""
    from app.demo.data import STORES
    from app.planning.generator import plan_dates

    store = STORES[index]
    weekdays = list(range(store.days))  # Monday … the store's last promotion day
    dates, skipped = plan_dates(START, END, weekdays, store.state, skip_holidays=True)
    everything, none_skipped = plan_dates(START, END, weekdays)
    assert not none_skipped and len(everything) == 26 * store.days
    calendar = holidays.country_holidays("DE", subdiv=store.state, years=2027, language="de")
    assert sorted(dates + [day for day, _name in skipped]) == everything
    assert not [day for day in dates if day in calendar]
    assert skipped == [(day, calendar[day]) for day in everything if day in calendar]
    assert Counter(d.isocalendar()[1] for d in dates).most_common(1)[0][1] == store.days


def test_holidays_of_the_right_federal_state():
    from app.planning.generator import plan_dates

    weekdays = [2, 3, 4]  # Wednesday, Thursday, Friday
    bavaria, by_skipped = plan_dates(START, END, weekdays, "BY", skip_holidays=True)
    hamburg, hh_skipped = plan_dates(START, END, weekdays, "HH", skip_holidays=True)
    assert (EPIPHANY, "Heilige Drei Könige") in by_skipped
    assert (CORPUS_CHRISTI, "Fronleichnam") in by_skipped
    assert EPIPHANY not in bavaria and CORPUS_CHRISTI not in bavaria
    assert EPIPHANY in hamburg and CORPUS_CHRISTI in hamburg
    assert (GOOD_FRIDAY, "Karfreitag") in by_skipped and (GOOD_FRIDAY, "Karfreitag") in hh_skipped
    assert not {day for day, _ in hh_skipped} & {EPIPHANY, CORPUS_CHRISTI}
    # Names in English on request; nothing skipped without the option or without a state.
    _dates, english = plan_dates(START, END, weekdays, "BY", skip_holidays=True, language="en")
    assert (EPIPHANY, "Epiphany") in english and (CORPUS_CHRISTI, "Corpus Christi") in english
    assert plan_dates(START, END, weekdays, "BY", skip_holidays=False)[1] == []
    assert plan_dates(START, END, weekdays, None, skip_holidays=True)[1] == []


# ---------------------------------------------------------------- generate_appointments


def test_generate_a_half_year_in_bavaria(app, campaign):
    from app.planning.generator import plan_dates

    job = campaign["jobs"]["BY"]
    weekdays = [0, 2, 3, 4]  # four days, three agreed: most weeks are over
    expected, holidays_left_out = plan_dates(START, END, weekdays, "BY", skip_holidays=True)
    result = generate(app, job, START, END, weekdays)
    assert result["created"] == expected
    assert result["skipped_holidays"] == holidays_left_out
    assert result["existing"] == []

    stored = appointment_rows(app, job)
    assert [r["date"] for r in stored] == expected
    agentur = user_id(app, "agentur")
    for r in stored:
        assert (r["status"], r["origin"], r["start_time"], r["end_time"]) == ("planned", "agency", TEN, SIX)
        assert r["created_by_id"] == agentur and r["updated_by_id"] == agentur
    assert EPIPHANY not in [r["date"] for r in stored]

    # One warning per week with four days; the weeks with a holiday have three and none.
    per_week = Counter(day - dt.timedelta(days=day.weekday()) for day in expected)
    full = sorted(monday for monday, days in per_week.items() if days > 3)
    assert [(day, kind) for day, kind, _m in result["warnings"]] == [(m, "week_full") for m in full]
    assert result["warnings"][0][2] == t("%(days)d days planned this week, %(planned)d agreed", "de") % {
        "days": 4,
        "planned": 3,
    }
    assert dt.date(2027, 1, 4) not in full  # Epiphany's week: three days

    # The same run again creates nothing: every day is there already.
    again = generate(app, job, START, END, weekdays)
    assert again["created"] == [] and again["existing"] == expected
    assert again["skipped"] == len(expected) + len(holidays_left_out)
    assert len(appointment_rows(app, job)) == len(expected)


def test_hamburg_keeps_the_bavarian_holidays(app, campaign):
    job = campaign["jobs"]["HH"]
    result = generate(app, job, dt.date(2027, 1, 4), dt.date(2027, 1, 10), [2])
    assert result["created"] == [EPIPHANY] and result["skipped_holidays"] == []
    result = generate(app, job, dt.date(2027, 5, 24), dt.date(2027, 5, 30), [3])
    assert result["created"] == [CORPUS_CHRISTI]
    # Without skipping, a holiday of Hamburg is created with a warning.
    result = generate(app, job, dt.date(2027, 3, 22), dt.date(2027, 3, 28), [4], skip=False)
    assert result["created"] == [GOOD_FRIDAY]
    assert [(d, k) for d, k, _m in result["warnings"]] == [(GOOD_FRIDAY, "holiday")]
    assert "Karfreitag" in result["warnings"][0][2]


def test_only_overlapping_active_appointments_are_skipped(app, campaign, rows):
    from app.models.planning import Appointment

    job = campaign["jobs"]["NW"]
    monday = dt.date(2027, 2, 1)
    rows.add(Appointment, job_id=job, date=monday, start_time=dt.time(8), end_time=TEN)  # before
    rows.add(
        Appointment,
        job_id=job,
        date=monday + dt.timedelta(days=2),
        start_time=dt.time(9),
        end_time=dt.time(11),
    )
    rows.add(
        Appointment,
        job_id=job,
        date=monday + dt.timedelta(days=4),
        start_time=TEN,
        end_time=SIX,
        status="cancelled",
    )
    result = generate(app, job, monday, monday + dt.timedelta(days=6), [0, 2, 4])
    assert result["created"] == [monday, monday + dt.timedelta(days=4)]
    assert result["existing"] == [monday + dt.timedelta(days=2)]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("case", "msgid"),
    [
        ("end-before-start", "The last day must not lie before the first day."),
        ("outside-project", "The days must lie within the project's period (%(start)s – %(end)s)."),
        ("no-weekday", "Please choose at least one weekday."),
        ("end-time", "The end must be after the start."),
    ],
)
def test_generator_refuses_bad_input(app, campaign, locale, case, msgid):
    from app.planning.generator import GeneratorError

    job = campaign["jobs"]["NW"]
    args = {
        "end-before-start": (dt.date(2027, 3, 10), dt.date(2027, 3, 1), [0], TEN, SIX),
        "outside-project": (dt.date(2026, 12, 28), dt.date(2027, 1, 10), [0], TEN, SIX),
        "no-weekday": (dt.date(2027, 3, 1), dt.date(2027, 3, 7), [], TEN, SIX),
        "end-time": (dt.date(2027, 3, 1), dt.date(2027, 3, 7), [0], SIX, TEN),
    }[case]
    before = appointment_rows(app, job)
    with pytest.raises(GeneratorError) as raised:
        generate(app, job, *args[:3], start_time=args[3], end_time=args[4], locale=locale)
    expected = t(msgid, locale, start="04.01.2027", end="04.07.2027") if "%(" in msgid else t(msgid, locale)
    assert str(raised.value) == expected
    assert appointment_rows(app, job) == before


# ---------------------------------------------------------------- the page


def form_data(job_id: int, start, end, weekdays, step="preview", skip=True, times=("10:00", "18:00")) -> dict:
    data = {
        "job": str(job_id),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "weekdays": [str(d) for d in weekdays],
        "start_time": times[0],
        "end_time": times[1],
        "step": step,
    }
    if skip:
        data["skip_holidays"] = "y"
    return data


@pytest.mark.parametrize("locale", LOCALES)
def test_page_previews_without_writing(app, campaign, locale):
    job = campaign["jobs"]["BY"]
    client = client_for(app, "admin", None if locale == "de" else locale)
    html = page(client, f"/planning/generate/?job={job}")
    assert f'<option selected value="{job}">' in html or f'value="{job}" selected' in html
    assert t("Generate appointments", locale) in text(html)

    before = appointment_rows(app, job)
    response = client.post("/planning/generate/", data=form_data(job, dt.date(2026, 12, 28), START, [0]))
    # A day before the project's start is refused on the page, in the user's language.
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert t(
        "The days must lie within the project's period (%(start)s – %(end)s).",
        locale,
        start="04.01.2027",
        end="04.07.2027",
    ) in text(html)

    # NW is where the page creates; BY only previews (its half year is generated above or not).
    response = client.post("/planning/generate/", data=form_data(job, START, dt.date(2027, 1, 31), [0, 2]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    holiday = "Heilige Drei Könige" if locale == "de" else "Epiphany"
    assert holiday in text(html)
    assert 'data-date="2027-01-06"' in html.split('id="skipped-holidays"', 1)[1].split("</ul>", 1)[0]
    preview = html.split('id="preview-dates"', 1)[1]
    assert 'data-date="2027-01-06"' not in preview
    assert appointment_rows(app, job) == before, "the preview wrote something"


def test_page_creates_after_the_preview(app, campaign):
    job = campaign["jobs"]["NW"]
    client = client_for(app, "agentur")
    first, last = dt.date(2027, 6, 7), dt.date(2027, 6, 20)
    data = form_data(job, first, last, [1, 3], step="preview")
    html = page(client, "/planning/generate/", method="POST", data=data)
    assert 'id="create-button"' in html
    before = {r["date"] for r in appointment_rows(app, job)}

    response = client.post("/planning/generate/", data={**data, "step": "create"})
    assert response.status_code == 302
    assert "/planning/board/month" in response.headers["Location"]
    created = {r["date"] for r in appointment_rows(app, job)} - before
    assert created == {dt.date(2027, 6, 8), dt.date(2027, 6, 10), dt.date(2027, 6, 15), dt.date(2027, 6, 17)}
    followed = page(client, response.headers["Location"])
    assert t("Appointments created: %(created)d; days skipped: %(skipped)d.", "de") % {
        "created": 4,
        "skipped": 0,
    } in text(followed)
    # Again: nothing new, the days are reported as there already.
    html = page(client, "/planning/generate/", method="POST", data=data)
    assert 'id="create-button"' not in html and 'id="skipped-existing"' in html


@pytest.mark.parametrize("locale", LOCALES)
def test_page_shows_field_errors(app, campaign, locale):
    job = campaign["jobs"]["NW"]
    client = client_for(app, "agentur", None if locale == "de" else locale)
    cases = [
        (
            form_data(job, dt.date(2027, 3, 10), dt.date(2027, 3, 1), [0]),
            "The last day must not lie before the first day.",
        ),
        (form_data(job, dt.date(2027, 3, 1), dt.date(2027, 3, 7), []), "Please choose at least one weekday."),
        (
            form_data(job, dt.date(2027, 3, 1), dt.date(2027, 3, 7), [0], times=("18:00", "10:00")),
            "The end must be after the start.",
        ),
    ]
    before = appointment_rows(app, job)
    for data, msgid in cases:
        for step in ("preview", "create"):
            html = page(client, "/planning/generate/", method="POST", data={**data, "step": step})
            assert t(msgid, locale) in text(html), (msgid, step)
    html = page(client, "/planning/generate/", method="POST", data={**cases[0][0], "start": "kein Datum"})
    assert "field-error" in html
    assert appointment_rows(app, job) == before


def test_the_job_action_leads_to_the_generator(app, campaign):
    job = campaign["jobs"]["HH"]
    client = client_for(app, "agentur")
    response = client.post(f"/jobview/action/generate/{job}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/planning/generate/?job={job}")
    assert "/jobview/action/generate/" in page(client, f"/jobview/show/{job}")


@pytest.mark.parametrize("user", INTRUDERS)
def test_customers_and_promoters_cannot_generate(app, campaign, user):
    job = campaign["jobs"]["NW"]
    client = client_for(app, user)
    before = appointment_rows(app, job)
    assert client.get(f"/planning/generate/?job={job}").status_code == 403
    data = form_data(job, dt.date(2027, 4, 5), dt.date(2027, 4, 11), [0], step="create")
    assert client.post("/planning/generate/", data=data).status_code == 403
    assert appointment_rows(app, job) == before


def test_warnings_reach_the_page(app, campaign):
    job = campaign["jobs"]["NW"]
    client = client_for(app, "admin", "en")
    html = page(
        client,
        "/planning/generate/",
        method="POST",
        data=form_data(job, dt.date(2027, 4, 12), dt.date(2027, 4, 18), [0, 1, 2, 3], skip=False),
    )
    assert 'data-kind="week_full"' in html
    assert "4 days planned this week, 3 agreed" in text(html)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_job_is_searched_not_listed_and_a_closed_one_is_refused(app, rows, campaign, locale):
    """The job field asks the server while the planner types (an agency has thousands of
    jobs): the page holds no option but the chosen job; a closed job is refused by name."""
    from app.models.planning import Job

    client = client_for(app, "agentur", None if locale == "de" else locale)
    html = page(client, "/planning/generate/")
    field = html.split('name="job"', 1)[1].split("</select>", 1)[0]
    assert field.count("<option") <= 1, field
    assert "data-ajax--url" in html.split('name="job"', 1)[0].rsplit("<select", 1)[1] + field

    from app.models.crm import Location

    stored = fresh_row(app, Location, campaign["locations"]["NW"])
    store = rows.add(
        Location,
        **{k: stored[k] for k in ("street", "postcode", "city", "federal_state", "territory_id")},
        name="Geschlossener Markt",
    )
    project = fresh_row(app, Job, campaign["jobs"]["NW"])["project_id"]
    closed = rows.add(Job, project_id=project, location_id=store, title="Geschlossen", status="closed")
    before = appointment_rows(app, closed)
    response = client.post(
        "/planning/generate/", data=form_data(closed, START, dt.date(2027, 1, 31), [0], step="create")
    )
    assert response.status_code == 200
    assert t("This job is closed: open it again to plan more appointments.", locale) in text(
        response.get_data(as_text=True)
    )
    assert appointment_rows(app, closed) == before


def test_the_days_are_typed_and_shown_in_the_users_format(app, campaign):
    """German planners read and type dd.mm.yyyy (with the Monday-first picker), not the
    browser's own date input."""
    job = campaign["jobs"]["BY"]
    client = client_for(app, "agentur")
    html = page(client, f"/planning/generate/?job={job}")
    field = (
        html.split('name="end"', 1)[0].rsplit("<input", 1)[1]
        + html.split('name="end"', 1)[1].split(">", 1)[0]
    )
    assert 'value="04.07.2027"' in field and 'data-date-week-start="1"' in field, field
    data = {**form_data(job, START, dt.date(2027, 1, 31), [0]), "start": "04.01.2027", "end": "31.01.2027"}
    html = page(client, "/planning/generate/", method="POST", data=data)
    assert 'id="preview-dates"' in html
