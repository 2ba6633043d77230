"""The benchmark's own database: created fresh, marked, and only ever dropped if marked.

    python bench/database.py fresh  DATABASE_URL   # drop (if ours) and create, then mark it
    python bench/database.py drop   DATABASE_URL   # drop it (only if ours)

A database counts as the benchmark's when it holds the table ``promoplan_bench_marker``
that :func:`fresh` writes right after creating it. Anything else — a name that exists
without the marker, a SQLite file without it — is refused with :class:`NotOurs`, so a
wrong ``BENCH_DATABASE_URL`` can never wipe a shared or production database.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

MARKER = "promoplan_bench_marker"


class NotOurs(RuntimeError):
    """The database exists but was not created by the benchmark."""


def normalise(url: str) -> str:
    """postgresql:// URLs use psycopg 3, as in config.py."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _has_marker(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).has_table(MARKER)
    finally:
        engine.dispose()


def _mark(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {MARKER} (created_by VARCHAR(40) NOT NULL)"))
            conn.execute(text(f"INSERT INTO {MARKER} VALUES ('bench/database.py')"))
    finally:
        engine.dispose()


def _sqlite_files(url: str) -> list[Path]:
    path = Path(make_url(url).database or "")
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def _server(url: str):
    """An AUTOCOMMIT engine on the server's maintenance database, and the bench database's name."""
    parsed = make_url(url)
    name = parsed.database
    if not name or name in ("postgres", "template0", "template1"):
        raise NotOurs(f"refusing to use the database {name!r} for the benchmark")
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    return engine, name


def _pg_exists(engine, name: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        return found.first() is not None


def drop(url: str) -> bool:
    """Drop the benchmark database; False if there was none. Raises NotOurs for a foreign one."""
    url = normalise(url)
    if url.startswith("sqlite"):
        files = _sqlite_files(url)
        if not files[0].exists():
            return False
        if files[0].stat().st_size and not _has_marker(url):
            raise NotOurs(f"{files[0]} was not created by the benchmark (no {MARKER} table)")
        for file in files:
            file.unlink(missing_ok=True)
        return True
    if not url.startswith("postgresql"):
        raise NotOurs(f"unsupported database URL {url!r}")
    engine, name = _server(url)
    try:
        if not _pg_exists(engine, name):
            return False
        if not _has_marker(url):
            raise NotOurs(f"database {name!r} was not created by the benchmark (no {MARKER} table)")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        return True
    finally:
        engine.dispose()


def fresh(url: str) -> None:
    """An empty, marked benchmark database at ``url`` (an earlier one of ours is dropped first)."""
    url = normalise(url)
    drop(url)
    if url.startswith("postgresql"):
        engine, name = _server(url)
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
    else:
        _sqlite_files(url)[0].parent.mkdir(parents=True, exist_ok=True)
    _mark(url)


def analyze(url: str) -> None:
    """Fresh statistics after the bulk load (PostgreSQL)."""
    engine = create_engine(normalise(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("fresh", "drop"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[1] == "fresh":
            fresh(argv[2])
        else:
            drop(argv[2])
    except NotOurs as error:
        print(f"bench: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
