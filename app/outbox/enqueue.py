"""Writing mail: rendered in the recipient's language into the outbox table.

Nothing here talks to SMTP. The caller commits the outbox row together with
the change that caused it; :mod:`app.outbox.sender` delivers it later.
"""

from __future__ import annotations

from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from app.outbox.models import OutboxMessage


def enqueue(session: Session, kind: str, recipient: str, language: str, **context) -> OutboxMessage:
    """Render ``notify/<kind>.*`` in ``language`` and add it to the outbox (no commit)."""
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
    )
    session.add(message)
    return message
