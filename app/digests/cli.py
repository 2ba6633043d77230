"""``flask --app app digests send``."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from app.extensions import db

digests_cli = AppGroup("digests", help="Scheduled digests.")


@digests_cli.command("send")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Pretend today is this date.")
@click.option(
    "--kind",
    type=click.Choice(["agency", "changes", "customer", "all"]),
    default="all",
    show_default=True,
)
def digests_send(day: dt.datetime | None, kind: str) -> None:
    """Queue today's digests now (each at most once per recipient and period)."""
    from app.digests.compose import agency_pending_digest, change_summary_digest, customer_week_digest

    today = day.date() if day else None
    if kind in ("agency", "all"):
        click.echo(f"agency digests queued: {agency_pending_digest(db.session, today)}")
    if kind in ("changes", "all"):
        click.echo(f"change summaries queued: {change_summary_digest(db.session, today)}")
    if kind in ("customer", "all"):
        click.echo(f"customer digests queued: {customer_week_digest(db.session, today)}")
