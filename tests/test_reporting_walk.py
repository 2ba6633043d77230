"""Issue 14's walk on the demo, as a new user tries it: promoter01 writes today's Supertoy
day report with a photo, the agency returns it with a comment, promoter01 corrects and
submits again, the agency approves — the appointment is done with the actual times; adm.nord
then reads exactly the approved reports of the northern stores through the API and cannot
open a photo of a southern store.

The steps go through the real forms of the three systems (test clients); the phone-sized
browser walks of the same forms are in test_browser_report.py and test_browser_report_review.py.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import delete, select, update

from tests.helpers import client_for, db_session
from tests.test_report_capture import jpeg
from tests.visibility_helpers import NORTH, SOUTH, JwtClient, local_today

pytestmark = pytest.mark.usefixtures("app")


def _todays_appointment(app) -> int:
    """promoter01's confirmed Supertoy appointment today (the demo makes one)."""
    from flask_appbuilder.security.sqla.models import User

    from app.models.planning import Appointment, Booking
    from app.models.promoter import Promoter

    with db_session(app) as session:
        found = session.scalar(
            select(Appointment.id)
            .join(Booking, Booking.appointment_id == Appointment.id)
            .join(Promoter, Promoter.id == Booking.promoter_id)
            .join(User, User.id == Promoter.user_id)
            .where(
                User.username == "promoter01",
                Booking.status == "confirmed",
                Appointment.date == local_today(app),
                Appointment.status == "planned",
            )
        )
    assert found, "the demo gives promoter01 a confirmed appointment today"
    return found


def _answers(app, report_id: int) -> dict[str, str]:
    """A complete answer for every question of the report's questionnaire, by kind."""
    from app.models.reporting import Report
    from app.reporting.answers import children, field_name, rows_field, top_questions
    from app.reporting.definitions import parse_choices

    def value(question) -> str | None:
        if question.kind in ("integer", "decimal"):
            return str(int(question.min_value or 0) + 12)
        if question.kind == "yes_no":
            return "no"
        if question.kind in ("single_choice", "multiple_choice"):
            return parse_choices(question.choices)[0].code
        if question.kind in ("text", "long_text"):
            return "Alles ruhig im Markt"
        if question.kind == "date":
            return local_today(app).strftime("%d.%m.%Y")
        if question.kind == "time":
            return "12:00"
        return None  # photos and files are uploaded

    values = {"actual_start": "08:05", "actual_end": "15:50", "break_minutes": "30"}
    with db_session(app) as session:
        version = session.get(Report, report_id).questionnaire_version
        for question in top_questions(version):
            if question.kind == "group":
                values[rows_field(question)] = "1"
                for sub in children(version, question):
                    if (answer := value(sub)) is not None:
                        values[field_name(sub, question, 0)] = answer
            elif (answer := value(question)) is not None:
                values[field_name(question)] = answer
        photo = next(q for q in version.questions if q.kind == "photo" and q.parent_id is None)
        photo_field = field_name(photo)
    return values | {"_photo_field": photo_field}


def _revision(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html).group(1)


def _row(app, model, pk) -> dict:
    with db_session(app) as session:
        item = session.get(model, pk)
        return {c.key: getattr(item, c.key) for c in model.__table__.columns}


@pytest.fixture()
def walk(app):
    """Undo the walk afterwards: the demo's appointment today is planned again, without a report."""
    from app.audit.models import AuditEntry
    from app.models.planning import Appointment
    from app.models.reporting import Report, ReportAnswer, ReportFile

    appointment = _todays_appointment(app)
    # The demo's appointment starts at 8:00; a report can be written once it has started, so
    # that the walk also runs before 8:00 (Berlin) the appointment starts at midnight here.
    with db_session(app) as session:
        start = session.get(Appointment, appointment).start_time
        session.execute(
            update(Appointment).where(Appointment.id == appointment).values(start_time=dt.time(0, 0))
        )
        session.commit()
    yield appointment
    with db_session(app) as session:
        ids = list(session.scalars(select(Report.id).where(Report.appointment_id == appointment)))
        answers = select(ReportAnswer.id).where(ReportAnswer.report_id.in_(ids))
        # their audit trail too: SQLite gives a deleted row's id to the next row
        session.execute(
            delete(AuditEntry).where(
                ((AuditEntry.entity == "report") & AuditEntry.entity_id.in_(ids))
                | ((AuditEntry.entity == "report_answer") & AuditEntry.entity_id.in_(answers))
            )
        )
        session.execute(delete(ReportAnswer).where(ReportAnswer.report_id.in_(ids)))
        session.execute(delete(ReportFile).where(ReportFile.report_id.in_(ids)))
        session.execute(delete(Report).where(Report.id.in_(ids)))
        session.execute(
            update(Appointment)
            .where(Appointment.id == appointment)
            .values(status="planned", actual_start_time=None, actual_end_time=None, start_time=start)
        )
        session.commit()


def test_promoter_agency_and_customer_walk_through_a_day_report(app, walk):
    from app.models.planning import Appointment
    from app.models.reporting import Report
    from app.outbox.models import OutboxMessage

    appointment = walk
    promoter = client_for(app, "promoter01", "de")
    agency = client_for(app, "agentur", "de")

    # promoter01 opens today's report from the list of reports due
    due = promoter.get("/promoter/reports").get_data(as_text=True)
    assert f"/promoter/reports/day/{appointment}" in due
    started = promoter.post(f"/promoter/reports/day/{appointment}")
    assert started.status_code == 302
    report_id = int(re.search(r"/promoter/reports/(\d+)$", started.headers["Location"]).group(1))
    form = promoter.get(f"/promoter/reports/{report_id}").get_data(as_text=True)
    answers = _answers(app, report_id)
    photo_field = answers.pop("_photo_field")

    # … fills it in with a photo of the display and submits
    submitted = promoter.post(
        f"/promoter/reports/{report_id}",
        data={
            **answers,
            "revision": _revision(form),
            "action": "submit",
            photo_field: (io.BytesIO(jpeg()), "a.jpg"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert 'flash-success">Ihr Bericht ist abgegeben. Vielen Dank!<' in submitted.get_data(as_text=True)
    report = _row(app, Report, report_id)
    assert report["status"] == "submitted"
    assert (report["actual_start"], report["actual_end"]) == (dt.time(8, 5), dt.time(15, 50))

    # the agency finds it in its queue and returns it with a comment
    queue = agency.get("/reports/review/?status=submitted").get_data(as_text=True)
    assert f"/reports/review/{report_id}" in queue
    before = _outbox_max(app)
    agency.post(
        f"/reports/review/{report_id}/return",
        data={"comment": "Bitte die Kontakte nachzählen.", "revision": str(report["revision"])},
        follow_redirects=True,
    )
    assert _row(app, Report, report_id)["status"] == "returned"
    with db_session(app) as session:
        (mail,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > before, OutboxMessage.kind == "report_returned")
        ).all()
        assert "Bitte die Kontakte nachzählen." in mail.body_text
        assert f"/promoter/reports/{report_id}" in mail.body_text

    # promoter01 sees the comment, corrects the report and submits again
    form = promoter.get(f"/promoter/reports/{report_id}").get_data(as_text=True)
    assert "Bitte die Kontakte nachzählen." in form
    corrected = promoter.post(
        f"/promoter/reports/{report_id}",
        data={**answers, "actual_end": "16:10", "revision": _revision(form), "action": "submit"},
        follow_redirects=True,
    )
    assert corrected.status_code == 200
    assert _row(app, Report, report_id)["status"] == "submitted"

    # the agency approves: the appointment is done with the actual times
    revision = str(_row(app, Report, report_id)["revision"])
    agency.post(
        f"/reports/review/{report_id}/approve",
        data={"confirmed": "1", "revision": revision},
        follow_redirects=True,
    )
    assert _row(app, Report, report_id)["status"] == "approved"
    done = _row(app, Appointment, appointment)
    assert done["status"] == "done"
    assert (done["actual_start_time"], done["actual_end_time"]) == (dt.time(8, 5), dt.time(16, 10))
    shown = agency.get(f"/appointmentview/show/{appointment}").get_data(as_text=True)
    assert "Tatsächlicher Beginn" in shown and "08:05" in shown and "16:10" in shown

    # adm.nord reads exactly the approved reports of the northern stores, this one included
    _customer_reads_the_north(app, report_id)


def _outbox_max(app) -> int:
    from sqlalchemy import func

    from app.outbox.models import OutboxMessage

    with db_session(app) as session:
        return session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))


def _customer_reads_the_north(app, report_id: int) -> None:
    from app.models.crm import Location, Territory
    from app.models.planning import Job
    from app.models.reporting import Report, ReportFile

    with db_session(app) as session:
        by_territory: dict[str, set[int]] = {}
        rows = session.execute(
            select(Territory.name, Report.id)
            .join(Job, Job.id == Report.job_id)
            .join(Location, Location.id == Job.location_id)
            .join(Territory, Territory.id == Location.territory_id)
            .where(Report.status == "approved")
        )
        for territory, pk in rows:
            by_territory.setdefault(territory, set()).add(pk)
        northern_stores = session.scalars(
            select(Location.id)
            .join(Territory, Territory.id == Location.territory_id)
            .where(Territory.name == NORTH)
        ).all()
        southern_photo = session.scalar(
            select(ReportFile.id)
            .join(Report, Report.id == ReportFile.report_id)
            .where(Report.id.in_(by_territory[SOUTH]))
            .limit(1)
        )
    assert report_id in by_territory[NORTH]
    assert len(northern_stores) == 12
    client = JwtClient(app, "adm.nord")
    body = client.get("/api/v1/report/?page_size=500").get_json()
    assert body["count"] == len(by_territory[NORTH]) <= 500
    assert {row["id"] for row in body["result"]} == by_territory[NORTH]
    assert {row["location_id"] for row in body["result"]} <= set(northern_stores)
    mine = next(row for row in body["result"] if row["id"] == report_id)
    (photo,) = mine["photos"]
    assert client.get(photo["url"]).status_code == 200
    assert southern_photo is not None, "the demo has photos of southern stores"
    assert client.get(f"/reporting/files/{southern_photo}").status_code == 404
    assert client.get(f"/reporting/files/{southern_photo}/thumbnail").status_code == 404
