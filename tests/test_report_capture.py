"""The promoter's day and weekly reports (capture): who may start, save and submit them, drafts
and submission through the promoter system's form, the list of reports due, the "Report"
button on the start page.

Only the promoter with a confirmed booking on an appointment that has started may report on
it; every refusal leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.conftest import visible_text
from tests.reporting_helpers import (
    ReportRows,
    add_appointment,
    add_job,
    complete_answers,
    make_questionnaire,
    promoter_id,
)
from tests.test_promoter_system import flashes, promoter_client
from tests.visibility_helpers import db_session, local_today

# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def questionnaires(app) -> Iterator[dict]:
    rows = ReportRows(app)
    yield {
        "day": make_questionnaire(rows),
        "week": make_questionnaire(rows, kind="week"),
        "draft": make_questionnaire(rows, published=False),
    }
    rows.cleanup()


@pytest.fixture()
def rows(app) -> Iterator[ReportRows]:
    tracker = ReportRows(app)
    yield tracker
    tracker.cleanup()


@pytest.fixture()
def world(app, rows, questionnaires) -> dict:
    """A job with the day and weekly questionnaire; promoter01 booked (confirmed) today from
    00:00, promoter02 requested on the same day elsewhere."""
    me = promoter_id(app, "promoter01")
    other = promoter_id(app, "promoter02")
    job = add_job(
        rows,
        day_questionnaire=questionnaires["day"]["questionnaire"],
        week_questionnaire=questionnaires["week"]["questionnaire"],
    )
    today = local_today(app)
    return {
        "me": me,
        "other": other,
        "job": job,
        "today": today,
        "appointment": add_appointment(rows, job, me, today),
    }


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def reports_of(app, job: int) -> list[dict]:
    from app.models.reporting import Report

    with db_session(app) as session:
        return [
            dict(row)
            for row in session.execute(select(Report.__table__).where(Report.job_id == job)).mappings()
        ]


def answers_of(app, report_id: int) -> set[tuple]:
    from app.models.reporting import ReportAnswer

    with db_session(app) as session:
        return {
            (a.question_key, a.group_key, a.item, a.value_text, a.value_number)
            for a in session.scalars(select(ReportAnswer).where(ReportAnswer.report_id == report_id))
        }


def start(app, username: str, appointment: int):
    """Start (or open) the day report through the operation, as ``username``'s promoter."""
    from app.models.planning import Appointment
    from app.models.promoter import Promoter
    from app.reporting import operations

    with app.test_request_context(), db_session(app) as session:
        promoter = session.get(Promoter, promoter_id(app, username))
        return operations.start_day_report(session, promoter, session.get(Appointment, appointment)).id


def field_errors(html: str) -> list[str]:
    """The messages next to the form's fields."""
    return [
        visible_text(e).strip() for e in re.findall(r'class="help-block field-error"[^>]*>(.*?)</span>', html)
    ]


def form_of(html: str) -> dict:
    return {"revision": re.search(r'name="revision" value="(\d+)"', html).group(1)}


# ---------------------------------------------------------------- who may start a report


def test_the_booked_promoter_starts_a_draft_once(app, world):
    report_id = start(app, "promoter01", world["appointment"])
    assert start(app, "promoter01", world["appointment"]) == report_id
    (report,) = reports_of(app, world["job"])
    assert (report["kind"], report["status"], report["promoter_id"], report["appointment_id"]) == (
        "day",
        "draft",
        world["me"],
        world["appointment"],
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other promoter", "Nur der Promoter mit bestätigter Buchung kann über diesen Termin berichten."),
        ("requested", "Nur der Promoter mit bestätigter Buchung kann über diesen Termin berichten."),
        ("declined", "Nur der Promoter mit bestätigter Buchung kann über diesen Termin berichten."),
        ("cancelled", "Dieser Termin wurde abgesagt; dafür kann kein Bericht geschrieben werden."),
        ("not started", "Der Bericht kann geschrieben werden, sobald der Termin begonnen hat."),
        ("no questionnaire", "Für diesen Termin ist kein Bericht vorgesehen."),
        ("unpublished", "Für diesen Termin ist kein Bericht vorgesehen."),
    ],
)
def test_starting_is_refused_and_nothing_changes(app, rows, world, questionnaires, case, message):
    from app.reporting.operations import ReportError

    job, me, today = world["job"], world["me"], world["today"]
    username = "promoter01"
    if case == "other promoter":
        appointment, username = world["appointment"], "promoter02"
    elif case in ("requested", "declined"):
        appointment = add_appointment(rows, job, me, today, booking=case)
    elif case == "cancelled":
        appointment = add_appointment(rows, job, me, today, status="cancelled")
    elif case == "not started":
        appointment = add_appointment(rows, job, me, today + dt.timedelta(days=1))
    elif case == "no questionnaire":
        appointment = add_appointment(rows, add_job(rows), me, today)
    else:
        appointment = add_appointment(
            rows, add_job(rows, day_questionnaire=questionnaires["draft"]["questionnaire"]), me, today
        )
    client = promoter_client(app, username)
    response = client.post(f"/promoter/reports/day/{appointment}", follow_redirects=True)
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert ("danger", message) in flashes(response.get_data(as_text=True))
    with pytest.raises(ReportError) as refused:
        start(app, username, appointment)
    with app.test_request_context():
        assert str(refused.value) == message
    for job_id in rows.jobs:
        assert reports_of(app, job_id) == []


def test_a_weekly_report_needs_a_confirmed_appointment_that_week(app, rows, world):
    from app.models.planning import Job
    from app.models.promoter import Promoter
    from app.reporting import operations

    monday = world["today"] - dt.timedelta(days=world["today"].weekday())
    with app.test_request_context(), db_session(app) as session:
        job = session.get(Job, world["job"])
        me = session.get(Promoter, world["me"])
        report = operations.start_week_report(session, me, job, monday)
        assert (report.kind, report.week_start, report.appointment_id) == ("week", monday, None)
        other = session.get(Promoter, world["other"])
        with pytest.raises(operations.ReportError):
            operations.start_week_report(session, other, job, monday)
        with pytest.raises(operations.ReportError):  # next week has not begun
            operations.start_week_report(session, me, job, monday + dt.timedelta(days=7))
        with pytest.raises(operations.ReportError):  # not a Monday
            operations.start_week_report(session, me, job, monday + dt.timedelta(days=1))
    assert len(reports_of(app, world["job"])) == 1


# ---------------------------------------------------------------- the form


def test_draft_keeps_partial_answers_and_submit_needs_everything(app, world):
    client = promoter_client(app)
    response = client.post(f"/promoter/reports/day/{world['appointment']}")
    assert response.status_code == 302
    url = response.headers["Location"]
    html = client.get(url).get_data(as_text=True)
    assert world["today"].strftime("%d.%m.%Y") in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert 'inputmode="decimal"' in html and 'type="time"' in html and 'type="date"' in html

    # a draft with only some answers is saved
    response = client.post(
        url, data={**form_of(html), "q.sold": "12", "q.remark": "Halb fertig", "action": "save"}
    )
    assert response.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert ("success", "Ihr Entwurf wurde gespeichert.") in flashes(html)
    assert 'value="12"' in html and 'value="Halb fertig"' in html
    (report,) = reports_of(app, world["job"])
    assert report["status"] == "draft"
    assert answers_of(app, report["id"]) == {
        ("sold", None, 0, None, 12.0),
        ("remark", None, 0, "Halb fertig", None),
    }

    # submitting the incomplete report is refused; the input stays on the page
    response = client.post(
        url, data={**form_of(html), "q.sold": "13", "q.remark": "Fast", "action": "submit"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert "Bitte diese Frage beantworten." in field_errors(html)
    assert "Bitte mindestens 1 Foto hinzufügen." in field_errors(html)
    assert 'value="13"' in html and 'value="Fast"' in html
    assert reports_of(app, world["job"])[0]["status"] == "draft"
    assert answers_of(app, report["id"]) == {
        ("sold", None, 0, None, 12.0),
        ("remark", None, 0, "Halb fertig", None),
    }

    # complete, with a photo: submitted
    data = {
        **form_of(html),
        **complete_answers(),
        "action": "submit",
        "q.photos": (io.BytesIO(jpeg()), "stand.jpg"),
    }
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:2000]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("success", "Ihr Bericht ist abgegeben. Vielen Dank!") in flashes(html)
    (report,) = reports_of(app, world["job"])
    assert report["status"] == "submitted" and report["submitted_at"] is not None
    assert (report["actual_start"], report["actual_end"], report["break_minutes"]) == (
        dt.time(9, 5),
        dt.time(17, 30),
        30,
    )
    assert ("sold", None, 0, None, 42.0) in answers_of(app, report["id"])
    assert f"done-report-{report['id']}" in html

    # submitted: read only, and saving is refused
    html = client.get(url).get_data(as_text=True)
    assert 'id="report-form"' not in html and "Gut besucht" in html
    response = client.post(
        url, data={**form_of_any(html), "q.sold": "1", "action": "save"}, follow_redirects=True
    )
    assert ("danger", "Dieser Bericht ist abgegeben und kann nicht mehr geändert werden.") in flashes(
        response.get_data(as_text=True)
    )
    assert ("sold", None, 0, None, 42.0) in answers_of(app, report["id"])


def form_of_any(html: str) -> dict:
    found = re.search(r'name="revision" value="(\d+)"', html)
    return {"revision": found.group(1)} if found else {}


@pytest.mark.parametrize("locale", ["de", "en"])
def test_wrong_values_are_shown_next_to_their_fields_in_the_users_language(app, world, locale):
    client = promoter_client(app, locale=locale)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    data = {
        **form_of(html),
        "q.sold": "zwölf",
        "q.remark": "a\x00b",
        "g.products.rows": "1",
        "g.products.0.count": "x",
        "actual_start": "25:00",
        "action": "save",
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html)
    if locale == "de":
        assert "Bitte eine ganze Zahl eingeben." in errors
        assert "Bitte geben Sie eine Uhrzeit als HH:MM ein." in errors
        assert "Verkaufte Stück" in visible_text(html)
    else:
        assert errors.count("Please enter a whole number.") == 2
        assert "Please enter a time as HH:MM." in errors
        assert "Units sold" in visible_text(html)
    assert 'value="zwölf"' in html
    (report,) = reports_of(app, world["job"])
    assert answers_of(app, report["id"]) == set()


def test_a_stale_form_is_refused(app, world):
    client = promoter_client(app)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    old = form_of(html)
    assert client.post(url, data={**old, "q.sold": "1", "action": "save"}).status_code == 302
    response = client.post(url, data={**old, "q.sold": "2", "action": "save"}, follow_redirects=True)
    assert (
        "danger",
        "Dieser Bericht wurde inzwischen geändert (in einem anderen Fenster?). Bitte erneut prüfen.",
    ) in flashes(response.get_data(as_text=True))
    (report,) = reports_of(app, world["job"])
    assert answers_of(app, report["id"]) == {("sold", None, 0, None, 1.0)}


def test_another_promoter_cannot_see_or_change_the_report(app, world):
    report_id = start(app, "promoter01", world["appointment"])
    other = promoter_client(app, "promoter02")
    assert other.get(f"/promoter/reports/{report_id}").status_code == 404
    assert (
        other.post(f"/promoter/reports/{report_id}", data={"q.sold": "5", "action": "save"}).status_code
        == 404
    )
    assert answers_of(app, report_id) == set()


def test_a_cancelled_booking_ends_the_right_to_save(app, world):
    from app.models.planning import Booking

    client = promoter_client(app)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    with db_session(app) as session:
        booking = session.scalar(select(Booking).where(Booking.appointment_id == world["appointment"]))
        booking.status = "cancelled"
        session.commit()
    response = client.post(
        url, data={**form_of(html), "q.sold": "5", "action": "save"}, follow_redirects=True
    )
    assert (
        "danger",
        "Nur der Promoter mit bestätigter Buchung kann über diesen Termin berichten.",
    ) in flashes(response.get_data(as_text=True))
    (report,) = reports_of(app, world["job"])
    assert answers_of(app, report["id"]) == set()


def test_group_rows_can_be_added_and_photos_removed(app, world):
    from app.models.reporting import ReportFile

    client = promoter_client(app)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    assert 'name="g.products.0.product"' in html and 'name="g.products.1.product"' not in html
    data = {
        **form_of(html),
        "g.products.rows": "1",
        "g.products.0.product": "Saft",
        "add_row": "products",
        "q.photos": (io.BytesIO(jpeg()), "a.jpg"),
    }
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="g.products.1.product"' in html and 'value="Saft"' in html
    with db_session(app) as session:
        (file_id,) = session.scalars(
            select(ReportFile.id).where(ReportFile.report_id == int(url.rsplit("/", 1)[1]))
        )
    assert f'id="remove-file-{file_id}"' in html
    response = client.post(
        url, data={**form_of(html), "g.products.0.product": "Saft", "remove_file": str(file_id)}
    )
    assert response.status_code == 302
    with db_session(app) as session:
        assert (
            session.scalar(select(func.count()).select_from(ReportFile).where(ReportFile.id == file_id)) == 0
        )


def test_ten_thousand_group_rows_get_a_message_not_an_error(app, world):
    client = promoter_client(app)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    data = {**form_of(html), "g.products.rows": "10000", "action": "save"}
    data.update({f"g.products.{row}.count": "1" for row in range(10_000)})
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "Bitte höchstens 50 Zeilen eingeben." in response.get_data(as_text=True)


def test_returned_report_shows_the_comment_and_can_be_submitted_again(app, world):
    from app.models.reporting import Report

    report_id = start(app, "promoter01", world["appointment"])
    with db_session(app) as session:
        report = session.get(Report, report_id)
        report.status, report.return_comment = "returned", "Bitte die Stückzahl prüfen."
        session.commit()
    client = promoter_client(app)
    html = client.get("/promoter/reports").get_data(as_text=True)
    assert "Bitte die Stückzahl prüfen." in html and f"open-report-{report_id}" in html
    html = client.get(f"/promoter/reports/{report_id}").get_data(as_text=True)
    assert 'id="return-comment"' in html and "Bitte die Stückzahl prüfen." in html
    data = {
        **form_of(html),
        **complete_answers(),
        "action": "submit",
        "q.photos": (io.BytesIO(jpeg()), "b.jpg"),
    }
    assert (
        client.post(
            f"/promoter/reports/{report_id}", data=data, content_type="multipart/form-data"
        ).status_code
        == 302
    )
    assert reports_of(app, world["job"])[0]["status"] == "submitted"


def test_reports_due_are_listed_and_counted_and_offered_on_the_start_page(app, rows, world):
    later = add_appointment(rows, world["job"], world["me"], world["today"] + dt.timedelta(days=2))
    client = promoter_client(app)
    html = client.get("/promoter/reports").get_data(as_text=True)
    assert f'id="due-appointment-{world["appointment"]}"' in html
    assert f'id="due-appointment-{later}"' not in html  # not started yet
    assert f'id="due-week-{world["job"]}-' in html
    badge = re.search(r'id="menu-badge-promoter-reports">(\d+)', html)
    assert badge and int(badge.group(1)) >= 2
    start_page = client.get("/promoter/").get_data(as_text=True)
    assert f'id="report-{world["appointment"]}"' in start_page
    assert f'id="report-{later}"' not in start_page
    schedule = client.get("/promoter/schedule").get_data(as_text=True)
    assert f'id="report-{world["appointment"]}"' in schedule


@pytest.mark.parametrize(
    "hostile",
    [
        {"break_minutes": "²"},
        {"revision": "²"},
        {"remove_file": "²"},
        {"g.products.rows": "²", "g.products.².product": "x"},
        {"q.sold": "٣"},
        {"q.visit_date": "٠١.٠١.٢٠٢٦"},
        {"q.weather": "sun\x00"},
        {"action": "submit\x00", "add_row": "\x00"},
        {"q.price": "1" * 5000},
    ],
)
def test_hostile_input_gets_an_answer_not_an_error(app, world, hostile):
    client = promoter_client(app)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={**form_of(html), "action": "save", **hostile})
    assert response.status_code in (200, 302, 400), response.status_code
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_weekly_report_through_the_form(app, world):
    client = promoter_client(app, locale="en")
    monday = world["today"] - dt.timedelta(days=world["today"].weekday())
    html = client.get("/promoter/reports").get_data(as_text=True)
    assert f'id="due-week-{world["job"]}-{monday.isoformat()}"' in html
    response = client.post(f"/promoter/reports/week/{world['job']}/{monday.isoformat()}")
    assert response.status_code == 302
    url = response.headers["Location"]
    html = client.get(url).get_data(as_text=True)
    assert "Weekly report" in html and 'name="actual_start"' not in html
    data = {
        **form_of(html),
        **{k: v for k, v in complete_answers().items() if not k.startswith(("actual", "break"))},
        "action": "submit",
        "q.photos": (io.BytesIO(jpeg()), "week.jpg"),
    }
    assert client.post(url, data=data, content_type="multipart/form-data").status_code == 302
    (report,) = [r for r in reports_of(app, world["job"]) if r["kind"] == "week"]
    assert (report["status"], report["week_start"]) == ("submitted", monday)
    html = client.get("/promoter/reports").get_data(as_text=True)
    assert f'id="due-week-{world["job"]}-' not in html
    # another promoter cannot start the same week
    other = promoter_client(app, "promoter02")
    assert other.post(f"/promoter/reports/week/{world['job']}/{monday.isoformat()}").status_code == 404


def test_a_form_too_large_to_read_gets_a_message(app, world):
    client = promoter_client(app)
    url = client.post(f"/promoter/reports/day/{world['appointment']}").headers["Location"]
    html = client.get(url).get_data(as_text=True)
    data = {**form_of(html), "action": "save", "q.photos": (io.BytesIO(jpeg()), "a.jpg")}
    data.update({f"x{n}": "1" for n in range(6000)})
    response = client.post(url, data=data, content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert (
        "danger",
        "Das Formular war zu groß zum Speichern. Bitte weniger oder kleinere Fotos auf einmal senden.",
    ) in flashes(response.get_data(as_text=True))
    (report,) = reports_of(app, world["job"])
    assert answers_of(app, report["id"]) == set()


def test_submitted_reports_are_listed_latest_first_in_pages(app, rows, world, questionnaires):
    from app.models.reporting import Report

    ids = []
    for n in range(21):
        appointment = add_appointment(
            rows, world["job"], world["me"], world["today"] - dt.timedelta(days=n + 1)
        )
        ids.append(
            rows.add(
                Report,
                kind="day",
                appointment_id=appointment,
                job_id=world["job"],
                questionnaire_version_id=questionnaires["day"]["version"],
                promoter_id=world["me"],
                status="approved" if n % 2 else "submitted",
                submitted_at=dt.datetime(2030, 1, 1) - dt.timedelta(hours=n),
                revision=1,
            )
        )
    client = promoter_client(app)
    first = re.findall(r'id="done-report-(\d+)"', client.get("/promoter/reports").get_data(as_text=True))
    second = re.findall(
        r'id="done-report-(\d+)"', client.get("/promoter/reports?page=2").get_data(as_text=True)
    )
    assert [int(i) for i in first] == ids[:20]
    assert int(second[0]) == ids[20]
    assert client.get("/promoter/reports?page=²").status_code == 200
