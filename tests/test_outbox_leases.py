"""Exactly once, honestly: real sender processes, a slow SMTP server, and ``kill -9``.

The senders are ``flask --app app outbox send`` processes against the test
database, with a lease of one second (``OUTBOX_LEASE_SECONDS``) so that a dead
sender's mail is due again quickly; the SMTP server is aiosmtpd with its
default limits, slowed down or held at a chosen point of the conversation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update

from tests.smtp import Mailbox, SmtpServer
from tests.test_wizard import ROOT, high_water, remove_since, rows

LEASE = 0.6


@dataclass
class SlowMailbox(Mailbox):
    """Takes ``delay`` seconds per message; can hold the ``nth`` MAIL or DATA command until released."""

    delay: float = 0.0
    hold: str | None = None  # "MAIL" (before the message is accepted) or "DATA" (after it was stored)
    nth: int = 1
    seen: Counter = field(default_factory=Counter)
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def _maybe_hold(self, command: str) -> None:
        self.seen[command] += 1
        if self.hold == command and self.seen[command] == self.nth:
            self.reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        await self._maybe_hold("MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.accept(envelope.content)
        await self._maybe_hold("DATA")  # stored, the 250 not yet given
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.messages)


@pytest.fixture()
def tidy(app):
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"])))
    marks = high_water(app)
    yield marks
    remove_since(app, marks)


def serve(mailbox: SlowMailbox):
    server = SmtpServer(mailbox)
    server.start()
    return server


def queue(app, count: int) -> list[dict]:
    """``count`` due mails; their rows."""
    from app.common.models import utcnow
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    tag = time.time_ns()
    with app.app_context(), db.engine.begin() as conn:
        ids = [
            conn.execute(
                insert(OutboxMessage).values(
                    kind="lease",
                    recipient=f"filiale{i}@example.org",
                    language="de",
                    subject=f"Einsatzplan Lübeck-Buntekuh {i}",
                    body_text=f"Grüße aus der Planung, Nachricht {i}.\n",
                    body_html=f"<p>Grüße aus der Planung, Nachricht {i}.</p>",
                    message_id=f"<lease-{tag}-{i}@promoplan.local>",
                    status="pending",
                    attempts=0,
                    next_attempt_at=utcnow() - dt.timedelta(seconds=5),
                    created_at=utcnow(),
                )
            ).inserted_primary_key[0]
            for i in range(count)
        ]
    return [outbox_row(app, pk) for pk in ids]


def outbox_row(app, pk: int) -> dict:
    from app.outbox.models import OutboxMessage

    return rows(app, OutboxMessage, OutboxMessage.id == pk)[0]


SENDER = """
import os, pathlib, sys, time, traceback
from app import create_app
app = create_app()
go = pathlib.Path(sys.argv[1])
pathlib.Path(f"{go}.{os.getpid()}.ready").touch()
while not go.exists():
    time.sleep(0.02)
result = app.test_cli_runner().invoke(args=["outbox", "send", "--batch", "100"])
sys.stdout.write(result.output)
if result.exception is not None and not isinstance(result.exception, SystemExit):
    traceback.print_exception(result.exception)
    sys.exit(1)
sys.exit(result.exit_code)
"""


class Senders:
    """Real processes that each run ``outbox send`` once, started ahead and let go together."""

    def __init__(self, folder: Path, database_url: str, port: int) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            "OUTBOX_LEASE_SECONDS": str(LEASE),
            "OUTBOX_BACKOFF_SECONDS": "0",
            "OUTBOX_SMTP_TIMEOUT": "30",
        }
        self.rounds = 0

    def start(self, count: int = 1) -> tuple[Path, list[subprocess.Popen]]:
        """``count`` loaded processes waiting for their go file."""
        self.rounds += 1
        go = self.folder / f"go-{self.rounds}"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", SENDER, str(go)],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        deadline = time.monotonic() + 120
        while len(list(self.folder.glob(f"go-{self.rounds}.*.ready"))) < count:
            assert time.monotonic() < deadline, "sender processes did not start"
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
            time.sleep(0.05)
        return go, processes


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err[-3000:]
    return out


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_two_senders_and_a_slow_server_send_every_mail_once(app, tidy, database_url, tmp_path):
    """Each message takes three leases; the lease is renewed, so no sender takes another's mail."""
    mailbox = SlowMailbox(delay=3 * LEASE)
    server = serve(mailbox)
    try:
        queued = queue(app, 6)
        go, processes = Senders(tmp_path, database_url, server.port).start(2)
        go.touch()
        outputs = [finish(p) for p in processes]
    finally:
        server.stop()
    sent = [int(re.search(r"(\d+) sent, 0 to retry, 0 failed", out).group(1)) for out in outputs]
    assert sum(sent) == 6 and all(sent), outputs  # both worked, side by side
    assert mailbox.message_ids() == Counter({m["message_id"]: 1 for m in queued})
    for mail in queued:
        after = outbox_row(app, mail["id"])
        assert (after["status"], after["attempts"], after["claim_token"]) == ("sent", 1, None)


@contextmanager
def row_locked(app, pk: int) -> Iterator[None]:
    """Hold a write lock on the row (on SQLite: the database) so no sender can record an outcome."""
    from app.extensions import db
    from app.outbox.models import OutboxMessage

    with app.app_context(), db.engine.connect() as conn:
        conn.execute(
            update(OutboxMessage).where(OutboxMessage.id == pk).values(last_error=OutboxMessage.last_error)
        )
        try:
            yield
        finally:
            conn.rollback()


@contextmanager
def sending_to(app, server: SmtpServer) -> Iterator[None]:
    """This process's sender, with the subprocesses' settings."""
    from app.extensions import mail

    settings = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": server.port,
        "MAIL_SUPPRESS_SEND": False,
        "OUTBOX_LEASE_SECONDS": LEASE,
    }
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    mail.init_app(app)
    try:
        yield
    finally:
        app.config.update(saved)
        mail.init_app(app)


KILL_POINTS = {
    # point: (mails queued, SMTP command held, which one)
    "after the claim, before the server accepted the mail": (1, "MAIL", 1),
    "after the server accepted the mail, before it was marked sent": (1, "DATA", 1),
    "after the first mail was marked sent": (2, "MAIL", 2),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_sender_killed_at_any_point_loses_nothing(app, session, tidy, database_url, tmp_path, point):
    from app.outbox.sender import send_pending

    count, command, nth = KILL_POINTS[point]
    in_the_gap = command == "DATA"
    mailbox = SlowMailbox(hold=command, nth=nth)
    server = serve(mailbox)
    senders = Senders(tmp_path, database_url, server.port)
    try:
        queued = queue(app, count)
        first = queued[0]["id"]
        go, (process,) = senders.start()
        go.touch()
        assert mailbox.reached.wait(60), "the sender never reached the SMTP server"
        if in_the_gap:
            with row_locked(app, first):
                mailbox.release.set()  # the server answers 250: the mail is accepted
                time.sleep(1.0)  # the sender now waits to record "sent"
                kill(process)
        else:
            kill(process)
            mailbox.release.set()
        states = [outbox_row(app, m["id"])["status"] for m in queued]
        assert states == (["sent", "sending"] if count == 2 else ["sending"]), point

        # The dead sender's claim runs out after the lease; the next pass sends what is due.
        # The dead sender's claim runs out after the lease; the next pass (here: of this
        # process, the same code as the scheduler's) sends what is due.
        mailbox.hold = None
        time.sleep(LEASE)
        with sending_to(app, server):
            result = send_pending(session)
        assert (result.sent, result.retried, result.failed) == (count - (nth - 1), 0, 0)
    finally:
        mailbox.release.set()
        server.stop()

    for mail in queued:
        assert outbox_row(app, mail["id"])["status"] == "sent"
    received = mailbox.message_ids()
    if in_the_gap:
        # At least once: the one documented duplicate is the same message, Message-ID and all.
        assert received == Counter({queued[0]["message_id"]: 2})
        first_copy, second_copy = mailbox.raw
        assert first_copy == second_copy
        assert email.message_from_bytes(second_copy)["Message-ID"] == queued[0]["message_id"]
    else:
        assert received == Counter({m["message_id"]: 1 for m in queued})


def test_a_dead_senders_mail_is_due_again_within_two_minutes(app):
    """With the shipped settings: the lease runs out, and the scheduler's next outbox pass follows."""
    from app.scheduler import build_scheduler

    (outbox_job,) = [job for job in build_scheduler(app).get_jobs() if job.id == "outbox"]
    worst_case = dt.timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"]) + outbox_job.trigger.interval
    assert worst_case < dt.timedelta(minutes=2)
