"""Which of the three systems a login belongs to — decided here and nowhere else.

A login with roles of two systems belongs to the one listed first in
:data:`PRIORITY`: the agency (Admin or Agency role), else the customer system,
else the promoter system. So an agency employee who also has the Customer role
works in the agency system and is not let into the customer system (where the
agency's scope would show every store), and the portal never widens a scope.
"""

from __future__ import annotations

from typing import Literal

from app.security.roles import ADMIN, AGENCY, CUSTOMER, PROMOTER

System = Literal["agency", "customer", "promoter"]

#: (system, roles that grant it), the first match wins.
PRIORITY: tuple[tuple[System, frozenset[str]], ...] = (
    ("agency", frozenset({ADMIN, AGENCY})),
    ("customer", frozenset({CUSTOMER})),
    ("promoter", frozenset({PROMOTER})),
)


def role_names(user) -> set[str]:
    """The roles of an active, logged-in user; empty for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if not getattr(user, "active", False):
        return set()
    return {role.name for role in user.roles}


def system_of(user) -> System | None:
    """ "agency", "customer" or "promoter"; None for anonymous, inactive or role-less logins."""
    roles = role_names(user)
    for system, granting in PRIORITY:
        if roles & granting:
            return system
    return None
