"""The one scheduler process: ``flask --app app scheduler``.

Never started inside web workers. Runs the outbox sender every minute,
waiting imports and large exports every few seconds, the agency's daily
digest of pending proposals, the customers' daily summary of appointment
changes (at the same time), the customers' weekly digest (times in
TIMEZONE, see config.py), every 15 minutes the reminders of missing day
reports (each once: a unique row per appointment) and on the 1st (to 3rd) of a month at 06:00
last month's campaign reports (:mod:`app.digests.monthly_reports`). Running two by
mistake sends nothing twice while both are alive: digests are guarded by a unique row, outbox rows by claims
under a renewed lease (see :mod:`app.outbox.sender` for the one case of a
repeat, a sender killed mid-send).
"""

from __future__ import annotations

import logging

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app

from app.extensions import db

log = logging.getLogger(__name__)


def _job(app: Flask, name: str, func):
    def run() -> None:
        with app.app_context():
            try:
                result = func(db.session)
                log.info("%s: %s", name, result)
            except Exception:
                log.exception("%s failed", name)
                db.session.rollback()
            finally:
                db.session.remove()

    return run


def build_scheduler(app: Flask) -> BlockingScheduler:
    from app.digests.compose import agency_pending_digest, change_summary_digest, customer_week_digest
    from app.digests.monthly_reports import send_monthly_reports
    from app.outbox.sender import send_pending
    from app.reporting.files import delete_orphans
    from app.reporting.operations import remind_missing_reports
    from app.transfer.export_jobs import run_pending as run_exports
    from app.transfer.jobs import run_pending as run_imports

    timezone = app.config["TIMEZONE"]
    scheduler = BlockingScheduler(timezone=timezone)
    daily_hour, daily_minute = app.config["DIGEST_DAILY_AT"].split(":")
    weekly_hour, weekly_minute = app.config["DIGEST_WEEKLY_AT"].split(":")
    scheduler.add_job(
        _job(app, "outbox", send_pending), "interval", minutes=1, id="outbox", max_instances=1, coalesce=True
    )
    scheduler.add_job(
        _job(app, "imports", run_imports),
        "interval",
        seconds=int(app.config.get("IMPORT_POLL_SECONDS", 5)),
        id="imports",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        _job(app, "exports", run_exports),
        "interval",
        seconds=int(app.config.get("EXPORT_POLL_SECONDS", 5)),
        id="exports",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        _job(app, "report reminders", remind_missing_reports),
        "interval",
        minutes=15,
        id="report_reminders",
        max_instances=1,
        coalesce=True,
    )
    # Stored report files no row refers to (a web process that died between storing the
    # bytes and its commit; deleted reports): once a night, only bytes older than a day.
    scheduler.add_job(
        _job(app, "report file sweep", delete_orphans),
        CronTrigger(hour=3, minute=30, timezone=timezone),
        id="report_file_sweep",
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        _job(app, "agency digest", agency_pending_digest),
        CronTrigger(hour=daily_hour, minute=daily_minute, timezone=timezone),
        id="agency_digest",
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        _job(app, "change summary", change_summary_digest),
        CronTrigger(hour=daily_hour, minute=daily_minute, timezone=timezone),
        id="change_summary",
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        _job(app, "customer digest", customer_week_digest),
        CronTrigger(
            day_of_week=app.config["DIGEST_WEEKLY_DAY"],
            hour=weekly_hour,
            minute=weekly_minute,
            timezone=timezone,
        ),
        id="customer_digest",
        coalesce=True,
        misfire_grace_time=3600,
    )
    # Last month's campaign report to the customers' contacts (each once: a unique row);
    # the 2nd and 3rd retry what failed or was missed (a scheduler down on the 1st).
    scheduler.add_job(
        _job(app, "monthly reports", send_monthly_reports),
        CronTrigger(day="1-3", hour=6, minute=0, timezone=timezone),
        id="monthly_reports",
        coalesce=True,
        misfire_grace_time=12 * 3600,
    )
    return scheduler


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (outbox every minute, report reminders, daily and weekly digests)."""
    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("promoplan scheduler running; Ctrl+C stops it.")
    for job in scheduler.get_jobs():
        click.echo(f"  {job.id}: {job.trigger}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")
