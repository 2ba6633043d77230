"""Scheduled digests (``digests send``), two schedulers at once, and ``outbox send``."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, insert, select, update

from tests.test_wizard import (
    ROOT,
    count,
    demo,
    high_water,
    local_date,
    remove_since,
    rows,
    t,
    tn,
)

CUSTOMERS = {
    # login -> (email, language, territory)
    "adm.nord": ("jan.petersen@supertoy.example", "de", "north"),
    "adm.sued": ("katrin.obermeier@supertoy.example", "de", "south"),
    "pos.marketing": ("sabine.wolff@supertoy.example", "de", "all"),
    "vertrieb": ("daniel.carter@supertoy.example", "en", "all"),
}


@pytest.fixture()
def tidy(app):
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


@pytest.fixture()
def info(app):
    return demo(app)


def friday_next_week(info) -> dt.date:
    """A Friday (the weekly digest's day) whose following week lies within the project."""
    day = info.today - dt.timedelta(days=info.today.weekday()) + dt.timedelta(days=7 + 4)
    assert day + dt.timedelta(days=10) <= info.end
    return day


def send(app, day: dt.date, kind: str = "all") -> dict[str, int]:
    result = app.test_cli_runner().invoke(args=["digests", "send", "--date", day.isoformat(), "--kind", kind])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return {name: int(n) for name, n in re.findall(r"(\w+) digests queued: (\d+)", result.output)}


def mails(app, tidy, kind: str) -> list[dict]:
    from app.outbox.models import OutboxMessage

    return rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"], OutboxMessage.kind == kind)


def runs(app, tidy) -> list[dict]:
    from app.digests.models import DigestRun

    return rows(app, DigestRun, DigestRun.id > tidy["digest"])


@contextmanager
def changed(app, statement, undo):
    """Apply ``statement`` to the demo for the test's duration; ``undo`` restores it."""
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(statement)
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(undo)


def pending_ids(app) -> list[int]:
    from app.models.planning import Appointment

    return [r["id"] for r in rows(app, Appointment, Appointment.status == "proposed")]


def listed(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("- ")]


# ---------------------------------------------------------------- the agency's daily digest


def test_agency_digest_lists_the_pending_proposals_once_a_day(app, tidy, info):
    day = info.today + dt.timedelta(days=3)
    pending = pending_ids(app)
    assert pending, "the demo has pending proposals"
    assert send(app, day, "agency") == {"agency": 1}
    (mail,) = mails(app, tidy, "digest_pending")
    assert (mail["recipient"], mail["language"]) == (info.agency_email, "de")
    expected = tn(
        "%(num)d proposal awaits your decision", "%(num)d proposals await your decision", len(pending), "de"
    )
    assert mail["subject"] == expected
    assert len(listed(mail["body_text"])) == len(pending)
    assert "/proposals/" in mail["body_text"]
    assert [
        (r["kind"], r["recipient_key"], r["period"], r["outbox_message_id"]) for r in runs(app, tidy)
    ] == [("agency_pending", info.agency_email, day.isoformat(), mail["id"])]

    # The same day again: nothing; the next day: a new digest.
    assert send(app, day, "agency") == {"agency": 0}
    assert len(mails(app, tidy, "digest_pending")) == 1
    assert send(app, day + dt.timedelta(days=1), "agency") == {"agency": 1}
    assert len(mails(app, tidy, "digest_pending")) == 2


def test_agency_digest_lists_pending_change_requests(app, tidy, info):
    """A customer's request to move or cancel an appointment waits for the agency like a
    proposal: the daily digest lists it (kind, date, store, new date, who asked)."""
    from app.extensions import db
    from app.models.crm import Contact
    from app.models.planning import Appointment, ChangeRequest

    with app.app_context():
        appointment = db.session.scalars(
            select(Appointment)
            .where(Appointment.status == "planned", Appointment.date > info.today)
            .order_by(Appointment.date, Appointment.id)
        ).first()
        contact = db.session.scalars(select(Contact).where(Contact.email == CUSTOMERS["adm.nord"][0])).one()
        new_day = appointment.date + dt.timedelta(days=1)
        request = ChangeRequest(
            appointment_id=appointment.id,
            kind="move",
            new_date=new_day,
            new_start_time=appointment.start_time,
            new_end_time=appointment.end_time,
            reason="Inventur",
            requested_by_id=contact.id,
        )
        db.session.add(request)
        db.session.commit()
        request_id, store = request.id, appointment.job.location.name
        first_day, contact_name = appointment.date, contact.full_name
    try:
        assert send(app, info.today + dt.timedelta(days=3), "agency") == {"agency": 1}
        (mail,) = mails(app, tidy, "digest_pending")
        assert (
            tn(
                "%(num)d change request awaits your decision",
                "%(num)d change requests await your decision",
                1,
                "de",
            )
            in mail["subject"]
        )
        (line,) = [item for item in listed(mail["body_text"]) if item.startswith("- Verlegung")]
        before, after = line.split(" → ")
        assert f"{first_day:%d.%m.%Y}" in before and f"{new_day:%d.%m.%Y}" in after
        assert store in line and contact_name in line
    finally:
        with app.app_context():
            db.session.execute(delete(ChangeRequest).where(ChangeRequest.id == request_id))
            db.session.commit()


def test_agency_digest_one_mail_per_manager(app, tidy, info):
    from app.models.planning import project_manager

    admin_id = _user_id(app, "admin")
    day = info.today + dt.timedelta(days=4)
    link = {"project_id": info.project_id, "user_id": admin_id}
    with changed(
        app,
        insert(project_manager).values(**link),
        delete(project_manager).where(
            project_manager.c.project_id == info.project_id, project_manager.c.user_id == admin_id
        ),
    ):
        assert send(app, day, "agency") == {"agency": 2}
        assert send(app, day, "agency") == {"agency": 0}
    recipients = Counter(m["recipient"] for m in mails(app, tidy, "digest_pending"))
    assert recipients == Counter({info.agency_email: 1, "admin@promoplan.example": 1})


def test_agency_digest_falls_back_to_the_notify_address(app, tidy, info):
    from app.models.planning import project_manager

    day = info.today + dt.timedelta(days=5)
    link = {"project_id": info.project_id, "user_id": info.agency_user_id}
    saved = app.config["AGENCY_NOTIFY_EMAIL"]
    app.config["AGENCY_NOTIFY_EMAIL"] = "planung@promoplan.example"
    try:
        with changed(
            app,
            delete(project_manager).where(
                project_manager.c.project_id == info.project_id,
                project_manager.c.user_id == info.agency_user_id,
            ),
            insert(project_manager).values(**link),
        ):
            assert send(app, day, "agency") == {"agency": 1}
    finally:
        app.config["AGENCY_NOTIFY_EMAIL"] = saved
    assert [m["recipient"] for m in mails(app, tidy, "digest_pending")] == ["planung@promoplan.example"]


def test_no_agency_digest_without_pending_proposals(app, tidy, info):
    from app.models.planning import Appointment

    pending = pending_ids(app)
    with changed(
        app,
        update(Appointment).where(Appointment.id.in_(pending)).values(status="cancelled"),
        update(Appointment).where(Appointment.id.in_(pending)).values(status="proposed"),
    ):
        assert pending_ids(app) == []
        assert send(app, info.today + dt.timedelta(days=6), "agency") == {"agency": 0}
    assert mails(app, tidy, "digest_pending") == []
    assert runs(app, tidy) == []
    assert pending_ids(app) == pending


# ---------------------------------------------------------------- the customers' weekly digest


def _user_id(app, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(User.id).where(User.username == username)).scalar_one()


def planned_next_week(app, info, day: dt.date, territory: str) -> list[dict]:
    from app.models.planning import Appointment

    monday = day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=7)
    stores = {"north": info.north, "south": info.south, "all": info.north + info.south}[territory]
    return rows(
        app,
        Appointment,
        Appointment.job_id.in_([s.job_id for s in stores]),
        Appointment.status == "planned",
        Appointment.date.between(monday, monday + dt.timedelta(days=6)),
    )


def test_customer_week_digest(app, tidy, info):
    day = friday_next_week(info)
    monday = day + dt.timedelta(days=3)
    sunday = monday + dt.timedelta(days=6)
    assert send(app, day, "customer") == {"customer": len(CUSTOMERS)}
    found = {m["recipient"]: m for m in mails(app, tidy, "digest_week")}
    assert sorted(found) == sorted(e for e, _, _ in CUSTOMERS.values())
    names = {
        "north": {s.name for s in info.north},
        "south": {s.name for s in info.south},
    }
    names["all"] = names["north"] | names["south"]
    for login, (address, lang, territory) in CUSTOMERS.items():
        mail = found[address]
        assert mail["language"] == lang, login
        assert mail["subject"] == t(
            "Your appointments from %(start)s to %(end)s",
            lang,
            start=local_date(monday, lang),
            end=local_date(sunday, lang),
        )
        expected = planned_next_week(app, info, day, territory)
        assert expected, f"no planned appointments next week for {login}"
        lines = listed(mail["body_text"])
        assert len(lines) == len(expected), login
        shown = {name for name in names["all"] if name in mail["body_text"]}
        assert shown <= names[territory], (login, shown - names[territory])
        assert shown == {
            s.name for s in info.north + info.south if s.job_id in {a["job_id"] for a in expected}
        }
        assert "/portal/appointments?range=next_week" in mail["body_text"]
    assert "Hello Daniel Carter," in found["daniel.carter@supertoy.example"]["body_text"]
    hello = t("Hello %(name)s,", "de", name="Jan Petersen")
    assert hello in found["jan.petersen@supertoy.example"]["body_text"]
    nord = found["jan.petersen@supertoy.example"]["body_text"]
    assert not any(s.name in nord for s in info.south)

    iso_year, iso_week, _ = monday.isocalendar()
    period = f"{iso_year}-W{iso_week:02d}"
    assert sorted((r["kind"], r["period"]) for r in runs(app, tidy)) == [("customer_week", period)] * len(
        CUSTOMERS
    )

    # Again the same day, or another day of the same week: nothing new.
    assert send(app, day, "customer") == {"customer": 0}
    assert send(app, day + dt.timedelta(days=1), "customer") == {"customer": 0}
    assert len(mails(app, tidy, "digest_week")) == len(CUSTOMERS)


def test_customer_digest_respects_the_opt_out(app, tidy, info):
    from app.models.crm import Contact

    address = CUSTOMERS["adm.sued"][0]
    with changed(
        app,
        update(Contact).where(Contact.email == address).values(digest_opt_out=True),
        update(Contact).where(Contact.email == address).values(digest_opt_out=False),
    ):
        assert send(app, friday_next_week(info), "customer") == {"customer": len(CUSTOMERS) - 1}
    recipients = [m["recipient"] for m in mails(app, tidy, "digest_week")]
    assert address not in recipients
    assert len(recipients) == len(CUSTOMERS) - 1


def test_customer_digest_needs_an_active_login(app, tidy, info):
    from flask_appbuilder.security.sqla.models import User

    user_id = _user_id(app, "pos.marketing")
    with changed(
        app,
        update(User).where(User.id == user_id).values(active=False),
        update(User).where(User.id == user_id).values(active=True),
    ):
        assert send(app, friday_next_week(info), "customer") == {"customer": len(CUSTOMERS) - 1}
    assert CUSTOMERS["pos.marketing"][0] not in [m["recipient"] for m in mails(app, tidy, "digest_week")]


# ---------------------------------------------------------------- two schedulers at once


def _race(script: str, args: list[str], env: dict) -> list[tuple[int, str, str]]:
    """Start two processes that run ``script`` at the same moment; (returncode, out, err) of each."""
    start_at = time.time() + 8
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(start_at), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        results.append((process.returncode, out, err))
    return results


RACE = """
import sys, time
from app import create_app
app = create_app()
runner = app.test_cli_runner()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
result = runner.invoke(args=["digests", "send", "--date", sys.argv[2]])
sys.stdout.write(result.output)
if result.exception is not None and not isinstance(result.exception, SystemExit):
    import traceback
    traceback.print_exception(result.exception)
sys.exit(result.exit_code)
"""


def test_two_scheduler_processes_send_each_digest_once(app, tidy, info, database_url):
    """Two real processes run ``digests send`` for the same day at the same moment."""
    from app.outbox.models import OutboxMessage

    day = friday_next_week(info) + dt.timedelta(days=7)
    env = {**os.environ, "DATABASE_URL": database_url}
    outputs = _race(RACE, [day.isoformat()], env)
    for returncode, out, err in outputs:
        assert returncode == 0, out + err[-3000:]
    queued = Counter()
    for _, out, _ in outputs:
        for name, n in re.findall(r"(\w+) digests queued: (\d+)", out):
            queued[name] += int(n)
    assert queued == Counter({"agency": 1, "customer": len(CUSTOMERS)}), outputs

    digest_runs = runs(app, tidy)
    keys = Counter((r["kind"], r["recipient_key"], r["period"]) for r in digest_runs)
    assert len(keys) == 1 + len(CUSTOMERS) and set(keys.values()) == {1}
    sent = rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"])
    expected = [("digest_pending", info.agency_email)] + [
        ("digest_week", a) for a, _, _ in CUSTOMERS.values()
    ]
    assert Counter((m["kind"], m["recipient"]) for m in sent) == Counter(expected)
    assert sorted(r["outbox_message_id"] for r in digest_runs) == sorted(m["id"] for m in sent)


# ---------------------------------------------------------------- delivering the outbox


def test_outbox_send_writes_mails_to_the_folder_without_mail_server(app, tidy, tmp_path):
    from app.common.models import utcnow
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    message_id = f"<test-{time.time_ns()}@promoplan.local>"
    with app.app_context(), db.engine.begin() as conn:
        pk = conn.execute(
            insert(OutboxMessage).values(
                kind="test",
                recipient="jan.petersen@supertoy.example",
                language="de",
                subject="Ihr Terminvorschlag für Größe & Übersicht",
                body_text="Hallo Herr Petersen,\n\nTest.\n",
                body_html="<p>Hallo Herr Petersen,</p>",
                message_id=message_id,
                status="pending",
                attempts=0,
                next_attempt_at=utcnow() - dt.timedelta(minutes=1),
                created_at=utcnow(),
            )
        ).inserted_primary_key[0]
    saved = {key: app.config.get(key) for key in ("MAIL_FOLDER", "MAIL_SERVER")}
    app.config.update(MAIL_FOLDER=str(tmp_path), MAIL_SERVER="")
    try:
        result = app.test_cli_runner().invoke(args=["outbox", "send", "--batch", "1000"])
        assert result.exit_code == 0, result.output
        assert re.search(r"[1-9]\d* sent, 0 to retry, 0 failed", result.output), result.output
        path = tmp_path / f"{pk:06d}-test.eml"
        assert path.exists(), sorted(p.name for p in tmp_path.iterdir())
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert parsed["To"] == "jan.petersen@supertoy.example"
        assert parsed["Subject"] == "Ihr Terminvorschlag für Größe & Übersicht"
        assert parsed["Message-ID"] == message_id
        sent = rows(app, OutboxMessage, OutboxMessage.id == pk)[0]
        assert sent["status"] == "sent" and sent["attempts"] == 1 and sent["sent_at"] is not None
        written = path.stat().st_mtime_ns

        again = app.test_cli_runner().invoke(args=["outbox", "send"])
        assert again.exit_code == 0 and again.output.startswith("0 sent"), again.output
        assert path.stat().st_mtime_ns == written
        assert rows(app, OutboxMessage, OutboxMessage.id == pk)[0]["attempts"] == 1
    finally:
        app.config.update(saved)
    assert count(app, OutboxMessage, OutboxMessage.id == pk) == 1


SENDER = """
import sys, time
from app import create_app
app = create_app()
runner = app.test_cli_runner()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
result = runner.invoke(args=["outbox", "send", "--batch", "1000"])
sys.stdout.write(result.output)
sys.exit(result.exit_code)
"""


def test_two_senders_deliver_each_mail_once(app, tidy, tmp_path, database_url):
    """The scheduler's outbox job in two processes at once: every mail is written exactly once."""
    from app.common.models import utcnow
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    tag = time.time_ns()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            insert(OutboxMessage),
            [
                {
                    "kind": "race",
                    "recipient": f"empfaenger{i}@example.org",
                    "language": "de",
                    "subject": f"Nachricht {i}",
                    "body_text": f"Text {i}",
                    "message_id": f"<race-{tag}-{i}@promoplan.local>",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": utcnow() - dt.timedelta(minutes=1),
                    "created_at": utcnow(),
                }
                for i in range(40)
            ],
        )
    env = {**os.environ, "DATABASE_URL": database_url, "MAIL_SERVER": "", "MAIL_FOLDER": str(tmp_path)}
    outputs = _race(SENDER, [], env)
    for returncode, out, err in outputs:
        assert returncode == 0, out + err[-3000:]
    ours = rows(app, OutboxMessage, OutboxMessage.id > tidy["outbox"])
    assert len(ours) == 40
    assert {(m["status"], m["attempts"]) for m in ours} == {("sent", 1)}
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{m['id']:06d}-race.eml" for m in ours)
    sent = sum(int(re.match(r"(\d+) sent", out).group(1)) for _, out, _ in outputs)
    assert sent >= 40 and all(re.search(r", 0 failed", out) for _, out, _ in outputs)


def test_the_scheduler_runs_the_digests_at_the_configured_times(app, tidy, info):
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from app.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == [
        "agency_digest",
        "change_summary",
        "customer_digest",
        "exports",
        "imports",
        "monthly_reports",
        "outbox",
        "report_file_sweep",
        "report_reminders",
    ]
    sweep = {f.name: str(f) for f in jobs["report_file_sweep"].trigger.fields}
    assert (sweep["hour"], sweep["minute"]) == ("3", "30")  # once a night
    assert isinstance(jobs["outbox"].trigger, IntervalTrigger)
    assert jobs["outbox"].trigger.interval == dt.timedelta(minutes=1)
    for job_id in ("agency_digest", "change_summary", "customer_digest"):
        assert isinstance(jobs[job_id].trigger, CronTrigger)
        assert str(jobs[job_id].trigger.timezone) == app.config["TIMEZONE"]
    hour, minute = app.config["DIGEST_DAILY_AT"].split(":")
    for job_id in ("agency_digest", "change_summary"):
        daily = {f.name: str(f) for f in jobs[job_id].trigger.fields}
        assert (daily["hour"], daily["minute"]) == (str(int(hour)), str(int(minute)))
    weekly = {f.name: str(f) for f in jobs["customer_digest"].trigger.fields}
    assert weekly["day_of_week"] == app.config["DIGEST_WEEKLY_DAY"]

    # The job runs in its own app context and queues today's agency digest once.
    jobs["agency_digest"].func()
    jobs["agency_digest"].func()
    assert [(r["kind"], r["period"]) for r in runs(app, tidy)] == [("agency_pending", info.today.isoformat())]
    assert len(mails(app, tidy, "digest_pending")) == 1


def test_contacts_switch_the_weekly_mail_off_and_on_in_the_portal(app):
    import re

    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.extensions import db
    from app.models.crm import Contact
    from tests.conftest import DEMO_PASSWORD

    client = app.test_client()
    client.post("/portal/login", data={"username": "adm.nord", "password": DEMO_PASSWORD})
    checkbox = re.search(
        r"<input[^>]*weekly_mail[^>]*>", client.get("/portal/settings").get_data(as_text=True)
    )
    assert checkbox and "checked" in checkbox.group(0)

    def opted_out() -> bool:
        with app.app_context():
            return db.session.scalar(
                select(Contact.digest_opt_out)
                .join(User, User.id == Contact.user_id)
                .where(User.username == "adm.nord")
            )

    try:
        saved = client.post("/portal/settings", data={}, follow_redirects=True)
        assert "Einstellungen wurden gespeichert" in saved.get_data(as_text=True)
        assert opted_out() is True
        checkbox = re.search(r"<input[^>]*weekly_mail[^>]*>", saved.get_data(as_text=True))
        assert "checked" not in checkbox.group(0)
        client.post("/portal/settings", data={"weekly_mail": "y"})
        assert opted_out() is False
    finally:
        with app.app_context():
            for contact in db.session.scalars(select(Contact)):
                contact.digest_opt_out = False
            db.session.commit()


# ---------------------------------------------------------------- last week's figures in the weekly mail


def _expected_last_week(app, info, stores) -> dict:
    """Brute force over the rows: last week's appointments and the sums of the approved day
    reports of ``stores`` (contacts, units sold per product)."""
    from app.extensions import db
    from app.models.planning import Appointment
    from app.models.reporting import Report, ReportAnswer

    monday = info.today - dt.timedelta(days=info.today.weekday() + 7)
    sunday = monday + dt.timedelta(days=6)
    jobs = [s.job_id for s in stores]
    with app.app_context(), db.engine.connect() as conn:
        appointments = conn.execute(
            select(Appointment.status).where(
                Appointment.job_id.in_(jobs),
                Appointment.date.between(monday, sunday),
                Appointment.status.in_(("planned", "done")),
            )
        ).all()
        answers = conn.execute(
            select(
                ReportAnswer.report_id,
                ReportAnswer.question_key,
                ReportAnswer.item,
                ReportAnswer.value_text,
                ReportAnswer.value_number,
            )
            .join(Report, Report.id == ReportAnswer.report_id)
            .join(Appointment, Appointment.id == Report.appointment_id)
            .where(
                Report.status == "approved",
                Report.kind == "day",
                Appointment.job_id.in_(jobs),
                Appointment.date.between(monday, sunday),
            )
        ).all()
    product = {(a.report_id, a.item): a.value_text for a in answers if a.question_key == "product"}
    sold: Counter = Counter()
    contacts = 0.0
    for a in answers:
        if a.question_key == "units_sold":
            sold[product[a.report_id, a.item]] += a.value_number
        elif a.question_key == "contacts":
            contacts += a.value_number
    return {
        "monday": monday,
        "sunday": sunday,
        "appointments": len(appointments),
        "done": sum(1 for (status,) in appointments if status == "done"),
        "contacts": contacts,
        "sold": sold,
    }


def _number(value: float, lang: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(round(value, 1), format="#,##0.#", locale=lang)


def test_the_weekly_mail_tells_last_weeks_figures_of_the_contacts_territory(app, tidy, info):
    from babel.dates import format_date

    from app.demo.reports import PRODUCTS
    from app.digests.compose import customer_week_digest
    from app.extensions import db
    from app.models.crm import Contact

    with app.app_context():
        db.session.execute(update(Contact).where(Contact.user_id.is_not(None)).values(digest_opt_out=False))
        db.session.commit()
        assert customer_week_digest(db.session, info.today) == len(CUSTOMERS)
    found = {m["recipient"]: m for m in mails(app, tidy, "digest_week")}
    north = _expected_last_week(app, info, info.north)
    south = _expected_last_week(app, info, info.south)
    everything = _expected_last_week(app, info, info.north + info.south)
    assert north["sold"] and south["sold"] and north["done"]

    for address, lang, expected in (
        ("jan.petersen@supertoy.example", "de", north),
        ("katrin.obermeier@supertoy.example", "de", south),
        ("daniel.carter@supertoy.example", "en", everything),
    ):
        mail = found[address]
        for body in (mail["body_text"], mail["body_html"]):
            heading = t(
                "Last week (%(start)s to %(end)s) in your territory:",
                lang,
                start=format_date(
                    expected["monday"], "dd.MM.yyyy" if lang == "de" else "MM/dd/yyyy", locale=lang
                ),
                end=format_date(
                    expected["sunday"], "dd.MM.yyyy" if lang == "de" else "MM/dd/yyyy", locale=lang
                ),
            )
            assert heading in body, (address, heading)
            counts = t(
                "Appointments: %(count)s, done: %(done)s, without an approved report: %(missing)s",
                lang,
                count=_number(expected["appointments"], lang),
                done=_number(expected["done"], lang),
                missing="",
            )
            assert counts in body, (address, counts)
        text = mail["body_text"]
        contacts_label = "Kundenkontakte" if lang == "de" else "Customer contacts"
        assert f"* {contacts_label}: {_number(expected['contacts'], lang)} " in text, address
        for product in PRODUCTS:
            label = f"Verkauft – {product.de}" if lang == "de" else f"Units sold – {product.en}"
            line = f"* {label}: {_number(expected['sold'][product.code], lang)} "
            assert line in text, (address, line)
        # stock levels are no weekly total
        assert "Anfangsbestand" not in text and "Opening stock" not in text

    # the northern contact never sees the south's (or everybody's) numbers
    nord = found["jan.petersen@supertoy.example"]["body_text"]
    for product in PRODUCTS:
        theirs = _number(everything["sold"][product.code], "de")
        assert f"Verkauft – {product.de}: {theirs} " not in nord
    assert f"Kundenkontakte: {_number(everything['contacts'], 'de')} " not in nord
