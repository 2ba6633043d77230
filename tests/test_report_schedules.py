"""Monthly campaign report by mail: once per contact and month, the PDF of the contact's
own territory, through a real SMTP server (aiosmtpd with its default limits)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import os
import subprocess
import sys
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select

from tests.conftest import login
from tests.smtp import body_text
from tests.test_wizard import ROOT, demo, high_water, remove_since, rows


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)
    from app.extensions import db
    from app.models.report_schedules import ReportSchedule

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(ReportSchedule))


@pytest.fixture()
def info(app):
    return demo(app)


def contact_of(session, username: str):
    from flask_appbuilder.security.sqla.models import User

    from app.models.crm import Contact

    return session.scalar(
        select(Contact).join(User, User.id == Contact.user_id).where(User.username == username)
    )


def schedule(session, info, *usernames: str, active: bool = True):
    from app.models.planning import Project
    from app.reporting.schedules import save_schedule

    project = session.get(Project, info.project_id)
    return save_schedule(session, project, [contact_of(session, u) for u in usernames], active=active)


def deliver(session) -> None:
    from app.outbox.sender import send_pending

    result = send_pending(session, batch=100)
    assert result.failed == 0 and result.retried == 0, result


def pdf_text(message: email.message.EmailMessage) -> str:
    (attachment,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert attachment.get_filename().endswith(".pdf")
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_each_contact_gets_last_months_pdf_of_their_own_territory_once(app, session, tidy, info, smtp_server):
    from app.digests.monthly_reports import send_monthly_reports

    schedule(session, info, "adm.nord", "vertrieb")
    first_of_month = info.today.replace(day=1)
    assert send_monthly_reports(session, first_of_month) == 2
    # the same month again — the scheduler's second run or a second process — sends nothing
    assert send_monthly_reports(session, first_of_month + dt.timedelta(days=3)) == 0
    deliver(session)

    # the monthly reports only: mails other tests left in this database's outbox go out too
    from app.outbox.models import OutboxMessage

    ids = {
        message_id.strip("<>")
        for message_id in session.scalars(
            select(OutboxMessage.message_id).where(OutboxMessage.kind == "report_monthly")
        )
    }
    raw_mails = [
        raw
        for raw in smtp_server.mailbox.raw
        if str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]).strip().strip("<>")
        in ids
    ]
    assert len(raw_mails) == 2
    for raw in raw_mails:
        # base64 lines of 76, headers folded at 78: the server's 998 limit is far away
        assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    by_recipient = {}
    for raw in raw_mails:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        by_recipient[parsed["To"]] = parsed
    nord = by_recipient["jan.petersen@supertoy.example"]
    vertrieb = by_recipient["daniel.carter@supertoy.example"]

    previous = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    assert info.project_name in nord["Subject"]
    assert f"01.{previous:%m.%Y}" in nord["Subject"]
    assert "Kampagnenbericht" in nord["Subject"]
    assert "Campaign report" in vertrieb["Subject"]
    assert "/portal/reporting/" in body_text(nord)

    nord_text = pdf_text(nord)
    vertrieb_text = pdf_text(vertrieb)
    assert any(s.name in nord_text for s in info.north)
    assert not any(s.name in nord_text for s in info.south), "a northern contact sees southern stores"
    assert any(s.name in vertrieb_text for s in info.south)
    assert any(s.name in vertrieb_text for s in info.north)

    from app.models.report_schedules import ReportSchedule

    session.expire_all()
    assert session.scalar(select(ReportSchedule.last_sent_month)) == f"{previous:%Y-%m}"


def test_without_chosen_contacts_every_contact_of_the_project_gets_it_and_inactive_sends_nothing(
    app, session, tidy, info
):
    from app.digests.models import DigestRun
    from app.digests.monthly_reports import recipients, send_monthly_reports
    from app.models.planning import Project

    plan = schedule(session, info, active=False)
    first_of_month = info.today.replace(day=1)
    assert send_monthly_reports(session, first_of_month) == 0

    project = session.get(Project, info.project_id)
    expected = {c.email for c in project.contacts if c.user_id and c.user and c.user.active and c.email}
    assert {c.email for c in recipients(session, plan)} == expected
    assert len(expected) >= 4
    plan.active = True
    session.commit()
    assert send_monthly_reports(session, first_of_month) == len(expected)
    assert len(
        rows(app, DigestRun, DigestRun.id > tidy["digest"], DigestRun.kind == "monthly_report")
    ) == len(expected)


def test_a_contact_of_another_customer_is_refused(app, session, tidy, info):
    from app.models.crm import Company, Contact
    from app.models.planning import Project
    from app.reporting.schedules import save_schedule

    other = session.scalar(select(Contact).join(Company).where(Company.name.not_like("%Supertoy%")).limit(1))
    if other is None:
        company = Company(name="Fremdkunde Schedules", kind="customer")
        other = Contact(company=company, first_name="Fremd", last_name="Kontakt", email="fremd@example.com")
        session.add_all([company, other])
        session.commit()
    with pytest.raises(ValueError):
        save_schedule(session, session.get(Project, info.project_id), [other])
    session.rollback()


def test_the_agency_screen_adds_and_lists_a_schedule(app, client, tidy, info):
    from app.extensions import db
    from app.models.report_schedules import ReportSchedule

    login(client, "agentur")
    form = client.get("/reportscheduleview/add")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    # searchable remote selects, not a dropdown of every contact or project
    assert 'data-ajax--url="/api/v1/remote-select/contact"' in html
    assert 'data-ajax--url="/api/v1/remote-select/project"' in html
    assert "<select multiple" in html
    with app.app_context():
        nord = contact_of(db.session, "adm.nord").id
    answer = client.post(
        "/reportscheduleview/add",
        data={"project": str(info.project_id), "contacts": [str(nord)], "active": "y"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    with app.app_context():
        (saved,) = db.session.scalars(select(ReportSchedule)).all()
        assert saved.project_id == info.project_id and saved.active
        assert [c.id for c in saved.contacts] == [nord]
    listed = client.get("/reportscheduleview/list/").get_data(as_text=True)
    assert "Jan Petersen" in listed or "Petersen" in listed


RACE = """
import datetime as dt, sys, time
from app import create_app
from app.extensions import db
from app.digests.monthly_reports import send_monthly_reports
app = create_app()
with app.app_context():
    db.session.execute(db.select(1)).all()
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
    print("queued", send_monthly_reports(db.session, dt.date.fromisoformat(sys.argv[2])))
"""


def test_two_scheduler_processes_send_each_contact_one_mail(app, session, tidy, info, database_url):
    from app.digests.models import DigestRun

    schedule(session, info, "adm.nord", "adm.sued")
    day = info.today.replace(day=1).isoformat()
    start = time.time() + 6
    env = {**os.environ, "DATABASE_URL": database_url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(start), day],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=180) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-3000:] for _out, err in results]
    outputs = [out for out, _err in results]
    assert sum(int(o.split("queued")[1]) for o in outputs) == 2, outputs
    keys = [r["recipient_key"] for r in rows(app, DigestRun, DigestRun.id > tidy["digest"])]
    assert len(keys) == len(set(keys)) == 2


def test_the_scheduler_sends_on_the_first_of_the_month_at_six_and_retries_two_days(app):
    from apscheduler.triggers.cron import CronTrigger

    from app.scheduler import build_scheduler

    job = build_scheduler(app).get_job("monthly_reports")
    assert isinstance(job.trigger, CronTrigger)
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["day"], fields["hour"], fields["minute"]) == ("1-3", "6", "0")
    assert str(job.trigger.timezone) == app.config["TIMEZONE"]


def test_an_attachment_is_base64_in_short_lines_with_a_plain_name_and_the_same_bytes_again(
    app, session, tidy
):
    from app.outbox.enqueue import enqueue
    from app.outbox.mime import build_message

    data = bytes(range(256)) * 400  # 100 KB of every byte value
    with app.test_request_context():
        message = enqueue(
            session,
            "password_reset",
            "zoe@example.com",
            "de",
            attachments=[("Bericht März/../x.pdf", "application/pdf", data)],
            name="Zoë",
            username="zoe",
            link="https://x/",
            hours=48,
        )
        session.commit()
        first = build_message(message, "promoplan <noreply@example.com>").as_bytes()
        again = build_message(message, "promoplan <noreply@example.com>").as_bytes()
    assert first == again  # a repeated delivery is the same message
    lines = first.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    parsed = email.message_from_bytes(first, policy=email.policy.default)
    (attachment,) = parsed.iter_attachments()
    assert attachment["Content-Transfer-Encoding"] == "base64"
    assert attachment.get_filename() == "Bericht_M_rz_.._x.pdf"
    assert attachment.get_content() == data
    assert "Zoë" in body_text(parsed)


def test_a_report_that_fails_does_not_stop_the_others_and_goes_out_at_the_next_run(
    app, session, tidy, info, monkeypatch
):
    from app.digests import monthly_reports as schedules

    schedule(session, info, "adm.nord", "adm.sued")
    real = schedules.campaign_pdf
    nord = contact_of(session, "adm.nord").id

    def failing(session, scope, flt, language, *, project, contact):
        if contact.id == nord:
            raise RuntimeError("the PDF could not be laid out")
        return real(session, scope, flt, language, project=project, contact=contact)

    monkeypatch.setattr(schedules, "campaign_pdf", failing)
    first_of_month = info.today.replace(day=1)
    assert schedules.send_monthly_reports(session, first_of_month) == 1
    monkeypatch.setattr(schedules, "campaign_pdf", real)
    assert schedules.send_monthly_reports(session, first_of_month + dt.timedelta(days=1)) == 1
    assert schedules.send_monthly_reports(session, first_of_month + dt.timedelta(days=2)) == 0
