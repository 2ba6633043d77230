"""Writing mail: rendered in the recipient's language into the outbox table.

Nothing here talks to SMTP. The caller commits the outbox row together with
the change that caused it; :mod:`app.outbox.sender` delivers it later.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from app.outbox.models import OutboxAttachment, OutboxMessage

#: An attachment: (file name, content type, bytes); the name is ASCII, made by the app.
Attachment = tuple[str, str, bytes]


def enqueue(
    session: Session,
    kind: str,
    recipient: str,
    language: str,
    attachments: Iterable[Attachment] = (),
    **context,
) -> OutboxMessage:
    """Render ``notify/<kind>.*`` in ``language`` and add it to the outbox (no commit),
    with ``attachments`` (sent base64-encoded, see :mod:`app.outbox.mime`)."""
    language = language if language in current_app.config["LANGUAGES"] else "de"
    with force_locale(language):
        subject = render_template(f"notify/{kind}.subject.txt", **context).strip()
        text = render_template(f"notify/{kind}.txt", **context)
        html = render_template(f"notify/{kind}.html", subject=subject, **context)
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "promoplan.local"
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        message_id=make_msgid(domain=domain),
        attachments=[
            OutboxAttachment(filename=_ascii_name(name), content_type=content_type, data=data)
            for name, content_type, data in attachments
        ],
    )
    session.add(message)
    return message


def _ascii_name(name: str) -> str:
    """A file name that needs no encoding in the MIME header (letters, digits, ``.-_``)."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in ".-_") else "_" for c in name)
    return cleaned.strip("._")[:100] or "attachment"
