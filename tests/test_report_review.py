"""The agency's review of reports: the queue, approve (the appointment becomes done with the
actual times), return with a comment (the promoter is mailed once), corrections in the audit
trail; refusals in wrong states, for forged ids and stale forms; "mark as done" by hand
refused for appointments that require a day report."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select, update

from tests.conftest import login, set_language, visible_text
from tests.helpers import flashes
from tests.review_helpers import make_review_data
from tests.test_wizard import row, rows, t


@pytest.fixture()
def data(app):
    made = make_review_data(app)
    yield made
    made.cleanup()


@pytest.fixture()
def agency(app):
    client = app.test_client()
    login(client, "agentur")
    return client


def _past(app, days: int = 2) -> dt.date:
    from app.common.timezone import local_today

    with app.app_context():
        return local_today() - dt.timedelta(days=days)


def _mails(app, data, kind: str) -> list[dict]:
    from app.outbox.models import OutboxMessage

    return rows(app, OutboxMessage, OutboxMessage.id > data.outbox_mark, OutboxMessage.kind == kind)


def _audit(app, entity: str, entity_id: int) -> list[dict]:
    from app.audit.models import AuditEntry

    return rows(app, AuditEntry, AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)


def _approve(client, report_id: int, **extra):
    return client.post(
        f"/reports/review/{report_id}/approve", data={"confirmed": "1", **extra}, follow_redirects=True
    )


# ---------------------------------------------------------------- approve


def test_approve_asks_first_then_sets_the_appointment_done_with_the_actual_times(app, data, agency):
    from app.models.planning import Appointment
    from app.models.reporting import Report

    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id)

    page = agency.get(f"/reports/review/{report_id}")
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    for shown in ("Kontakte", "42", "Stimmung im Markt", "Gut", "Je Produkt", "Superbär", "Turbokran"):
        assert shown in text, shown
    assert "10:00–18:00" in text and "10:15–17:45" in text  # planned and actual

    confirm = agency.post(f"/reports/review/{report_id}/approve", data={"revision": "1"})
    assert confirm.status_code == 200 and "confirm-approve" in confirm.get_data(as_text=True)
    assert row(app, Report, report_id)["status"] == "submitted"

    done = _approve(agency, report_id, revision="1")
    assert done.status_code == 200
    assert any("genehmigt" in f or "approved" in f for f in flashes(done.get_data(as_text=True)))
    report = row(app, Report, report_id)
    appointment = row(app, Appointment, appointment_id)
    assert report["status"] == "approved" and report["reviewed_at"] is not None
    assert report["reviewed_by_id"] is not None
    assert appointment["status"] == "done"
    assert (appointment["actual_start_time"], appointment["actual_end_time"]) == (
        dt.time(10, 15),
        dt.time(17, 45),
    )
    # in the audit trail: the report's status, and the appointment's
    changes = [json.loads(e["changes"] or "{}") for e in _audit(app, "report", report_id)]
    assert any(c.get("status") == ["submitted", "approved"] for c in changes)
    assert all(e["username"] == "agentur" for e in _audit(app, "report", report_id))
    assert any(
        json.loads(e["changes"] or "{}").get("actual_end_time") == [None, "17:45"]
        for e in _audit(app, "appointment", appointment_id)
    )


def test_approve_refused_when_the_appointment_was_cancelled_meanwhile(app, data, agency):
    from app.models.planning import Appointment
    from app.models.reporting import Report

    appointment_id = data.appointment(_past(app), status="cancelled")
    report_id = data.report(appointment_id)
    page = _approve(agency, report_id, revision="1")
    messages = flashes(page.get_data(as_text=True))
    assert any("abgesagt" in m or "cancelled" in m for m in messages), messages
    assert row(app, Report, report_id)["status"] == "submitted"
    assert row(app, Appointment, appointment_id)["status"] == "cancelled"


@pytest.mark.parametrize("status", ["draft", "returned", "approved"])
def test_approve_and_return_refused_in_other_states(app, data, agency, status):
    from app.models.planning import Appointment
    from app.models.reporting import Report

    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id, status=status)
    before = row(app, Report, report_id)
    approve = _approve(agency, report_id, revision="1")
    assert any(
        t("Only submitted reports can be approved.", "de") in m
        for m in flashes(approve.get_data(as_text=True))
    )
    back = agency.post(
        f"/reports/review/{report_id}/return",
        data={"revision": "1", "comment": "Bitte korrigieren"},
        follow_redirects=True,
    )
    assert any(
        t("Only submitted reports can be returned.", "de") in m for m in flashes(back.get_data(as_text=True))
    )
    assert row(app, Report, report_id) == before
    assert row(app, Appointment, appointment_id)["status"] == "planned"
    assert _mails(app, data, "report_returned") == []


def test_forged_report_ids_answer_404(app, agency):
    for url in ("/reports/review/999999999", "/reports/review/999999999/edit"):
        assert agency.get(url).status_code == 404
    for url in ("/reports/review/999999999/approve", "/reports/review/999999999/return"):
        assert agency.post(url, data={"confirmed": "1", "comment": "x"}).status_code == 404
    assert agency.get("/reports/review/99999999999999999999").status_code == 404


def test_a_stale_form_changes_nothing(app, data, agency):
    """Someone changed the report after the page was opened: "changed meanwhile", nothing saved."""
    from app.models.planning import Appointment
    from app.models.reporting import Report

    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id)
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(Report).where(Report.id == report_id).values(revision=2))
    page = _approve(agency, report_id, revision="1")
    messages = flashes(page.get_data(as_text=True))
    assert any(
        t("This report was changed by someone else in the meantime. Please open it again and check it.", "de")
        in m
        for m in messages
    ), messages
    assert row(app, Report, report_id)["status"] == "submitted"
    assert row(app, Appointment, appointment_id)["status"] == "planned"


def test_concurrent_approval_by_the_operation_is_refused(app, data):
    """Two reviewers load the same report; the second one's save is refused (revision)."""
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.reporting import Report
    from app.reporting.operations import ReportError, approve, return_report

    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id)
    with app.app_context():
        session = db.session
        user = session.scalar(select(User).where(User.username == "agentur"))
        report = session.get(Report, report_id)
        assert report.revision == 1
        engine_conn = db.engine.connect()
        # the other reviewer returns it first
        from sqlalchemy.orm import Session

        with Session(bind=engine_conn) as other:
            other_report = other.get(Report, report_id)
            other_user = other.get(User, user.id)
            return_report(other, other_report, other_user, "Bitte Fotos ergänzen")
        engine_conn.close()
        with pytest.raises(ReportError) as refused:
            approve(session, report, user)
        assert "meantime" in str(refused.value) or "zwischenzeitlich" in str(refused.value)
        session.rollback()
    assert row(app, Report, report_id)["status"] == "returned"


# ---------------------------------------------------------------- return


def test_return_mails_the_promoter_once_with_the_comment_and_allows_resubmission(app, data, agency):
    from app.extensions import db
    from app.models.reporting import Report

    english = data.promoter("en")
    data.promoter_id = english
    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id)
    comment = "Bitte die Verkaufszahlen für Turbokran prüfen – Größe „XL“ fehlt."

    empty = agency.post(
        f"/reports/review/{report_id}/return", data={"revision": "1", "comment": "  "}, follow_redirects=True
    )
    assert any(
        t("Please write what the promoter should correct.", "de") in m
        for m in flashes(empty.get_data(as_text=True))
    )
    assert row(app, Report, report_id)["status"] == "submitted"

    page = agency.post(
        f"/reports/review/{report_id}/return",
        data={"revision": "1", "comment": comment},
        follow_redirects=True,
    )
    assert page.status_code == 200
    report = row(app, Report, report_id)
    assert report["status"] == "returned" and report["return_comment"] == comment
    (mail,) = _mails(app, data, "report_returned")
    with app.app_context():
        from app.models.promoter import Promoter

        email = db.session.get(Promoter, english).email
    assert mail["recipient"] == email and mail["language"] == "en"
    assert comment in mail["body_text"] and comment in mail["body_html"].replace("&#34;", '"')
    assert "Please correct your report" in mail["subject"]
    assert re.search(rf"/promoter/reports/{report_id}\b", mail["body_text"])

    # a second return (double click) is refused and mails nothing
    again = agency.post(
        f"/reports/review/{report_id}/return",
        data={"revision": "2", "comment": comment},
        follow_redirects=True,
    )
    assert any(
        t("Only submitted reports can be returned.", "de") in m for m in flashes(again.get_data(as_text=True))
    )
    assert len(_mails(app, data, "report_returned")) == 1

    # the promoter corrects and submits again (capture's step); then it can be approved
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(status="submitted", revision=Report.revision + 1)
        )
    revision = row(app, Report, report_id)["revision"]
    _approve(agency, report_id, revision=str(revision))
    assert row(app, Report, report_id)["status"] == "approved"


# ---------------------------------------------------------------- edit


def test_corrections_are_saved_and_audited_old_to_new(app, data, agency):
    from app.audit.views import changes_table
    from app.models.reporting import Report, ReportAnswer

    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id)
    answers = {
        (a["question_key"], a["item"]): a
        for a in rows(app, ReportAnswer, ReportAnswer.report_id == report_id)
    }
    form = agency.get(f"/reports/review/{report_id}/edit")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert f'name="answer-{answers["contacts", 0]["id"]}"' in html and 'value="42"' in html

    saved = agency.post(
        f"/reports/review/{report_id}/edit",
        data={
            "revision": "1",
            "actual_start": "10:15",
            "actual_end": "18:00",
            "break_minutes": "30",
            f"answer-{answers['contacts', 0]['id']}": "55",
            f"answer-{answers['sold', 1]['id']}": "4",
            f"answer-{answers['mood', 0]['id']}": "bad",
        },
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert row(app, Report, report_id)["actual_end"] == dt.time(18, 0)
    assert row(app, ReportAnswer, answers["contacts", 0]["id"])["value_number"] == 55
    assert row(app, ReportAnswer, answers["mood", 0]["id"])["value_text"] == "bad"

    report_changes = [json.loads(e["changes"] or "{}") for e in _audit(app, "report", report_id)]
    assert [c["actual_end"] for c in report_changes if "actual_end" in c] == [["17:45", "18:00"]]
    contacts = _audit(app, "report_answer", answers["contacts", 0]["id"])
    assert [json.loads(e["changes"]) for e in contacts] == [{"value_number": [42.0, 55.0]}]
    assert contacts[0]["username"] == "agentur" and "contacts" in contacts[0]["summary"]
    with app.test_request_context():
        readable = visible_text(str(changes_table(json.dumps({"actual_end": ["17:45", "18:00"]}))))
    assert "17:45 → 18:00" in readable and t("Actual end", "de") in readable


@pytest.mark.parametrize(
    "field, value",
    [
        ("contacts", "viele"),
        ("contacts", "1e400"),
        ("contacts", "99999999999999999999999"),
        ("contacts", "-5"),
        ("mood", "forged"),
        ("actual_end", "25:99"),
        ("actual_end", "09:00"),
        ("break_minutes", "999999999999"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(app, data, agency, field, value):
    from app.models.reporting import Report, ReportAnswer

    appointment_id = data.appointment(_past(app))
    report_id = data.report(appointment_id)
    answers = {
        a["question_key"]: a
        for a in rows(app, ReportAnswer, ReportAnswer.report_id == report_id, ReportAnswer.item == 0)
    }
    before = (row(app, Report, report_id), rows(app, ReportAnswer, ReportAnswer.report_id == report_id))
    form = {"revision": "1", "actual_start": "10:15", "actual_end": "17:45", "break_minutes": "30"}
    if field in answers:
        form[f"answer-{answers[field]['id']}"] = value
    else:
        form[field] = value
    page = agency.post(f"/reports/review/{report_id}/edit", data=form)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "has-error" in html
    assert (
        row(app, Report, report_id),
        rows(app, ReportAnswer, ReportAnswer.report_id == report_id),
    ) == before


# ---------------------------------------------------------------- "done" by hand


def test_mark_as_done_by_hand_refused_when_a_report_is_required(app, data, agency):
    from app.models.planning import Appointment

    needs_report = data.appointment(_past(app))
    free = data.appointment(_past(app), questionnaire=False)
    page = agency.post(
        "/appointmentview/action_post",
        data={"action": "complete", "rowid": [str(needs_report)]},
        follow_redirects=True,
    )
    messages = flashes(page.get_data(as_text=True))
    refusal = t(
        "This appointment requires a day report: it is marked as done when the agency "
        "approves the promoter's report (Reporting › Review reports).",
        "de",
    )
    assert any(refusal in m for m in messages), messages
    assert "Tagesbericht" in refusal
    assert row(app, Appointment, needs_report)["status"] == "planned"

    page = agency.post(
        "/appointmentview/action_post",
        data={"action": "complete", "rowid": [str(free)]},
        follow_redirects=True,
    )
    assert row(app, Appointment, free)["status"] == "done"


def test_a_draft_questionnaire_requires_no_report(app, data, agency):
    """Only a published version makes a report required."""
    from app.extensions import db
    from app.models.planning import Appointment
    from app.models.reporting import QuestionnaireVersion

    appointment_id = data.appointment(_past(app))
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(QuestionnaireVersion)
            .where(QuestionnaireVersion.id == data.version_id)
            .values(published_at=None)
        )
    agency.post("/appointmentview/action_post", data={"action": "complete", "rowid": [str(appointment_id)]})
    assert row(app, Appointment, appointment_id)["status"] == "done"


# ---------------------------------------------------------------- the queue


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_queue_lists_submitted_reports_oldest_first_in_the_users_language(app, data, agency, language):
    from app.common.models import utcnow

    set_language(agency, language)
    now = utcnow().replace(microsecond=0)
    newer = data.report(data.appointment(_past(app, 3)), submitted_at=now - dt.timedelta(hours=2))
    older = data.report(data.appointment(_past(app, 4)), submitted_at=now - dt.timedelta(days=2))
    approved = data.report(data.appointment(_past(app, 5)), status="approved")
    page = agency.get(f"/reports/review/?project={data.project_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = visible_text(html)
    assert t("Review reports", language) in text
    assert t("Submitted at", language) in text
    order = [int(n) for n in re.findall(r'data-report="(\d+)"', html)]
    assert order.index(older) < order.index(newer) and approved not in order
    # the project filter is searched, not a list of every project: only the chosen one is there
    select = html.split('id="project"', 1)[1].split("</select>", 1)[0]
    assert "remote-select/project" in select and select.count("<option") == 2
    # the menu shows the count of submitted reports
    assert re.search(re.escape(t("Review reports", language)) + r" \(\d+\)", text)
    # submitted at: local time, four-digit year
    if language == "de":
        assert re.search(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}", text)
    else:
        assert re.search(r"\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d{2}\s?[AP]M", text)

    approved_page = agency.get(f"/reports/review/?status=approved&project={data.project_id}")
    assert f'data-report="{approved}"' in approved_page.get_data(as_text=True)
    # nonsense filters fall back to the submitted reports, never a 500
    odd = agency.get("/reports/review/?status=%00&project=99999999999999999999&page=-3")
    assert odd.status_code in (200, 400)


def test_the_queue_is_paged(app, data, agency, monkeypatch):
    from app.common.models import utcnow
    from app.reporting import review_queries

    monkeypatch.setattr(review_queries, "PAGE_SIZE", 2)
    now = utcnow()
    made = [
        data.report(data.appointment(_past(app, 2 + i)), submitted_at=now - dt.timedelta(hours=10 - i))
        for i in range(5)
    ]
    seen: list[int] = []
    for page in range(1, 200):
        html = agency.get(f"/reports/review/?project={data.project_id}&page={page}").get_data(as_text=True)
        ids = [int(n) for n in re.findall(r'data-report="(\d+)"', html)]
        assert 1 <= len(ids) <= 2
        if ids[0] in seen:  # past the last page: the last page again
            break
        seen += ids
    mine = [pk for pk in seen if pk in made]
    assert mine == made  # oldest first, each once
    beyond = agency.get(f"/reports/review/?project={data.project_id}&page=999")
    assert beyond.status_code == 200


@pytest.mark.parametrize("comment", ["Bitte\x00korrigieren", "x" * 4001])
def test_hostile_comments_change_nothing_and_never_fail(app, data, agency, comment):
    from app.models.reporting import Report

    report_id = data.report(data.appointment(_past(app)))
    before = row(app, Report, report_id)
    answer = agency.post(f"/reports/review/{report_id}/return", data={"revision": "1", "comment": comment})
    assert answer.status_code < 500
    assert row(app, Report, report_id) == before
    assert _mails(app, data, "report_returned") == []
