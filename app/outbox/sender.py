"""Delivering the outbox over SMTP: claim one row, send it, record the outcome.

- **One row at a time, under a lease.** Just before each message the sender
  claims one due row in a single conditional UPDATE (status ``sending``, a
  fresh claim token, ``claimed_at`` = now). While the message is being sent a
  background thread renews ``claimed_at`` every third of
  ``OUTBOX_LEASE_SECONDS``, so the claim cannot expire while its sender is
  alive, however slow the SMTP server. (Only a database unreachable for
  longer than the lease stops the renewal; another sender may then take the
  row over, which is logged.) A row whose lease has run out (its sender died)
  is due again; the scheduler's next pass takes it up, within
  ``OUTBOX_LEASE_SECONDS`` plus one minute.
- **At least once, with a stable Message-ID.** A sender killed after the SMTP
  server accepted a message but before it recorded ``sent`` cannot know the
  outcome; the row is sent again after the lease, as the same bytes with the
  same Message-ID, by which mail services and programs that de-duplicate
  recognise it (README, "Mail and the scheduler").
- A permanent refusal (SMTP 5xx, an unusable address) marks the row
  ``failed``; anything else (connection refused, 4xx, time-outs) schedules
  another attempt with exponential backoff, up to ``OUTBOX_MAX_ATTEMPTS``.
- Without MAIL_SERVER, the same bytes are written as .eml files to
  MAIL_FOLDER (the demo's "mailbox") and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from email.errors import MessageError
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.common.models import utcnow
from app.outbox.mime import build_message, envelope_address
from app.outbox.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


@dataclass(frozen=True)
class Claim:
    """One row held by this sender: its id and the token that proves the hold."""

    row_id: int
    token: str


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, … times OUTBOX_BACKOFF_SECONDS (default a minute), at most 60 times."""
    base = current_app.config.get("OUTBOX_BACKOFF_SECONDS", 60)
    return dt.timedelta(seconds=base * min(2 ** max(attempts - 1, 0), 60))


def lease_seconds() -> float:
    return float(current_app.config.get("OUTBOX_LEASE_SECONDS", 30))


def _due(now: dt.datetime, lease: float):
    """Pending and due, or claimed by a sender whose lease ran out."""
    return ((OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now)) | (
        (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - dt.timedelta(seconds=lease))
    )


def claim_next(session: Session, lease: float, exclude: Collection[int] = ()) -> Claim | None:
    """Claim the oldest due row (not in ``exclude``) in one statement and commit; None if none is due.

    The outer condition is evaluated again on the locked row, so of two
    senders racing for the same row exactly one gets it (PostgreSQL also
    skips rows another sender is claiming at that moment).
    """
    now = utcnow()
    token = uuid.uuid4().hex
    oldest = select(OutboxMessage.id).where(_due(now, lease)).order_by(OutboxMessage.id).limit(1)
    if exclude:
        oldest = oldest.where(OutboxMessage.id.not_in(list(exclude)))
    if session.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    row_id = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == oldest.scalar_subquery(), _due(now, lease))
        .values(status="sending", claim_token=token, claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    session.commit()
    return Claim(row_id, token) if row_id is not None else None


class LeaseKeeper:
    """Renews a claim's lease from a background thread while the message is being sent."""

    def __init__(self, engine: Engine, claim: Claim, lease: float) -> None:
        self.engine = engine
        self.claim = claim
        self.interval = max(lease / 3, 0.1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"outbox-lease-{claim.row_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        update(OutboxMessage)
                        .where(
                            OutboxMessage.id == self.claim.row_id,
                            OutboxMessage.claim_token == self.claim.token,
                        )
                        .values(claimed_at=utcnow())
                    )
            except Exception:  # the next renewal tries again; the lease allows two misses
                log.warning("could not renew the lease of mail %s", self.claim.row_id, exc_info=True)


def _sender() -> str | tuple[str, str]:
    return current_app.config["MAIL_DEFAULT_SENDER"]


def _smtp() -> smtplib.SMTP:
    """A connection to MAIL_SERVER with a time-out on every socket operation."""
    config = current_app.config
    timeout = float(config.get("OUTBOX_SMTP_TIMEOUT", 60))
    factory = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    connection = factory(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS"):
            connection.starttls()
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        connection.close()
        raise
    return connection


def _suppressed() -> bool:
    """Flask-Mail's MAIL_SUPPRESS_SEND (on by default under TESTING): send nothing."""
    state = current_app.extensions.get("mail")
    return bool(getattr(state, "suppress", False))


def deliver(row_id: int, kind: str, recipient: str, message: EmailMessage) -> None:
    """Hand the message to SMTP, or write its bytes to MAIL_FOLDER without MAIL_SERVER."""
    data = message.as_bytes()
    if current_app.config.get("MAIL_SERVER"):
        if _suppressed():
            return
        connection = _smtp()
        try:
            connection.sendmail(envelope_address(_sender()), [recipient], data)
        finally:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()
        return
    folder = Path(current_app.config.get("MAIL_FOLDER") or Path(current_app.instance_path) / "mail")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row_id:06d}-{kind}.eml"
    path.write_bytes(data)
    log.info("mail to %s written to %s (no MAIL_SERVER configured)", recipient, path)


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, (ValueError, MessageError)):  # the message cannot be built
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _finish(session: Session, claim: Claim, **values) -> bool:
    """Record the outcome if this sender still holds the row; False if it lost the claim."""
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == claim.row_id, OutboxMessage.claim_token == claim.token)
        .values(claim_token=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not done:
        log.warning("mail %s: the claim was taken over before the outcome was recorded", claim.row_id)
    return bool(done)


def send_pending(session: Session, batch: int = 50) -> PassResult:
    """One delivery pass: claim, send and record up to ``batch`` due rows, one after another."""
    result = PassResult()
    max_attempts = current_app.config.get("OUTBOX_MAX_ATTEMPTS", 10)
    lease = lease_seconds()
    engine = session.get_bind()
    seen: list[int] = []  # a row retried in this pass waits for the next one
    for _ in range(batch):
        claim = claim_next(session, lease, seen)
        if claim is None:
            break
        seen.append(claim.row_id)
        item = session.get(OutboxMessage, claim.row_id, populate_existing=True)
        if item is None:  # deleted in the meantime
            continue
        kind, recipient, attempts = item.kind, item.recipient, item.attempts
        try:
            message = build_message(item, _sender())
            session.commit()  # no transaction stays open while SMTP is slow
            with LeaseKeeper(engine, claim, lease):
                deliver(claim.row_id, kind, recipient, message)
        except Exception as error:  # every failure is recorded on the row
            session.rollback()
            last_error = f"{type(error).__name__}: {error}"[:2000]
            if _is_permanent(error) or attempts >= max_attempts:
                _finish(session, claim, status="failed", last_error=last_error)
                result.failed += 1
                log.warning("mail %s to %s failed for good: %s", claim.row_id, recipient, last_error)
            else:
                retry_at = utcnow() + backoff(attempts)
                _finish(session, claim, status="pending", next_attempt_at=retry_at, last_error=last_error)
                result.retried += 1
                log.info("mail %s to %s will be retried: %s", claim.row_id, recipient, last_error)
        else:
            _finish(session, claim, status="sent", sent_at=utcnow(), last_error=None)
            result.sent += 1
    return result
