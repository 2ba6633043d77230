"""Helpers shared by the models of every feature package."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine


def utcnow() -> datetime:
    """Naive UTC timestamp (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def blank_to_none(value):
    """Forms submit '' for an empty field; store NULL so unique-when-set works."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Enforce foreign keys on SQLite; let readers and one writer work side by side
    (WAL) and let writers wait for each other instead of failing ("database is locked")."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def discard_unsaved(session, item, *relations: str) -> None:
    """Forget a filled-in, never saved ``item`` (a form's or a JSON body's row that a
    workflow operation creates itself): unlink it from its related rows' collections
    and take it out of the session, so that no flush inserts it."""
    for name in relations:
        setattr(item, name, None)
    if item in session:
        session.expunge(item)
