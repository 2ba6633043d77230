"""FAB filter classes that apply the visibility rule per request."""

from __future__ import annotations

from flask import g
from flask_appbuilder.models.filters import BaseFilter

from app.security.visibility import scope_for


class VisibleToCurrentUser(BaseFilter):
    """Restricts a FAB view or API to the rows the current user may see.

    Evaluated on every query (never at import time); the SQL comes from
    :mod:`app.security.visibility`.
    """

    name = "Visible to the current user"
    arg_name = None

    def apply(self, query, value):
        return query.filter(scope_for(g.get("user")).condition(self.model))


#: ``base_filters`` entry for views and APIs reachable by customers.
VISIBLE_ONLY = [["id", VisibleToCurrentUser, None]]
