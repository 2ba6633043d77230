"""Photos and files of reports: checked, cleaned, stored, and removed again.

:func:`store_upload` and :func:`remove_file` change rows but never commit; the views
reach them through :mod:`app.reporting.operations` (section "files"), which checks
who may change the report.

The bytes follow the transaction (no orphans, no dangling rows):

- bytes stored by :func:`store_upload` are deleted again when the transaction (or the
  savepoint they were stored in) ends without a commit — rollback, close, an error;
- bytes of a file removed by :func:`remove_file` are deleted only after the commit
  (a rollback keeps row and bytes).

Only a process that dies between storing and committing leaves unreferenced bytes
(their keys are random and nothing links to them); :func:`delete_orphans` sweeps them
(run it now and then, e.g. daily from the scheduler).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from app.models.reporting import Question, Report, ReportFile
from app.reporting.images import DEFAULT_MAX_MEGAPIXELS, CleanFile, UploadError, clean_upload
from app.reporting.storage import Storage, new_key, storage_for

__all__ = [
    "UploadError",
    "store_upload",
    "remove_file",
    "read_file",
    "delete_orphans",
    "file_limits",
    "request_size_limit",
]

log = logging.getLogger(__name__)

#: Question kinds that take uploads.
UPLOAD_KINDS = ("photo", "file")
#: Files per question (per group row) when the question sets no max_count.
DEFAULT_MAX_FILES = 20
#: Rows of a repeating group when the group sets no max_count.
DEFAULT_MAX_ROWS = 100
MB = 1024 * 1024

#: session.info keys: [(transaction, storage, key)] stored / to be deleted after commit.
_STORED = "report_files_stored"
_REMOVED = "report_files_removed"


def file_limits() -> tuple[int, int, float]:
    """(bytes per file, bytes per report, megapixels per image) from the configuration."""
    config = current_app.config
    return (
        int(float(config.get("REPORT_MAX_FILE_MB") or 15) * MB),
        int(float(config.get("REPORT_MAX_REPORT_MB") or 60) * MB),
        float(config.get("REPORT_MAX_MEGAPIXELS") or DEFAULT_MAX_MEGAPIXELS),
    )


def request_size_limit() -> int:
    """A bound for ``request.max_content_length`` of a view that takes uploads: one
    report's files plus one file and room for the form (werkzeug then answers 413
    instead of spooling a huge body to disk)."""
    max_file, max_report, _megapixels = file_limits()
    return max_report + max_file + MB


def _megabytes(size: int) -> str:
    """A size in MB for a message, in the user's number format (15, 0,5)."""
    from flask_babel import format_decimal

    value = round(size / MB, 2)
    try:
        return format_decimal(value)
    except Exception:  # no locale outside a request
        return f"{value:g}"


def upload_question(session: Session, report: Report, question_key: str, group_key: str | None) -> Question:
    """The photo or file question ``question_key`` of the report's questionnaire version."""
    question_key = str(question_key or "")
    if not question_key or len(question_key) > 60 or "\x00" in question_key:
        raise UploadError(_l("This question takes no photos or files."))
    question = session.scalar(
        select(Question).where(
            Question.version_id == report.questionnaire_version_id, Question.key == question_key
        )
    )
    if question is None or question.kind not in UPLOAD_KINDS:
        raise UploadError(_l("This question takes no photos or files."))
    parent_key = question.parent.key if question.parent is not None else None
    if parent_key != (group_key or None):
        raise UploadError(_l("This question takes no photos or files."))
    return question


def _read(upload, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the upload (a FileStorage, a file or bytes)."""
    if isinstance(upload, bytes | bytearray):
        return bytes(upload[: limit + 1])
    stream = getattr(upload, "stream", upload)
    if stream is None or not hasattr(stream, "read"):
        raise UploadError(_l("Please choose a file."))
    data = stream.read(limit + 1)
    return data if isinstance(data, bytes) else bytes(data or b"")


def safe_name(name: str | None) -> str | None:
    """The file name as sent, for display only: no folders, no control characters, ≤ 255."""
    if not name:
        return None
    name = re.split(r"[\\/]", str(name))[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    return name[:255] or None


def store_upload(
    session: Session,
    report: Report,
    question_key: str,
    upload,
    *,
    group_key: str | None = None,
    item: int = 0,
) -> ReportFile:
    """Check, clean and store one upload for a photo or file question of ``report``.

    Adds the :class:`ReportFile` row (flushed, not committed) and returns it. Raises
    :class:`UploadError` with a message for the user; nothing is stored then.
    """
    group_key = group_key or None
    question = upload_question(session, report, question_key, group_key)
    if not isinstance(item, int) or isinstance(item, bool) or item < 0:
        raise UploadError(_l("This question takes no photos or files."))
    if question.parent is None and item != 0:
        raise UploadError(_l("This question takes no photos or files."))
    if question.parent is not None and item >= (question.parent.max_count or DEFAULT_MAX_ROWS):
        raise UploadError(_l("This question takes no photos or files."))
    max_file, max_report, megapixels = file_limits()
    data = _read(upload, max_file)
    if len(data) > max_file:
        raise UploadError(_l("The file is too large (at most %(mb)s MB).", mb=_megabytes(max_file)))
    clean = clean_upload(data, question.kind, max_megapixels=megapixels)
    del data

    # one upload at a time per report (PostgreSQL): the counts below stay true until commit
    session.execute(select(Report.id).where(Report.id == report.id).with_for_update())
    same_place = (
        (ReportFile.report_id == report.id)
        & (ReportFile.question_key == question.key)
        & (ReportFile.item == item)
        & (ReportFile.group_key.is_(None) if group_key is None else ReportFile.group_key == group_key)
    )
    count = session.scalar(select(func.count(ReportFile.id)).where(same_place)) or 0
    max_count = question.max_count or DEFAULT_MAX_FILES
    if count >= max_count:
        raise UploadError(_l("At most %(count)d files for this question.", count=max_count))
    used = session.scalar(
        select(func.coalesce(func.sum(ReportFile.byte_size), 0)).where(ReportFile.report_id == report.id)
    )
    if int(used or 0) + len(clean.data) > max_report:
        raise UploadError(
            _l("The report's files would exceed %(mb)s MB together.", mb=_megabytes(max_report))
        )

    storage = storage_for(current_app)
    keys = _put(session, storage, clean)
    row = ReportFile(
        report_id=report.id,
        question_key=question.key,
        group_key=group_key or None,
        item=item,
        storage_key=keys[0],
        thumbnail_key=keys[1],
        content_type=clean.content_type,
        byte_size=len(clean.data),
        width=clean.width,
        height=clean.height,
        original_name=safe_name(getattr(upload, "filename", None)),
    )
    session.add(row)
    session.flush()
    return row


def _put(session: Session, storage: Storage, clean: CleanFile) -> tuple[str, str | None]:
    base = new_key()
    key = f"{base}.{clean.extension}"
    thumbnail_key = f"{base}-thumb.jpg" if clean.thumbnail is not None else None
    _remember(session, _STORED, storage, [k for k in (key, thumbnail_key) if k])
    storage.put(key, clean.data, clean.content_type)
    if thumbnail_key is not None:
        storage.put(thumbnail_key, clean.thumbnail, "image/jpeg")
    return key, thumbnail_key


def remove_file(session: Session, report_file: ReportFile) -> None:
    """Delete the row now and its bytes after the commit."""
    keys = [k for k in (report_file.storage_key, report_file.thumbnail_key) if k]
    _remember(session, _REMOVED, storage_for(current_app), keys)
    session.delete(report_file)
    session.flush()


def read_file(report_file: ReportFile, thumbnail: bool = False) -> bytes:
    """The stored bytes of a file (or of its thumbnail); KeyError if they are gone."""
    key = report_file.thumbnail_key if thumbnail else report_file.storage_key
    if not key:
        raise KeyError(report_file.id)
    return storage_for(current_app).open(key)


def delete_orphans(session: Session, storage: Storage | None = None, *, older_than: float = 24 * 3600) -> int:
    """Delete stored bytes that no report file refers to and that are older than
    ``older_than`` seconds (left by a process that died between storing and committing;
    younger ones may belong to a transaction still running). Returns how many."""
    storage = storage or storage_for(current_app)
    cutoff = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=older_than)
    deleted = 0
    batch: list[str] = []

    def sweep(keys: list[str]) -> int:
        plain = [key for key in keys if "/" not in key]
        used = set(session.scalars(select(ReportFile.storage_key).where(ReportFile.storage_key.in_(plain))))
        used |= set(
            session.scalars(select(ReportFile.thumbnail_key).where(ReportFile.thumbnail_key.in_(plain)))
        )
        count = 0
        for key in keys:
            if key in used:
                continue
            if "/" in key:  # a crashed local write's temporary file
                storage.delete_temporary(key)
            else:
                storage.delete(key)
            count += 1
        return count

    for key, modified in storage.list_keys():
        if modified < cutoff:
            batch.append(key)
        if len(batch) >= 500:
            deleted += sweep(batch)
            batch = []
    if batch:
        deleted += sweep(batch)
    return deleted


# -- the bytes follow the transaction ---------------------------------------


def _current_transaction(session: Session | scoped_session) -> SessionTransaction | None:
    if isinstance(session, scoped_session):
        session = session()
    return session.get_nested_transaction() or session.get_transaction()


def _remember(session: Session, name: str, storage: Storage, keys: list[str]) -> None:
    transaction = _current_transaction(session)
    session.info.setdefault(name, []).extend((transaction, storage, key) for key in keys)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _delete(entries) -> None:
    for _transaction, storage, key in entries:
        try:
            storage.delete(key)
        except Exception:  # the row is settled; a failed delete leaves an unreferenced file
            log.exception("could not delete stored report file %s", key)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_STORED, None)
    _delete(session.info.pop(_REMOVED, []))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint or the transaction rolled back: forget its removals, delete its new bytes."""
    for name, undo in ((_STORED, True), (_REMOVED, False)):
        entries = session.info.get(name)
        if not entries:
            continue
        gone = [entry for entry in entries if _within(entry[0], previous_transaction)]
        session.info[name] = [entry for entry in entries if entry not in gone]
        if undo:
            _delete(gone)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (close, rollback): same as a rollback."""
    if transaction.parent is not None:
        return
    _delete(session.info.pop(_STORED, []))
    session.info.pop(_REMOVED, None)
