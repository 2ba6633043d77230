"""Reminders of missing day reports: REPORT_REMINDER_HOURS after the appointment's end, to
its confirmed promoter, exactly once — also with two scheduler processes at the same moment."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.review_helpers import make_review_data
from tests.test_wizard import rows

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture()
def data(app):
    made = make_review_data(app, store_index=1)
    yield made
    made.cleanup()


def _day(app, days_back: int) -> dt.date:
    from app.common.timezone import local_today

    with app.app_context():
        return local_today() - dt.timedelta(days=days_back)


def _utc(app, day: dt.date, clock: dt.time, hours_after: float) -> dt.datetime:
    """The UTC moment ``hours_after`` the local wall-clock time ``day clock``."""
    zone = ZoneInfo(app.config["TIMEZONE"])
    local = dt.datetime.combine(day, clock, tzinfo=zone)
    return (local + dt.timedelta(hours=hours_after)).astimezone(dt.UTC)


def _remind(app, now: dt.datetime) -> int:
    from app.extensions import db
    from app.reporting.operations import remind_missing_reports

    with app.app_context():
        try:
            return remind_missing_reports(db.session, now=now)
        finally:
            db.session.remove()


def _reminders(app, data) -> list[dict]:
    from app.outbox.models import OutboxMessage

    return rows(
        app,
        OutboxMessage,
        OutboxMessage.id > data.outbox_mark,
        OutboxMessage.kind == "report_missing",
        OutboxMessage.recipient.like("review-%@example.com"),
    )


def test_reminded_once_after_the_configured_hours(app, data):
    day = _day(app, 2)
    appointment_id = data.appointment(day, end=dt.time(18, 0))
    assert app.config["REPORT_REMINDER_HOURS"] == 24

    _remind(app, _utc(app, day, dt.time(18, 0), 23.5))
    assert _reminders(app, data) == []

    _remind(app, _utc(app, day, dt.time(18, 0), 24.5))
    (mail,) = _reminders(app, data)
    assert mail["recipient"] == data.promoter_email and mail["language"] == "de"
    assert "Bericht" in mail["subject"] or "Report" in mail["subject"]
    assert f"{day:%d.%m.%Y}" in mail["subject"] and "/promoter/reports" in mail["body_text"]
    assert _reminded(app, [appointment_id]) == [appointment_id]

    # the next runs send nothing again
    _remind(app, _utc(app, day, dt.time(18, 0), 25))
    _remind(app, _utc(app, day, dt.time(18, 0), 48))
    assert len(_reminders(app, data)) == 1


def test_configured_hours_are_used(app, data):
    day = _day(app, 2)
    data.appointment(day, end=dt.time(18, 0))
    saved = app.config["REPORT_REMINDER_HOURS"]
    app.config["REPORT_REMINDER_HOURS"] = 48
    try:
        _remind(app, _utc(app, day, dt.time(18, 0), 30))
        assert _reminders(app, data) == []
        _remind(app, _utc(app, day, dt.time(18, 0), 49))
        assert len(_reminders(app, data)) == 1
    finally:
        app.config["REPORT_REMINDER_HOURS"] = saved


def test_no_reminder_with_a_submitted_or_approved_report_or_without_a_required_report(app, data):
    day = _day(app, 2)
    submitted = data.appointment(day)
    data.report(submitted, status="submitted")
    approved = data.appointment(day)
    data.report(approved, status="approved")
    data.appointment(day, questionnaire=False)  # no questionnaire: nothing to report
    data.appointment(day, booking="requested")  # nobody confirmed
    data.appointment(day, status="cancelled")
    data.appointment(_day(app, 30))  # beyond the lookback
    draft = data.appointment(day)
    data.report(draft, status="draft")  # a draft is still missing

    _remind(app, _utc(app, day, dt.time(18, 0), 30))
    mails = _reminders(app, data)
    assert len(mails) == 1, [m["subject"] for m in mails]


def test_the_scheduler_has_the_reminder_job(app):
    from app.scheduler import build_scheduler

    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert "report_reminders" in jobs
    assert jobs["report_reminders"].trigger.interval == dt.timedelta(minutes=15)


RACE = """
import datetime as dt, sys, time
from app import create_app
from app.extensions import db
from app.reporting.operations import remind_missing_reports
app = create_app()
now = dt.datetime.fromisoformat(sys.argv[2])
with app.app_context():
    db.session.execute(db.select(1)).all()  # connected before the start
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
    print("queued", remind_missing_reports(db.session, now=now))
"""


def test_two_scheduler_processes_remind_each_appointment_once(app, data, database_url):
    """Two real processes run the reminders at the same moment: every missing report is
    reminded exactly once (the reminder row's primary key decides)."""
    day = _day(app, 3)
    second = data.promoter("en")
    appointments = [data.appointment(day, start=dt.time(8 + i), end=dt.time(9 + i)) for i in range(6)]
    appointments.append(data.appointment(day, promoter_id=second))
    now = _utc(app, day, dt.time(23, 0), 25)
    env = {**os.environ, "DATABASE_URL": database_url}
    start_at = time.time() + 6
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(start_at), now.isoformat()],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=180) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err[-3000:]
    mails = _reminders(app, data)
    assert sorted(m["recipient"] for m in mails) == sorted([data.promoter_email] * 6 + [_email(app, second)])
    assert _reminded(app, appointments) == sorted(appointments)


def _reminded(app, appointment_ids: list[int]) -> list[int]:
    from app.extensions import db
    from app.models.reporting import ReportReminder

    with app.app_context(), db.engine.connect() as conn:
        return sorted(
            conn.execute(
                select(ReportReminder.appointment_id).where(
                    ReportReminder.appointment_id.in_(appointment_ids)
                )
            ).scalars()
        )


def _email(app, promoter_id: int) -> str:
    from app.extensions import db
    from app.models.promoter import Promoter

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(Promoter.email).where(Promoter.id == promoter_id)).scalar_one()
