"""Writing checked import rows (all or nothing), the pending imports between preview
and confirmation, and the background run of large imports."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crm.models import Company, Contact, Location, Territory
from app.planning.models import Appointment, Job
from app.transfer.importers import Lookup

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[0-9a-f]{32}")
#: Pending imports older than this are removed.
MAX_AGE_SECONDS = 24 * 3600


class ImportFailed(Exception):
    """The database refused the import; nothing was written. ``row`` is the file's row."""

    def __init__(self, row: int | None):
        super().__init__(f"import failed at row {row}")
        self.row = row


# ---------------------------------------------------------------- writing


def build_location(row: dict, ctx: dict) -> Location:
    return Location(
        name=row["name"],
        retail_chain=_named(ctx["companies"], row.get("retail_chain"), "retail_chain"),
        street=row["street"],
        postcode=row["postcode"],
        city=row["city"],
        federal_state=row["federal_state"],
        territory=_named(ctx["territories"], row.get("territory")),
    )


def build_contact(row: dict, ctx: dict) -> Contact:
    return Contact(
        company=_named(ctx["companies"], row["company"], "customer"),
        salutation=row.get("salutation"),
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row.get("email"),
        phone=row.get("phone"),
        position=row.get("position"),
        language=row.get("language") or "de",
        territories=[_named(ctx["territories"], name) for name in row.get("territories") or []],
    )


def build_appointment(row: dict, ctx: dict) -> Appointment:
    return Appointment(
        job_id=ctx["job_id"],
        date=dt.date.fromisoformat(row["date"]),
        start_time=dt.time.fromisoformat(row["start_time"]),
        end_time=dt.time.fromisoformat(row["end_time"]),
        note=row.get("note"),
        status="planned",
        origin="agency",
        created_by_id=ctx["user_id"],
        updated_by_id=ctx["user_id"],
    )


def _named(lookup: Lookup, name: str | None, prefer_kind: str | None = None):
    if not name:
        return None
    found = lookup.find(name)
    if len(found) > 1 and prefer_kind:
        found = [item for item in found if item.kind == prefer_kind] or found
    if len(found) != 1:
        raise LookupError(name)
    return found[0]


def write_rows(
    session: Session,
    kind: str,
    rows: list[dict],
    user_id: int | None,
    job_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create every row in one transaction; on any error roll back and raise ImportFailed."""
    builder = {"locations": build_location, "contacts": build_contact, "appointments": build_appointment}[
        kind
    ]
    batch = max(1, int(current_app.config.get("IMPORT_BATCH_SIZE", 200)))
    total = len(rows)
    row_number = None
    try:
        ctx = {
            "territories": Lookup(session.scalars(select(Territory))),
            "companies": Lookup(session.scalars(select(Company))),
            "job_id": job_id,
            "user_id": user_id,
        }
        if job_id is not None and session.get(Job, job_id) is None:
            raise LookupError(job_id)
        first_in_batch = rows[0]["row"] if rows else None
        for done, row in enumerate(rows, start=1):
            row_number = row["row"]
            if first_in_batch is None:
                first_in_batch = row_number
            session.add(builder(row, ctx))
            if done % batch == 0 or done == total:
                row_number = first_in_batch  # a flush fails for the batch, not one row
                session.flush()
                first_in_batch = None
                if progress:
                    progress(done, total)
        session.commit()
    except Exception as error:
        session.rollback()
        log.warning("import of %s failed at row %s: %r", kind, row_number, error)
        raise ImportFailed(row_number) from error
    return total


# ---------------------------------------------------------------- pending imports


def folder() -> Path:
    path = Path(current_app.config.get("IMPORT_FOLDER") or os.path.join(current_app.instance_path, "imports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(token: str, suffix: str) -> Path:
    if not TOKEN.fullmatch(token or ""):
        raise FileNotFoundError(token)
    return folder() / f"{token}{suffix}"


def remove_stale() -> None:
    limit = time.time() - MAX_AGE_SECONDS
    for path in folder().glob("*.json"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def save_pending(user_id: int, kind: str, rows: list[dict], job_id: int | None, filename: str) -> str:
    """Keep checked rows on the server until the user confirms; answers the token."""
    remove_stale()
    token = secrets.token_hex(16)
    data = {"user_id": user_id, "kind": kind, "job_id": job_id, "filename": filename, "rows": rows}
    path = _path(token, ".json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
    return token


def load_pending(token: str, user_id: int) -> dict | None:
    try:
        data = json.loads(_path(token, ".json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if data.get("user_id") == user_id else None


def claim_pending(token: str, user_id: int) -> dict | None:
    """Take the pending import for running; a second claim (double click) gets None."""
    data = load_pending(token, user_id)
    if data is None:
        return None
    try:
        _path(token, ".json").unlink()
    except FileNotFoundError:
        return None
    return data


def write_status(token: str, **status) -> None:
    path = _path(token, ".status.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status), encoding="utf-8")
    os.replace(tmp, path)


def read_status(token: str, user_id: int) -> dict | None:
    try:
        status = json.loads(_path(token, ".status.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return status if status.get("user_id") == user_id else None


# ---------------------------------------------------------------- large imports


def run_in_background(app: Flask, token: str, data: dict) -> threading.Thread:
    """Write the rows in a thread of this process; progress goes to the status file."""
    user_id = data["user_id"]
    total = len(data["rows"])
    base = {"user_id": user_id, "kind": data["kind"], "total": total}
    write_status(token, **base, state="running", done=0)

    def run() -> None:
        from app.extensions import db

        with app.app_context():
            try:
                write_rows(
                    db.session,
                    data["kind"],
                    data["rows"],
                    user_id,
                    data.get("job_id"),
                    progress=lambda done, _total: write_status(token, **base, state="running", done=done),
                )
            except ImportFailed as failed:
                write_status(token, **base, state="failed", done=0, row=failed.row)
            except Exception:  # noqa: BLE001 - the user must learn that it failed
                log.exception("background import failed")
                write_status(token, **base, state="failed", done=0, row=None)
            else:
                write_status(token, **base, state="done", done=total)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=f"import-{token[:8]}", daemon=True)
    thread.start()
    return thread
