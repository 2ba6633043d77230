"""Whose system a login belongs to, logging in at one of the three systems,
and the logins the agency may create and manage (customer and promoter logins only).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request, url_for
from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role
from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, select

from app.security.roles import CUSTOMER, PROMOTER
from app.security.systems import system_of

#: System name -> the blueprint of its pages (the agency system is FAB's own).
SYSTEMS = ("agency", "customer", "promoter")
#: The role a login of the customer or promoter system has (and no other).
EXTERNAL_ROLES = {"customer": CUSTOMER, "promoter": PROMOTER}
_HOST_SETTINGS = {"customer": "CUSTOMER_HOST", "promoter": "PROMOTER_HOST"}
_LOGIN_ENDPOINTS = {"customer": "portal.login", "promoter": "promoter.login"}


def home_system(user) -> str | None:
    """ "agency", "customer" or "promoter" (by the user's roles); None for a login without role."""
    return system_of(user)


def system_name(system: str | None) -> str:
    return {
        "agency": _("agency system"),
        "customer": _("customer system"),
        "promoter": _("promoter system"),
    }.get(system or "", "")


def login_url(system: str) -> str:
    """The login page of ``system``, on its own host when one is configured."""
    config = current_app.config
    if system == "agency":
        path = url_for(f"{current_app.appbuilder.sm.auth_view.endpoint}.login")
        on_other_host = any(
            config.get(key) and request.host.lower() == config[key].lower() for key in _HOST_SETTINGS.values()
        )
        return config["BASE_URL"] + path if on_other_host else path
    path = url_for(_LOGIN_ENDPOINTS[system])
    host = config.get(_HOST_SETTINGS[system])
    if host and request.host.lower() != host.lower():
        return f"{request.scheme}://{host}{path}"
    return path


@dataclass
class LoginResult:
    user: User | None = None
    #: The system the account belongs to, when the password was right but the system is not.
    elsewhere: str | None = None


def log_in(system: str, username: str, password: str) -> LoginResult:
    """Check the password (audited) and whether the login belongs to ``system``.

    A right password at the wrong system is refused and audited as refused;
    the caller tells the user where the account belongs.
    """
    g.login_system = system
    user = current_app.appbuilder.sm.auth_user_db(username, password)
    if user is None:
        return LoginResult()
    home = home_system(user)
    if home != system:
        return LoginResult(elsewhere=home)
    return LoginResult(user=user)


def refused_at(user) -> str | None:
    """The system a login was attempted at, if ``user`` does not belong there (for the audit)."""
    system = g.get("login_system")
    if system and user is not None and home_system(user) != system:
        return system
    return None


# ---------------------------------------------------------------- logins the agency manages


def only_role(role_name: str):
    """SQL condition: the user has the role ``role_name`` and no other role."""
    has_it = exists().where(
        assoc_user_role.c.user_id == User.id,
        assoc_user_role.c.role_id == Role.id,
        Role.name == role_name,
    )
    other = exists().where(
        assoc_user_role.c.user_id == User.id,
        assoc_user_role.c.role_id == Role.id,
        Role.name != role_name,
    )
    return and_(has_it, ~other)


def external_login_ids(role_name: str) -> Select:
    """Ids of the logins the agency may link to a contact (Customer) or promoter (Promoter)."""
    return select(User.id).where(only_role(role_name))


def is_external_login(user: User | None, role_name: str) -> bool:
    return user is not None and {r.name for r in user.roles} == {role_name}
