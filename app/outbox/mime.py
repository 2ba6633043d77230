"""Outbox rows as MIME messages that every RFC-conforming SMTP server accepts.

- Bodies are quoted-printable, so no line exceeds 76 characters whatever the
  text (RFC 5321 allows 998 octets; long HTML tables and notes used to exceed it).
- Subject and the sender's display name are written as RFC 2047 encoded words
  of whole characters when they are not short plain ASCII: decoders join
  adjacent encoded words without a space, so the subject decodes to exactly the
  stored text (the standard library's folder can drop or insert a space where
  it folds between an encoded and a plain word).
- Attachments are base64 (lines of 76 characters) with an ASCII file name.
- The Date header is the row's creation time and the MIME boundary is derived
  from the Message-ID, so a repeated delivery of the same row is byte for byte
  the same message with the same Message-ID.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import hashlib
import re
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from app.outbox.models import OutboxMessage

#: The policy of every outgoing message: CRLF line ends, lines folded at 78.
POLICY = email.policy.SMTP
#: UTF-8 octets per encoded word: 39 octets are 52 base64 characters, 64 with
#: ``=?utf-8?b?…?=`` — a line of ``Subject: `` plus one word stays under 78.
_WORD_OCTETS = 39
#: A display name gets the longest word RFC 2047 allows (75 characters): some
#: parsers put a space between adjacent encoded words in a name, so fewer is better.
_NAME_OCTETS = 45
_LINE = 78
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


def encoded_words(text: str, size: int = _WORD_OCTETS) -> list[str]:
    """``text`` as base64 encoded words of at most ``size`` octets, each holding whole characters."""
    words: list[str] = []
    chunk = b""
    for char in text:
        octets = char.encode("utf-8", errors="replace")
        if chunk and len(chunk) + len(octets) > size:
            words.append(_word(chunk))
            chunk = b""
        chunk += octets
    if chunk:
        words.append(_word(chunk))
    return words


def _word(octets: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(octets).decode('ascii')}?="


def _plain(text: str, room: int) -> bool:
    """Can ``text`` stand in the header as it is (short printable ASCII, nothing to decode)?"""
    return (
        text.isascii()
        and text.isprintable()
        and "=?" not in text
        and "  " not in text
        and text == text.strip()
        and len(text) <= room
    )


def fold(name: str, tokens: list[str]) -> str:
    """Join ``tokens`` with spaces into header lines of at most 78 characters (value only)."""
    lines: list[str] = []
    line = ""
    room = _LINE - len(name) - 2  # "Name: " on the first line
    for token in tokens:
        if line and len(line) + 1 + len(token) > room:
            lines.append(line)
            line, room = "", _LINE - 1  # continuation lines start with a space
        line = f"{line} {token}" if line else token
    lines.append(line)
    return "\n ".join(lines)


def header_text(name: str, text: str) -> str:
    """A header value for ``text`` that decodes to exactly ``text`` (line breaks become spaces)."""
    text = re.sub(r"[\r\n\t]+", " ", text).strip()
    if _plain(text, _LINE - len(name) - 2):
        return text
    return fold(name, encoded_words(text))


def address_header(name: str, value: str | tuple[str, str]) -> str:
    """``Display Name <addr>`` with the name encoded where needed; the address as it is."""
    display, addr = value if isinstance(value, tuple) else parseaddr(value)
    if not addr or any(c in addr for c in "\r\n<>") or not addr.isascii():
        raise ValueError(f"not a usable mail address: {value!r}")
    display = re.sub(r"[\r\n\t]+", " ", display or "").strip()
    if not display:
        return addr
    if (
        display.isascii()
        and all(_ATOM.fullmatch(part) for part in display.split(" "))
        and "=?" not in display
    ):
        tokens = display.split(" ")
    elif display.isascii() and display.isprintable() and "=?" not in display:
        escaped = display.replace("\\", "\\\\").replace('"', '\\"')
        tokens = [f'"{escaped}"']
    else:
        tokens = encoded_words(display, _NAME_OCTETS)
    return fold(name, [*tokens, f"<{addr}>"])


def build_message(item: OutboxMessage, sender: str | tuple[str, str]) -> EmailMessage:
    """The MIME message of an outbox row: text, HTML as the alternative if there is one, and
    the row's attachments (multipart/mixed)."""
    message = EmailMessage(policy=POLICY)
    # set_raw keeps these values as folded here; the policy leaves lines under 78 alone.
    message.set_raw("From", address_header("From", sender))
    message.set_raw("To", address_header("To", item.recipient))
    message.set_raw("Subject", header_text("Subject", item.subject))
    created = (item.created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)).replace(tzinfo=dt.UTC)
    message.set_raw("Date", format_datetime(created))
    message.set_raw("Message-ID", item.message_id)
    message.set_raw("Auto-Submitted", "auto-generated")
    message.set_content(item.body_text or "", subtype="plain", charset="utf-8", cte="quoted-printable")
    if item.body_html:
        message.add_alternative(item.body_html, subtype="html", charset="utf-8", cte="quoted-printable")

    for attachment in getattr(item, "attachments", ()):
        maintype, _, subtype = attachment.content_type.partition("/")
        # base64 in lines of 76 characters; the name is ASCII (see enqueue)
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    if message.is_multipart():
        # "=_" never occurs in quoted-printable or base64 text, so the boundaries cannot
        # clash with a body; derived from the Message-ID, a repeated delivery is the
        # same bytes.
        digest = hashlib.sha256(item.message_id.encode("utf-8")).hexdigest()[:32]
        for number, part in enumerate(p for p in message.walk() if p.is_multipart()):
            part.set_boundary(f"=_promoplan_{digest}" + (f"_{number}" if number else ""))
    return message


def envelope_address(sender: str | tuple[str, str]) -> str:
    """The bare address for SMTP's MAIL FROM."""
    return sender[1] if isinstance(sender, tuple) else parseaddr(sender)[1]
