"""Export jobs: exports too large for a web request, written by the scheduler into a file.

An export whose row count passes ``EXPORT_BACKGROUND_ROWS`` becomes a *queued* job; the
scheduler's "exports" job (``run_pending`` every few seconds, or ``flask --app app
exports run``) claims it under a lease, streams the rows from one SELECT into a file in
the instance folder (``EXPORT_FOLDER``, never under static) and records its progress.
Only the user who asked may download the file; job and file are removed after
``KEEP`` (a day). A runner that died is replaced once its lease has run out.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.common.models import utcnow
from app.transfer import exports
from app.transfer.jobs import worker_name
from app.transfer.models import ExportJob
from app.transfer.tables import iter_csv, iter_csv_text, write_xlsx_to

log = logging.getLogger(__name__)

#: Exports with more rows than this run in the background (``EXPORT_BACKGROUND_ROWS``).
BACKGROUND_ROWS = 50_000
#: Jobs and their files are removed this long after they were asked for.
KEEP = dt.timedelta(days=1)
#: A job whose runners died this often is given up.
MAX_ATTEMPTS = 3
#: Rows between two progress updates (each renews the lease).
PROGRESS_ROWS = 5_000


#: The export files in the folder (nothing else there is ever removed).
FILE_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx)(\.part)?")


class LostClaim(Exception):
    """Another runner has taken the job over (this one's lease ran out)."""


def background_rows() -> int:
    return max(1, int(current_app.config.get("EXPORT_BACKGROUND_ROWS", BACKGROUND_ROWS)))


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=max(1, int(current_app.config.get("EXPORT_LEASE_SECONDS", 120))))


def folder() -> Path:
    return Path(current_app.config.get("EXPORT_FOLDER") or Path(current_app.instance_path) / "exports")


def file_of(job: ExportJob) -> Path:
    return folder() / f"{job.token}.{job.format}"


def is_large(session: Session, kind: str, project_id: int | None = None) -> bool:
    """More rows than a web request should write (counted only up to the threshold)."""
    limit = background_rows()
    return exports.count_at_most(session, kind, limit, project_id) > limit


def create(session: Session, user_id: int, kind: str, fmt: str, project_id: int | None, locale: str) -> str:
    """A queued job; answers its token (that of the user's same export still waiting or
    running, so that a second click does not write the file twice)."""
    remove_stale(session)
    same = session.scalar(
        select(ExportJob.token).where(
            ExportJob.user_id == user_id,
            ExportJob.kind == kind,
            ExportJob.format == fmt,
            ExportJob.project_id.is_(None) if project_id is None else ExportJob.project_id == project_id,
            ExportJob.state.in_(("queued", "running")),
        )
    )
    if same:
        return same
    token = secrets.token_hex(16)
    session.add(
        ExportJob(token=token, user_id=user_id, kind=kind, format=fmt, project_id=project_id, locale=locale)
    )
    session.commit()
    return token


def find(session: Session, token: str, user_id: int) -> ExportJob | None:
    """The user's own job with this token (nobody else's)."""
    return session.scalar(select(ExportJob).where(ExportJob.token == token, ExportJob.user_id == user_id))


def recent(session: Session, user_id: int, limit: int = 10) -> list[ExportJob]:
    """The user's background exports of the last day, newest first (the way back to a file
    after leaving its progress page)."""
    return list(
        session.scalars(
            select(ExportJob)
            .where(ExportJob.user_id == user_id, ExportJob.created_at >= utcnow() - KEEP)
            .order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
            .limit(limit)
        )
    )


def remove_stale(session: Session, now: dt.datetime | None = None) -> int:
    """Remove jobs asked for more than ``KEEP`` ago, with their files; answers how many."""
    now = now or utcnow()
    stale = session.execute(
        select(ExportJob.id, ExportJob.token, ExportJob.format).where(ExportJob.created_at < now - KEEP)
    ).all()
    for job_id, token, fmt in stale:
        for path in (folder() / f"{token}.{fmt}", folder() / f"{token}.{fmt}.part"):
            path.unlink(missing_ok=True)
        session.execute(delete(ExportJob).where(ExportJob.id == job_id))  # the file first, then the row
    session.commit()
    # Files whose row went with its user or project (ON DELETE CASCADE).
    if folder().is_dir():
        cutoff = (now - KEEP).replace(tzinfo=dt.UTC).timestamp()
        for path in folder().iterdir():
            if FILE_NAME.fullmatch(path.name) and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
    return len(stale)


# ---------------------------------------------------------------- claiming


def _waiting(now: dt.datetime):
    return or_(
        ExportJob.state == "queued",
        (ExportJob.state == "running") & (ExportJob.lease_until < now),
    )


def claimable(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Queued jobs, and running ones whose runner's lease has run out, oldest first."""
    ids = list(session.scalars(select(ExportJob.id).where(_waiting(now or utcnow())).order_by(ExportJob.id)))
    session.rollback()
    return ids


def claim(session: Session, job_id: int, worker: str, now: dt.datetime | None = None) -> bool:
    """Take the job for ``worker``; only one of several runners gets it."""
    now = now or utcnow()
    result = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, _waiting(now))
        .values(
            state="running",
            claimed_by=worker,
            lease_until=utcnow() + lease(),
            attempts=ExportJob.attempts + 1,
            done=0,
            started_at=func.coalesce(ExportJob.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def run_pending(session: Session, now: dt.datetime | None = None) -> int:
    """Remove stale jobs, then claim and run every waiting one (the scheduler's poll)."""
    remove_stale(session, now)
    count = 0
    for job_id in claimable(session, now):
        worker = worker_name("export:")
        if claim(session, job_id, worker, now):
            run_claimed(session, job_id, worker)
            count += 1
    return count


# ---------------------------------------------------------------- running


def _renew(session: Session, job_id: int, worker: str, **values) -> None:
    """Extend the lease (and set ``values``) if the job is still this runner's, and commit."""
    result = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.state == "running", ExportJob.claimed_by == worker)
        .values(**{"lease_until": utcnow() + lease(), **values})
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount != 1:
        raise LostClaim(job_id)


def _counted(rows: Iterable[list], report) -> Iterator[list]:
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_ROWS == 0:
            report(done)


def run_claimed(session: Session, job_id: int, worker: str) -> str:
    """Write the file of a job this runner has claimed; answers its final state
    (``done``, ``failed``, or ``lost`` if another runner took it over)."""
    job = session.get(ExportJob, job_id)
    if job is None:
        session.rollback()
        return "lost"
    kind, fmt, project_id, locale, attempts = job.kind, job.format, job.project_id, job.locale, job.attempts
    target = file_of(job)
    session.rollback()
    part = target.with_name(target.name + ".part")
    # Progress goes through a connection of its own: the rows are read meanwhile.
    with Session(session.get_bind()) as progress:
        try:
            if attempts > MAX_ATTEMPTS:
                log.error("export job %s: given up after %d runners died", job_id, attempts - 1)
                _renew(progress, job_id, worker, state="failed", finished_at=utcnow(), lease_until=None)
                return "failed"
            _renew(progress, job_id, worker, total=exports.total(session, kind, project_id))
            target.parent.mkdir(parents=True, exist_ok=True)
            with force_locale(locale):
                header, rows = _rows(session, kind, project_id, fmt)
                counted = _counted(rows, lambda done: _renew(progress, job_id, worker, done=done))
                with open(part, "wb") as out:
                    if fmt == "xlsx":
                        write_xlsx_to(out, header, counted, kind)
                    else:
                        text = kind == "appointments"
                        for piece in (iter_csv_text if text else iter_csv)(header, counted):
                            out.write(piece)
            session.rollback()
            os.replace(part, target)
            count = progress.scalar(select(ExportJob.total).where(ExportJob.id == job_id))
            _renew(progress, job_id, worker, state="done", done=count, finished_at=utcnow(), lease_until=None)
            return "done"
        except LostClaim:
            session.rollback()
            part.unlink(missing_ok=True)
            log.warning("export job %s: taken over by another runner; %s stops", job_id, worker)
            return "lost"
        except Exception:
            session.rollback()
            progress.rollback()
            part.unlink(missing_ok=True)
            log.exception("export job %s failed", job_id)
            try:
                _renew(progress, job_id, worker, state="failed", finished_at=utcnow(), lease_until=None)
            except LostClaim:
                return "lost"
            return "failed"


def _rows(session: Session, kind: str, project_id: int | None, fmt: str):
    if kind == "appointments":
        if fmt == "csv":
            return exports.appointments_csv(session, project_id)
        return exports.appointments(session, project_id)
    return exports.EXPORTS[kind](session)
