"""``flask --app app seed-demo``: the Supertoy demo campaign."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from app.demo.data import PROMOTER_LOGINS


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete all business data and rebuild the demo.")
@click.option("--password", default="promoplan-demo", show_default=True, help="Password of every demo login.")
@with_appcontext
def seed_demo(reset: bool, password: str) -> None:
    """Load the Supertoy demo (idempotent)."""
    from app.demo import seed

    started = time.perf_counter()
    present = seed.demo_present()
    counts = seed.seed_demo(password=password, reset=reset)
    seconds = time.perf_counter() - started
    if reset:
        state = "rebuilt"
    elif present:
        state = "already present, logins refreshed"
    else:
        state = "created"
    click.echo(f"Supertoy demo {state} in {seconds:.1f} s:")
    click.echo(
        "  {companies} companies, {territories} territories, {locations} stores, {contacts} contacts, "
        "{promoters} promoters".format(**counts)
    )
    click.echo(
        "  {projects} project, {jobs} jobs, {applications} applications, {appointments} appointments "
        "({proposals} customer proposals), {bookings} bookings, {notes} notes, {tasks} tasks".format(**counts)
    )
    click.echo("  {questionnaires} questionnaires, {reports} reports".format(**counts))
    shown = "promoplan-demo" if password == "promoplan-demo" else "as given with --password"
    usernames = [spec.username for spec in seed.user_specs()]
    click.echo(
        f"  logins ({shown}): {', '.join(usernames[:-PROMOTER_LOGINS])}, "
        f"{usernames[-PROMOTER_LOGINS]} … {usernames[-1]}"
    )
