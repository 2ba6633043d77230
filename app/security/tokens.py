"""Single-use, expiring links: "forgot password" and invitations.

The link carries a random token; the database keeps only its SHA-256, so a
copy of the database opens no account. A token works once, until it expires,
and only while its login is active; a new reset link voids the older ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, url_for
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.common.links import agency_url, customer_url, promoter_url
from app.common.models import utcnow
from app.outbox.enqueue import enqueue
from app.security.accounts import home_system
from app.security.models import AccountToken

_SET_PASSWORD_ENDPOINTS = {
    "agency": "AccountView.set_password",
    "customer": "portal.set_password",
    "promoter": "promoter.set_password",
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, purpose: str) -> str:
    """A new token for ``user`` (no commit); older unused tokens of the same purpose stop working."""
    now = utcnow()
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
        .values(used_at=now)
    )
    hours = current_app.config["INVITE_TOKEN_HOURS" if purpose == "invite" else "RESET_TOKEN_HOURS"]
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return token


def find(session: Session, token: str) -> AccountToken | None:
    """The usable token row (not used, not expired, its login active), or None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(AccountToken).where(AccountToken.token_hash == _hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row


def use(session: Session, row: AccountToken, password: str) -> User:
    """Spend the token (and every other open token of the login) and set the password."""
    user = session.get(User, row.user_id)
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    # FAB's reset_password commits: the password and the spent tokens in one transaction.
    current_app.appbuilder.sm.reset_password(user.id, password)
    return user


def set_password_link(system: str, token: str) -> str:
    """Absolute link to the page where the login sets its password, in its own system."""
    path = url_for(_SET_PASSWORD_ENDPOINTS[system], token=token)
    if system == "customer":
        return customer_url(path)
    if system == "promoter":
        return promoter_url(path)
    return agency_url(path)


def user_for_address(session: Session, address: str) -> User | None:
    """The active login with this email address (or user name), any case."""
    address = (address or "").strip().lower()
    if not address or len(address) > 256:
        return None
    return session.scalar(
        select(User)
        .where((func.lower(User.email) == address) | (func.lower(User.username) == address))
        .where(User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    )


def send_reset_mail(session: Session, address: str) -> None:
    """Queue a reset link if ``address`` belongs to a login (no commit); nothing otherwise.

    The link leads to the system the login belongs to, wherever it was asked for.
    """
    user = user_for_address(session, address)
    system = home_system(user) if user is not None else None
    if user is None or system is None or not user.email:
        return
    token = issue(session, user, "reset")
    enqueue(
        session,
        "password_reset",
        user.email,
        language_of(session, user),
        name=user.get_full_name(),
        username=user.username,
        link=set_password_link(system, token),
        hours=current_app.config["RESET_TOKEN_HOURS"],
    )


def language_of(session: Session, user: User) -> str:
    """The contact's preferred language; German otherwise (promoters and agency staff)."""
    from app.models.crm import Contact

    language = session.scalar(select(Contact.language).where(Contact.user_id == user.id).limit(1))
    return language or current_app.config["BABEL_DEFAULT_LOCALE"]
