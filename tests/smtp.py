"""A real SMTP server on loopback (aiosmtpd) for mail tests."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """What the server accepted; recipients in ``refuse`` get a permanent 550."""

    messages: list[Message] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.accept(envelope.content)
        return "250 Message accepted for delivery"

    def accept(self, content: bytes) -> None:
        self.raw.append(content)
        self.messages.append(email.message_from_bytes(content))

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address.lower() in m["To"].lower()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd with its default limits (lines of at most 998 octets, 32 MiB a message)."""

    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.port = free_port()
        self.mailbox = mailbox or Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture()
def smtp_server(app) -> Iterator[SmtpServer]:
    """A started SMTP server, with the app's mail settings pointing at it."""
    from app.extensions import mail

    server = SmtpServer()
    server.start()
    keys = ("MAIL_SERVER", "MAIL_PORT", "OUTBOX_BACKOFF_SECONDS", "MAIL_SUPPRESS_SEND")
    saved = {key: app.config.get(key) for key in keys}
    # Flask-Mail suppresses sending in TESTING mode unless told otherwise.
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, OUTBOX_BACKOFF_SECONDS=0, MAIL_SUPPRESS_SEND=False
    )
    mail.init_app(app)
    try:
        yield server
    finally:
        server.stop()
        app.config.update(saved)
        mail.init_app(app)


def body_text(message: Message) -> str:
    """The plain-text part of a mail, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


def subject(message: Message) -> str:
    decoded = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    return " ".join(decoded.split())
