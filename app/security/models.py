"""Account state kept next to Flask-AppBuilder's user table.

- :class:`LoginState`: the user's current session token. It is part of the id
  Flask-Login keeps in the session cookie and of every API token's claims;
  changing it (logout, password change, deactivation) ends every session and
  API token issued before.
- :class:`AccountToken`: single-use links for "forgot password" and invitations;
  only a hash of the token is stored.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.common.choices import check_in
from app.common.models import utcnow

TOKEN_PURPOSES = {"reset": "reset", "invite": "invite"}


class LoginState(Model):
    __tablename__ = "login_state"

    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    #: Random; a session or API token carrying another value is no longer valid.
    session_token: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class AccountToken(Model):
    __tablename__ = "account_token"
    __table_args__ = (
        CheckConstraint(check_in("purpose", TOKEN_PURPOSES), name="ck_account_token_purpose"),
        Index("ix_account_token_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(10), nullable=False)
    #: SHA-256 of the token in the link (hex).
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
