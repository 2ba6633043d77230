"""Import jobs: from the preview to the last written row, kept in the database.

An upload that passes the check becomes a *pending* job (its checked rows as JSON);
the user's confirmation makes it *queued*. Small imports are then run at once by the
web request, large ones by the scheduler process (``run_pending`` every few seconds,
or ``flask --app app imports run``). Every web host reads the progress from the row.

Writing, on SQLite as on PostgreSQL:

- Everything is checked first, against the database as it is when the run starts.
- The rows are written in chunks (``IMPORT_BATCH_SIZE``), each in a short transaction of
  its own, so that other users' writes never wait long for SQLite's one write lock.
  A chunk's transaction also renews the runner's lease, advances ``done`` and records
  the new rows' ids in ``import_written_row``: progress and data are committed together.
  On SQLite the runner also pauses between chunks while others want to write (``_turns``).
- If a chunk fails (the database refuses a row), the rows written so far are deleted
  again, by their recorded ids, and the job is *failed*: from the user's view nothing
  was imported. Until the job has finished, its rows are visible to others as they
  are written (the price of not holding one long write transaction).
- A runner holds its claim for ``IMPORT_LEASE_SECONDS`` and renews it with every chunk.
  If it dies, another runner takes the job over once the lease has run out and resumes
  after the last committed chunk. A runner that lost its claim cannot commit another
  chunk (the renewal in the chunk's transaction fails), so no row is written twice.
  Leases compare the clocks of the hosts involved; keep them synchronised (NTP).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app, g
from flask_appbuilder.security.sqla.models import User
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.changes.operations import appointments_planned
from app.common.models import utcnow
from app.models.crm import Contact, Location
from app.models.planning import Appointment, Job
from app.transfer import importers, services
from app.transfer.importers import RowError
from app.transfer.models import ImportJob, ImportWrittenRow
from app.transfer.tables import FileProblem

log = logging.getLogger(__name__)

MODELS = {"locations": Location, "contacts": Contact, "appointments": Appointment}
#: Previewed but unconfirmed imports are removed after this; finished ones after KEEP_FINISHED.
PENDING_LIFETIME = dt.timedelta(hours=24)
KEEP_FINISHED = dt.timedelta(days=30)
#: On SQLite, how many pauses in a row a runner grants others between two chunks.
MAX_YIELDS = 20
#: A job whose runners died this often (e.g. a file too large for the machine) is given up.
MAX_ATTEMPTS = 3


class LostClaim(Exception):
    """Another runner has taken the job over (this one's lease ran out)."""


def _setting(name: str, default: int) -> int:
    return max(1, int(current_app.config.get(name, default)))


def batch_size() -> int:
    return _setting("IMPORT_BATCH_SIZE", 500)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("IMPORT_LEASE_SECONDS", 60))


def worker_name(prefix: str = "") -> str:
    """Who runs a job: host, process and a random part per run."""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:100]


# ---------------------------------------------------------------- from preview to queue


def create(
    session: Session, user_id: int, kind: str, rows: list[dict], job_id: int | None, filename: str
) -> str:
    """A pending job with the checked rows; answers its token."""
    remove_stale(session)
    token = secrets.token_hex(16)
    session.add(
        ImportJob(
            token=token,
            user_id=user_id,
            kind=kind,
            job_id=job_id,
            filename=(filename or "")[:255] or None,
            state="pending",
            total=len(rows),
            rows=json.dumps(rows),
        )
    )
    session.commit()
    return token


def find(session: Session, token: str, user_id: int) -> ImportJob | None:
    """The user's own job with this token (nobody else's)."""
    return session.scalar(select(ImportJob).where(ImportJob.token == token, ImportJob.user_id == user_id))


def confirm(session: Session, token: str, user_id: int, locale: str, worker: str | None = None) -> bool:
    """Pending → queued, or straight to running for ``worker``; False if it was confirmed
    before (a double click) or has expired."""
    values: dict = {"state": "queued", "locale": locale}
    if worker:
        now = utcnow()
        values.update(
            state="running", claimed_by=worker, lease_until=now + lease(), attempts=1, started_at=now
        )
    result = session.execute(
        update(ImportJob)
        .where(
            ImportJob.token == token,
            ImportJob.user_id == user_id,
            ImportJob.state == "pending",
            ImportJob.claimed_by.is_(None),  # not a kept upload (see keep_upload)
            ImportJob.created_at > utcnow() - PENDING_LIFETIME,
        )
        .values(**values)
    )
    session.commit()
    return result.rowcount == 1


#: ``claimed_by`` of a pending job that holds an uploaded file, not checked rows.
KEPT_UPLOAD = "kept-upload"


def keep_upload(session: Session, user_id: int, kind: str, filename: str, data: bytes) -> str:
    """Keep an uploaded file after a refused form (a pending job that cannot be confirmed),
    so that the user can correct the choice without choosing the file again; its token."""
    remove_stale(session)
    token = secrets.token_hex(16)
    session.add(
        ImportJob(
            token=token,
            user_id=user_id,
            kind=kind,
            filename=(filename or "")[:255] or None,
            state="pending",
            claimed_by=KEPT_UPLOAD,
            total=0,
            rows=base64.b64encode(data).decode("ascii"),
        )
    )
    session.commit()
    return token


def kept_upload(session: Session, token: str, user_id: int) -> tuple[str, bytes] | None:
    """File name and content of the user's kept upload (None if unknown or expired)."""
    job = session.scalar(
        select(ImportJob).where(
            ImportJob.token == token,
            ImportJob.user_id == user_id,
            ImportJob.state == "pending",
            ImportJob.claimed_by == KEPT_UPLOAD,
            ImportJob.created_at > utcnow() - PENDING_LIFETIME,
        )
    )
    if job is None:
        return None
    return job.filename or "", base64.b64decode(job.rows or "")


def drop_upload(session: Session, token: str, user_id: int) -> None:
    """Forget a kept upload (its file was checked successfully or replaced)."""
    session.execute(
        delete(ImportJob).where(
            ImportJob.token == token, ImportJob.user_id == user_id, ImportJob.claimed_by == KEPT_UPLOAD
        )
    )
    session.commit()


def remove_stale(session: Session) -> None:
    now = utcnow()
    session.execute(
        delete(ImportJob).where(
            or_(
                (ImportJob.state == "pending") & (ImportJob.created_at < now - PENDING_LIFETIME),
                ImportJob.state.in_(["done", "failed"]) & (ImportJob.finished_at < now - KEEP_FINISHED),
            )
        )
    )


# ---------------------------------------------------------------- claiming


def claimable(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Queued jobs, and running ones whose runner's lease has run out (it died), oldest first."""
    now = now or utcnow()
    stmt = (
        select(ImportJob.id)
        .where(
            or_(
                ImportJob.state == "queued",
                (ImportJob.state == "running") & (ImportJob.lease_until < now),
            )
        )
        .order_by(ImportJob.id)
    )
    ids = list(session.scalars(stmt))
    session.rollback()
    return ids


def claim(session: Session, job_id: int, worker: str, now: dt.datetime | None = None) -> bool:
    """Take the job for ``worker``; only one of several runners gets it."""
    now = now or utcnow()
    result = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            or_(
                ImportJob.state == "queued",
                (ImportJob.state == "running") & (ImportJob.lease_until < now),
            ),
        )
        .values(
            state="running",
            claimed_by=worker,
            lease_until=utcnow() + lease(),
            attempts=ImportJob.attempts + 1,
            started_at=func.coalesce(ImportJob.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def run_pending(session: Session, now: dt.datetime | None = None) -> int:
    """Claim and run every job that is waiting (the scheduler's poll); answers how many ran."""
    count = 0
    for job_id in claimable(session, now):
        worker = worker_name()
        if claim(session, job_id, worker, now):
            run_claimed(session, job_id, worker)
            count += 1
    return count


# ---------------------------------------------------------------- running


def run_claimed(session: Session, job_id: int, worker: str) -> str:
    """Check and write a job this runner has claimed; answers its final state
    (``done``, ``failed``, or ``lost`` if another runner took it over)."""
    job = session.get(ImportJob, job_id)
    if job is None:  # deleted meanwhile (with its user or its planning job)
        session.rollback()
        return "lost"
    kind, user_id, planning_job_id, start = job.kind, job.user_id, job.job_id, job.done
    if job.attempts > MAX_ATTEMPTS:
        log.error("import job %s: given up after %d runners died", job_id, job.attempts - 1)
        return _fail(session, job_id, worker)
    rows = json.loads(job.rows or "[]")
    locale = job.locale
    session.rollback()
    try:
        with force_locale(locale), _acting_as(session, user_id):
            if start < len(rows):
                checked = _check_again(session, kind, rows[start:], planning_job_id)
                if checked.errors:
                    return _fail(session, job_id, worker, errors=checked.errors)
                _write(session, job_id, worker, kind, checked.rows, user_id, planning_job_id, start)
        return _finish(session, job_id, worker, kind)
    except LostClaim:
        session.rollback()
        log.warning("import job %s: taken over by another runner; %s stops", job_id, worker)
        return "lost"
    except _ChunkFailed as failed:
        return _fail(session, job_id, worker, failed_row=failed.row)
    except Exception:
        session.rollback()
        log.exception("import job %s failed", job_id)
        return _fail(session, job_id, worker)


@contextmanager
def _acting_as(session: Session, user_id: int | None) -> Iterator[None]:
    """Outside a request, the job's user is who the audit trail names."""
    if g.get("user") is not None or user_id is None:
        yield
        return
    g.user = session.get(User, user_id)
    try:
        yield
    finally:
        g.pop("user", None)


def _check_again(session: Session, kind: str, rows: list[dict], planning_job_id: int | None):
    """Since the preview, another user may have changed what the rows refer to."""
    try:
        job = session.get(Job, planning_job_id) if planning_job_id else None
        if kind == "appointments" and job is None:
            raise FileProblem(_("Please choose the job the appointments belong to."))
        return importers.check(kind, importers.stored_table(kind, rows), session, job)
    except FileProblem as problem:
        return importers.Checked(kind, errors=[RowError(0, "", str(problem.message))])
    finally:
        session.rollback()


class _ChunkFailed(Exception):
    def __init__(self, row: int):
        super().__init__(f"chunk from row {row} failed")
        self.row = row


def _chunks(items: list, size: int) -> Iterator[list]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def _renew(session: Session, job_id: int, worker: str, **values) -> None:
    """In the caller's transaction: extend the lease (and set ``values``) if the job is still
    this runner's, else raise LostClaim. On SQLite this also takes the write lock first."""
    with session.no_autoflush:  # a chunk's new objects are added after this
        result = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "running", ImportJob.claimed_by == worker)
            .values(**{"lease_until": utcnow() + lease(), **values})
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:
        raise LostClaim(job_id)


def _write(
    session: Session,
    job_id: int,
    worker: str,
    kind: str,
    rows: list[dict],
    user_id: int | None,
    planning_job_id: int | None,
    done: int,
) -> None:
    build = services.builder(kind)
    ctx = services.context(session, user_id, planning_job_id)
    session.rollback()
    with _turns(session) as wait_for_others:
        for chunk in _chunks(rows, batch_size()):
            try:
                objects = [build(row, ctx) for row in chunk]
                _renew(session, job_id, worker, done=done + len(chunk))
                session.add_all(objects)
                session.flush()
                session.execute(
                    insert(ImportWrittenRow),
                    [{"import_job_id": job_id, "row_id": obj.id} for obj in objects],
                )
                session.commit()
            except LostClaim:
                raise
            except Exception as error:
                session.rollback()
                log.warning("import job %s: chunk from row %s failed: %r", job_id, chunk[0]["row"], error)
                raise _ChunkFailed(chunk[0]["row"]) from error
            done += len(chunk)
            wait_for_others()


@contextmanager
def _turns(session: Session) -> Iterator[Callable[[], None]]:
    """Between two chunks on SQLite, let the others write first.

    SQLite has one write lock, and a writer that waits for it polls (at most every 100 ms)
    instead of queueing: a runner that takes the lock again right after its commit would
    starve everybody else past the busy timeout. So after each chunk it pauses a little
    longer than that, and again while others keep committing (``PRAGMA data_version``
    changes with every commit of another connection), at most ``MAX_YIELDS`` times in a row.
    """
    pause = float(current_app.config.get("IMPORT_PAUSE_SECONDS", 0.12))
    if session.get_bind().dialect.name != "sqlite" or pause <= 0:
        yield lambda: None
        return
    with session.get_bind().connect() as probe:

        def version() -> int:
            return probe.exec_driver_sql("PRAGMA data_version").scalar_one()

        def wait_for_others() -> None:
            seen = version()
            for _round in range(MAX_YIELDS):
                time.sleep(pause)
                now = version()
                if now == seen:
                    return
                seen = now

        yield wait_for_others


def _finish(session: Session, job_id: int, worker: str, kind: str) -> str:
    now = utcnow()
    if kind == "appointments":
        _tell_planned(session, job_id)
    _renew(session, job_id, worker, state="done", rows=None, finished_at=now, lease_until=None)
    session.commit()
    _forget_written(session, job_id)
    return "done"


def _tell_planned(session: Session, job_id: int) -> None:
    """The imported appointments are newly planned: told like the generator's (one mail per
    contact for each batch), only once the whole import has succeeded (no commit)."""
    ids = list(
        session.scalars(select(ImportWrittenRow.row_id).where(ImportWrittenRow.import_job_id == job_id))
    )
    for start in range(0, len(ids), 10 * batch_size()):
        batch = ids[start : start + 10 * batch_size()]
        appointments = session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(batch))
            .order_by(Appointment.date, Appointment.start_time)
        ).all()
        appointments_planned(session, list(appointments))


def _fail(
    session: Session,
    job_id: int,
    worker: str,
    failed_row: int | None = None,
    errors: list[RowError] | None = None,
) -> str:
    """Remove what the job wrote and mark it failed; ``done`` says how many rows could not
    be removed because somebody used them meanwhile (normally none)."""
    session.rollback()
    try:
        _renew(session, job_id, worker)
        session.commit()
        kept = _remove_written(session, job_id)
        _renew(
            session,
            job_id,
            worker,
            state="failed",
            done=kept,
            failed_row=failed_row,
            errors=json.dumps([[e.row, e.column, e.message] for e in errors]) if errors else None,
            rows=None,
            finished_at=utcnow(),
            lease_until=None,
        )
        session.commit()
    except LostClaim:
        session.rollback()
        return "lost"
    return "failed"


def _written_ids(session: Session, job_id: int, limit: int) -> list[int]:
    stmt = (
        select(ImportWrittenRow.row_id)
        .where(ImportWrittenRow.import_job_id == job_id)
        .order_by(ImportWrittenRow.row_id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _unlink(session: Session, job_id: int, ids: list[int]) -> None:
    session.execute(
        delete(ImportWrittenRow).where(
            ImportWrittenRow.import_job_id == job_id, ImportWrittenRow.row_id.in_(ids)
        )
    )


def _remove_written(session: Session, job_id: int) -> int:
    """Delete the job's rows in short transactions (the audit trail records each); answers
    how many had to stay because other rows refer to them now."""
    model = MODELS[session.get(ImportJob, job_id).kind]
    session.rollback()
    kept = 0
    with _turns(session) as wait_for_others:
        while ids := _written_ids(session, job_id, batch_size()):
            try:
                session.execute(
                    delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
                )
                _unlink(session, job_id, ids)
                session.commit()
                wait_for_others()
                continue
            except IntegrityError:
                session.rollback()
            for one in ids:  # somebody used a row meanwhile: remove the others one by one
                try:
                    session.execute(
                        delete(model).where(model.id == one).execution_options(synchronize_session=False)
                    )
                except IntegrityError:
                    session.rollback()
                    kept += 1
                _unlink(session, job_id, [one])
                session.commit()
    return kept


def _forget_written(session: Session, job_id: int) -> None:
    """The finished job's record of its rows, in short transactions."""
    with _turns(session) as wait_for_others:
        while ids := _written_ids(session, job_id, 10 * batch_size()):
            _unlink(session, job_id, ids)
            session.commit()
            wait_for_others()
