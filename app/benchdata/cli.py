"""``flask --app app bench-data``: agency-scale data for the benchmarks in bench/."""

from __future__ import annotations

import time

import click

from app.extensions import db


@click.command("bench-data")
@click.option(
    "--scale", default=1.0, show_default=True, help="1 = 1,000,000 appointments; 0.01 for a quick try."
)
@click.option("--seed", default=7, show_default=True)
def bench_data(scale: float, seed: int) -> None:
    """Generate agency-scale data (adds to what is there; use an empty database)."""
    from app.benchdata.generator import Sizes, generate

    started = time.monotonic()
    last = {"table": None}

    def progress(table: str, done: int, total: int) -> None:
        if table != last["table"]:
            last["table"] = table
        click.echo(
            f"\r  {table:<20} {done:>9,} / {total:,}  ({time.monotonic() - started:5.0f} s)", nl=done >= total
        )

    counts = generate(db.session, Sizes.scaled(scale), progress, seed=seed)
    click.echo(
        f"bench data written in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )
    click.echo(
        "logins (password bench-password): bench.cust000 … (customers), bench.plan00 … (agency), "
        "bench.prom00 … (promoters)"
    )
