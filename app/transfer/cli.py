"""``flask --app app imports run`` and ``exports run``: run the waiting jobs once."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db

imports_cli = AppGroup("imports", help="Large imports (normally run by the scheduler).")


@imports_cli.command("run")
def imports_run() -> None:
    """Run every waiting import, and every import whose runner died (its lease ran out)."""
    from app.transfer.jobs import run_pending

    click.echo(f"imports run: {run_pending(db.session)}")


exports_cli = AppGroup("exports", help="Large exports (normally run by the scheduler).")


@exports_cli.command("run")
def exports_run() -> None:
    """Write every waiting export (and those whose runner died); remove day-old ones."""
    from app.transfer.export_jobs import run_pending

    click.echo(f"exports run: {run_pending(db.session)}")
