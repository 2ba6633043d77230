"""``flask --app app outbox send``, ``digests send`` and ``scheduler``."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db

outbox_cli = AppGroup("outbox", help="The mail outbox.")
digests_cli = AppGroup("digests", help="Scheduled digests.")


@outbox_cli.command("send")
@click.option("--batch", default=50, show_default=True, help="How many mails at most in this pass.")
def outbox_send(batch: int) -> None:
    """Run one delivery pass over the due mails."""
    from app.notify.sender import send_pending

    click.echo(str(send_pending(db.session, batch=batch)))


@digests_cli.command("send")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Pretend today is this date.")
@click.option("--kind", type=click.Choice(["agency", "customer", "all"]), default="all", show_default=True)
def digests_send(day: dt.datetime | None, kind: str) -> None:
    """Queue today's digests now (each at most once per recipient and period)."""
    from app.notify.digests import agency_pending_digest, customer_week_digest

    today = day.date() if day else None
    if kind in ("agency", "all"):
        click.echo(f"agency digests queued: {agency_pending_digest(db.session, today)}")
    if kind in ("customer", "all"):
        click.echo(f"customer digests queued: {customer_week_digest(db.session, today)}")


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (outbox every minute, daily and weekly digests)."""
    from app.notify.scheduler import build_scheduler

    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("promoplan scheduler running; Ctrl+C stops it.")
    for job in scheduler.get_jobs():
        click.echo(f"  {job.id}: {job.trigger}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped")
