"""The roles of promoplan, defined in code.

All four roles are FAB "builtin roles": their permissions are regular
expressions evaluated in memory (``FAB_ROLES``), so a deployment cannot drift
from the code. ``flask --app app init-roles`` only makes sure the role rows
exist (users are linked to rows) and refreshes FAB's permission tables.
"""

from __future__ import annotations

import re

from flask import Flask
from flask_appbuilder.models.filters import BaseFilter

ADMIN = "Admin"
AGENCY = "Agency"
CUSTOMER = "Customer"
PROMOTER = "Promoter"
PUBLIC = "Public"
ALL_ROLES = (ADMIN, AGENCY, CUSTOMER, PROMOTER)

# What every logged-in agency user may do with their own account.
OWN_ACCOUNT = [
    ["UserDBModelView", "can_userinfo"],
    ["UserDBModelView", "resetmypassword"],
    ["UserDBModelView", "userinfoedit"],
    ["ResetMyPasswordView", "can_this_form_get"],
    ["ResetMyPasswordView", "can_this_form_post"],
    ["UserInfoEditView", "can_this_form_get"],
    ["UserInfoEditView", "can_this_form_post"],
]

# FAB's API documentation and menu API, for agency users.
AGENCY_TOOLS = ["OpenApi", "SwaggerView", "MenuApi"]

# Views and menu entries of the agency system, filled in by register_agency_view.
_agency_names: list[str] = []


def register_agency_view(
    appbuilder, view, name: str, label, category: str, category_label, icon: str
) -> None:
    """Add a screen to the agency system's menu and grant it to the Agency role."""
    appbuilder.add_view(
        view,
        name,
        label=label,
        icon=icon,
        category=category,
        category_label=category_label,
    )
    for entry in (view.__name__, name, category):
        if entry not in _agency_names:
            _agency_names.append(entry)


_customer_read_apis: list[str] = []
_promoter_read_apis: list[str] = []


def register_api(appbuilder, api, customer_read: bool = False, promoter_read: bool = False) -> None:
    """Add a REST API: full access for the agency, read access for customers and promoters
    if asked (their rows are restricted by app.security.visibility)."""
    appbuilder.add_api(api)
    if api.__name__ not in _agency_names:
        _agency_names.append(api.__name__)
    if customer_read and api.__name__ not in _customer_read_apis:
        _customer_read_apis.append(api.__name__)
    if promoter_read and api.__name__ not in _promoter_read_apis:
        _promoter_read_apis.append(api.__name__)


def agency_permission_names() -> list[str]:
    return list(_agency_names)


def role_definitions() -> dict[str, list[list[str]]]:
    names = "|".join(re.escape(n) for n in _agency_names)
    customer_apis = "|".join(re.escape(n) for n in _customer_read_apis)
    promoter_apis = "|".join(re.escape(n) for n in _promoter_read_apis)
    tools = "|".join(AGENCY_TOOLS)
    agency = [
        [f"^({names})$", ".*"],
        [f"^({tools})$", ".*"],
        *[[f"^{v}$", f"^{p}$"] for v, p in OWN_ACCOUNT],
    ]
    return {
        ADMIN: [[".*", ".*"]],
        AGENCY: agency,
        # Customers and promoters have their own systems and no agency screen;
        # customers read their rows (filtered by app.security.visibility) via the API.
        CUSTOMER: [[f"^({customer_apis})$", "^can_get$"]] if customer_apis else [],
        PROMOTER: [[f"^({promoter_apis})$", "^can_get$"]] if promoter_apis else [],
    }


def install_role_definitions(app: Flask) -> None:
    """Point FAB's builtin roles at the definitions above (after views are added)."""
    definitions = app.config["FAB_ROLES"]
    definitions.clear()
    definitions.update(role_definitions())


def ensure_roles(appbuilder) -> list[str]:
    """Create missing role rows and refresh FAB's permission tables; idempotent."""
    sm = appbuilder.sm
    created = []
    for name in (*ALL_ROLES, PUBLIC):
        if sm.find_role(name) is None:
            sm.add_role(name)
            created.append(name)
    appbuilder.add_permissions(update_perms=True)
    return created


def agency_user_condition():
    """SQL: the user is an active agency user (role Agency or Admin), e.g. for task assignees."""
    from flask_appbuilder.security.sqla.models import Role, User

    return User.active.is_(True) & User.roles.any(Role.name.in_((AGENCY, ADMIN)))


class AgencyUsersFilter(BaseFilter):
    """A FAB filter (``*_query_rel_fields``) that leaves only agency users in a user select."""

    name = "agency users"

    def apply(self, query, value):
        return query.filter(agency_user_condition())
