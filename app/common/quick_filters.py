"""FAB glue for the quick filters above agency lists."""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter


class QuickFilterSet(BaseFilter):
    """Applies the quick filter's conditions (a tuple of SQL expressions) to FAB's queries."""

    name = "quick filter"

    def apply(self, query, value):
        return query.filter(*value) if value else query
