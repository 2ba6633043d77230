"""Sessions that can be ended on the server.

Flask-Login keeps ``"<user id>:<session token>"`` in the (signed) session
cookie instead of the bare user id, and every API token carries a fingerprint
of the same token (claim ``stv``). The token lives in :class:`LoginState`;
changing it ends every session and API token issued with the old one:

- logout changes it (a copied cookie stops working);
- a password change or a deactivation changes it at flush time, whatever
  screen made the change; the request that changed its own user's password keeps
  its session with the new token.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Flask, g, has_request_context, session
from flask_appbuilder.security.sqla.models import User
from flask_login import user_logged_in
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload

from app.common.models import utcnow
from app.security.models import LoginState

#: Name of the JWT claim with the fingerprint of the user's session token.
CLAIM = "stv"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def session_token(db_session: Session, user_id: int) -> str:
    """The user's current token; created on first use (no commit)."""
    state = db_session.get(LoginState, user_id)
    if state is None:
        state = LoginState(user_id=user_id, session_token=_new_token(), changed_at=utcnow())
        db_session.add(state)
        db_session.flush()
    return state.session_token


def rotate(db_session: Session, user_id: int) -> str:
    """A new token for the user: every earlier session and API token ends (no commit)."""
    state = db_session.get(LoginState, user_id)
    if state is None:
        state = LoginState(user_id=user_id)
        db_session.add(state)
    state.session_token = _new_token()
    state.changed_at = utcnow()
    _keep_own_session(user_id, state.session_token)
    return state.session_token


def fingerprint(token: str) -> str:
    """What API tokens carry instead of the session token itself."""
    return hashlib.sha256(f"api:{token}".encode()).hexdigest()[:32]


def session_id(user_id: int, token: str) -> str:
    return f"{user_id}:{token}"


def parse_session_id(value: str) -> tuple[int, str] | None:
    user_id, _sep, token = str(value).partition(":")
    if not token or not user_id.isdigit():
        return None
    return int(user_id), token


def _keep_own_session(user_id: int, token: str) -> None:
    """The request that changes its own user's token stays logged in with the new one."""
    if not has_request_context() or "_user_id" not in session:
        return
    parsed = parse_session_id(session["_user_id"])
    if parsed and parsed[0] == user_id and not g.get("ending_session"):
        session["_user_id"] = session_id(user_id, token)


def load_session_user(db_session: Session, value: str) -> User | None:
    """The active user whose id and current token are ``value`` (one query)."""
    parsed = parse_session_id(value)
    if parsed is None:
        return None
    user_id, token = parsed
    user = db_session.scalar(
        select(User)
        .join(LoginState, LoginState.user_id == User.id)
        .where(User.id == user_id, LoginState.session_token == token)
        # the roles decide the system on every request: loaded with the user, not separately
        .options(joinedload(User.roles))
    )
    return user if user is not None and user.is_active else None


def token_is_current(db_session: Session, user_id, claim: str | None) -> bool:
    """Whether an API token's claim matches the user's current token (and the user is active)."""
    if not claim or not str(user_id).isdigit():
        return False
    row = db_session.execute(
        select(LoginState.session_token, User.active)
        .join(User, User.id == LoginState.user_id)
        .where(LoginState.user_id == int(user_id))
    ).first()
    return row is not None and bool(row.active) and secrets.compare_digest(fingerprint(row[0]), claim)


def end_session(db_session: Session, user) -> None:
    """Logout on the server: the user's token changes, every copy of the cookie is void."""
    try:
        user_id = inspect(user).identity[0]
    except Exception:  # not a stored user
        return
    g.ending_session = True
    rotate(db_session, user_id)
    db_session.commit()


# ---------------------------------------------------------------- hooks


def _store_token_in_session(_app, user, **_kwargs) -> None:
    from app.extensions import db

    token = session_token(db.session, user.id)
    db.session.commit()
    session["_user_id"] = session_id(user.id, token)


def _credentials_changed(state, key: str) -> bool:
    history = state.attrs[key].history
    if not history.added:
        return False
    if key == "active":
        return not history.added[0]
    return not history.deleted or history.deleted[0] != history.added[0]


def _rotate_on_credential_change(db_session: Session, _context, _instances) -> None:
    """A new password or a deactivation ends every session and API token of that user."""
    for obj in list(db_session.dirty):
        if not isinstance(obj, User):
            continue
        state = inspect(obj)
        if state.identity is None:
            continue
        if _credentials_changed(state, "password") or _credentials_changed(state, "active"):
            rotate(db_session, state.identity[0])


def init_sessions(app: Flask) -> None:
    user_logged_in.connect(_store_token_in_session, app)
    if not event.contains(Session, "before_flush", _rotate_on_credential_change):
        event.listen(Session, "before_flush", _rotate_on_credential_change)
