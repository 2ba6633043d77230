"""``flask --app app seed-demo``: the Supertoy demo campaign."""

import click


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete all business data and rebuild the demo.")
@click.option("--password", default="promoplan-demo", show_default=True, help="Password of every demo login.")
def seed_demo(reset: bool, password: str) -> None:
    """Load the Supertoy demo (idempotent)."""
    raise click.ClickException("not implemented yet")
