"""Delivering the outbox over SMTP: claim, send, record; retry with backoff.

- Rows are claimed (status ``sending`` + a claim token) in their own short
  transaction before anything is sent, so concurrent senders never pick the
  same row.
- A permanent refusal (SMTP 5xx) marks the row ``failed``; anything else
  (connection refused, 4xx, time-outs) schedules another attempt with
  exponential backoff, up to ``OUTBOX_MAX_ATTEMPTS``.
- Without MAIL_SERVER, mails are written as .eml files to MAIL_FOLDER (the
  demo's "mailbox") and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_mail import Message
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.common.models import utcnow
from app.extensions import mail
from app.notify.models import OutboxMessage

log = logging.getLogger(__name__)

#: A row left in "sending" this long (a sender died) is taken up again.
STALE_CLAIM = dt.timedelta(minutes=10)


@dataclass
class PassResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, … times OUTBOX_BACKOFF_SECONDS (default a minute), at most 60 times."""
    base = current_app.config.get("OUTBOX_BACKOFF_SECONDS", 60)
    return dt.timedelta(seconds=base * min(2 ** max(attempts - 1, 0), 60))


def _claim(session: Session, batch: int) -> tuple[str, list[int]]:
    now = utcnow()
    token = uuid.uuid4().hex
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - STALE_CLAIM),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        session.commit()
        return token, []
    # The status condition makes the claim atomic also where SKIP LOCKED does not exist.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .where(
            or_(
                OutboxMessage.status == "pending",
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - STALE_CLAIM),
            )
        )
        .values(status="sending", claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    claimed = list(
        session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.claim_token == token).order_by(OutboxMessage.id)
        )
    )
    return token, claimed


def _deliver(item: OutboxMessage) -> None:
    message = Message(
        subject=item.subject,
        recipients=[item.recipient],
        body=item.body_text,
        html=item.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    message.msgId = item.message_id
    if current_app.config.get("MAIL_SERVER"):
        mail.send(message)
        return
    folder = Path(current_app.config.get("MAIL_FOLDER") or Path(current_app.instance_path) / "mail")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{item.id:06d}-{item.kind}.eml"
    path.write_bytes(message.as_bytes())
    log.info("mail to %s written to %s (no MAIL_SERVER configured)", item.recipient, path)


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def send_pending(session: Session, batch: int = 50) -> PassResult:
    """One delivery pass over the due outbox rows."""
    result = PassResult()
    max_attempts = current_app.config.get("OUTBOX_MAX_ATTEMPTS", 10)
    token, ids = _claim(session, batch)
    for message_id in ids:
        item = session.get(OutboxMessage, message_id)
        if item is None or item.claim_token != token:
            continue
        item.attempts += 1
        try:
            _deliver(item)
        except Exception as error:  # every failure is recorded on the row
            item.last_error = f"{type(error).__name__}: {error}"[:2000]
            item.claim_token = None
            if _is_permanent(error) or item.attempts >= max_attempts:
                item.status = "failed"
                result.failed += 1
                log.warning("mail %s to %s failed for good: %s", item.id, item.recipient, item.last_error)
            else:
                item.status = "pending"
                item.next_attempt_at = utcnow() + backoff(item.attempts)
                result.retried += 1
                log.info("mail %s to %s will be retried: %s", item.id, item.recipient, item.last_error)
        else:
            item.status = "sent"
            item.sent_at = utcnow()
            item.last_error = None
            result.sent += 1
        session.commit()
    return result
