"""``flask --app app outbox send``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db

outbox_cli = AppGroup("outbox", help="The mail outbox.")


@outbox_cli.command("send")
@click.option("--batch", default=50, show_default=True, help="How many mails at most in this pass.")
def outbox_send(batch: int) -> None:
    """Run one delivery pass over the due mails."""
    from app.outbox.sender import send_pending

    click.echo(str(send_pending(db.session, batch=batch)))
