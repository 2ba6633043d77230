"""The agency's part in accounts: invite a contact or promoter by mail, and
deactivate or reactivate their login. The agency only ever creates or manages
logins of the customer system (role Customer) and the promoter system (role
Promoter) — never an agency or admin login.
"""

from __future__ import annotations

import secrets

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.outbox.enqueue import enqueue
from app.security import tokens
from app.security.accounts import EXTERNAL_ROLES, is_external_login


class AccountError(Exception):
    """A refusal, in the user's language."""


def _system_of(person) -> str:
    from app.models.crm import Contact

    return "customer" if isinstance(person, Contact) else "promoter"


def _language(person) -> str:
    return getattr(person, "language", None) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _check_manageable(person) -> None:
    role = EXTERNAL_ROLES[_system_of(person)]
    if person.user is not None and not is_external_login(person.user, role):
        raise AccountError(
            _(
                "This login is not a login of the customer or promoter system; "
                "only an administrator may change it."
            )
        )


def invite(session: Session, person) -> User:
    """Create the person's login without a usable password (if there is none yet) and
    queue the invitation with a link to set a password (no commit)."""
    system = _system_of(person)
    if not person.email:
        raise AccountError(_("An invitation needs an email address."))
    _check_manageable(person)
    user = person.user
    if user is None:
        address = person.email.strip().lower()
        taken = session.scalar(
            select(User.id)
            .where((func.lower(User.username) == address) | (func.lower(User.email) == address))
            .limit(1)
        )
        if taken is not None:
            raise AccountError(_("A login with this email address already exists; link it instead."))
        role = current_app.appbuilder.sm.find_role(EXTERNAL_ROLES[system])
        user = User(
            first_name=person.first_name or "-",
            last_name=person.last_name or "-",
            username=address,
            email=address,
            active=True,
            # Nobody knows this password: the login is usable once the link has been followed.
            password=generate_password_hash(secrets.token_urlsafe(32)),
            roles=[role],
        )
        session.add(user)
        session.flush()
        person.user = user
    elif not user.active:
        raise AccountError(_("The login is deactivated; reactivate it first."))
    token = tokens.issue(session, user, "invite")
    enqueue(
        session,
        "account_invite",
        person.email,
        _language(person),
        name=person.full_name,
        username=user.username,
        system=system,
        link=tokens.set_password_link(system, token),
        hours=current_app.config["INVITE_TOKEN_HOURS"],
    )
    return user


def set_active(session: Session, person, active: bool) -> User:
    """Deactivate (every session and API token ends) or reactivate the person's login (no commit)."""
    if person.user is None:
        raise AccountError(_("This person has no login."))
    _check_manageable(person)
    person.user.active = active
    return person.user
