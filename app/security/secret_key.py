"""The keys that sign sessions (SECRET_KEY) and API tokens (JWT_SECRET_KEY): never a public default.

- SECRET_KEY set: used as it is (a known placeholder or a short key stops the start).
- SECRET_KEY not set at all: a random key is created once in the instance folder
  (file ``secret_key``, mode 0600) and read by every later start, every worker
  and every command of this installation — the demo runs with one command.
- SECRET_KEY set but empty (the deployment example before it is filled in):
  the start stops with a message, so no installation runs on an empty key.
- JWT_SECRET_KEY: its own value if set, otherwise derived from SECRET_KEY
  (Flask-JWT-Extended, used by Flask-AppBuilder's API, would use SECRET_KEY itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from flask import Flask

KEY_FILE = "secret_key"
MIN_LENGTH = 32
#: Values that were ever shipped as defaults or examples; a key equal to one of them is public.
PUBLIC_VALUES = frozenset(
    {
        "dev-only-change-me",
        "change-me-to-a-long-random-string",
        "change-me",
        "changeme",
        "secret",
    }
)

log = logging.getLogger(__name__)


class SecretKeyProblem(RuntimeError):
    """The configured key must not be used; the message says what to do."""


def _check(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SecretKeyProblem(
            f"{name} is empty. Set it to a long random value, e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`, "
            f"or remove the setting to use a key kept in the instance folder."
        )
    if value in PUBLIC_VALUES:
        raise SecretKeyProblem(f"{name} is a published example value. Set a long random value.")
    if len(value) < MIN_LENGTH:
        raise SecretKeyProblem(
            f"{name} is too short (at least {MIN_LENGTH} characters). Set a long random value."
        )
    return value


def _read(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise SecretKeyProblem(f"{path} is empty. Delete it to have a new key created.")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except OSError:
            log.warning("%s is readable by others (mode %o); make it 0600", path, mode)
    return key


def instance_key(path: Path) -> str:
    """The key kept in ``path``; created (random, mode 0600) if there is none yet.

    Safe when several processes start at once: the key is written to a private
    temporary file and linked into place, so the first one wins and all read it.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def configure_secrets(app: Flask) -> None:
    """Set SECRET_KEY and JWT_SECRET_KEY of ``app`` (before any extension reads them)."""
    key = app.config.get("SECRET_KEY")
    if key is None:
        key = instance_key(Path(app.instance_path) / KEY_FILE)
    app.config["SECRET_KEY"] = _check("SECRET_KEY", key)
    jwt_key = app.config.get("JWT_SECRET_KEY")
    if jwt_key is None:
        jwt_key = hmac.new(key.encode(), b"promoplan API tokens", hashlib.sha256).hexdigest()
    app.config["JWT_SECRET_KEY"] = _check("JWT_SECRET_KEY", jwt_key)
