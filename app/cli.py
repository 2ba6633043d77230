"""promoplan's own ``flask --app app …`` commands."""

from __future__ import annotations

import click
from flask import Flask, current_app


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_roles)
    from app.demo.cli import seed_demo

    app.cli.add_command(seed_demo)
    from app.benchdata.cli import bench_data
    from app.digests.cli import digests_cli
    from app.outbox.cli import outbox_cli
    from app.scheduler import scheduler_command

    app.cli.add_command(bench_data)

    app.cli.add_command(outbox_cli)
    app.cli.add_command(digests_cli)
    app.cli.add_command(scheduler_command)
    from app.transfer.cli import exports_cli, imports_cli

    app.cli.add_command(imports_cli)
    app.cli.add_command(exports_cli)


@click.command("init-roles")
def init_roles() -> None:
    """Create the roles Admin, Agency, Customer, Promoter (idempotent)."""
    from app.security.roles import ensure_roles

    created = ensure_roles(current_app.appbuilder)
    click.echo("Roles created: " + (", ".join(created) if created else "none (all present)"))
