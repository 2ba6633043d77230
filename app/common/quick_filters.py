"""FAB glue for the quick filters above agency lists."""

from __future__ import annotations

from flask import g, request, url_for
from flask_appbuilder.models.filters import BaseFilter


class QuickFilterSet(BaseFilter):
    """Applies the quick filter's conditions (a tuple of SQL expressions) to FAB's queries."""

    name = "quick filter"

    def apply(self, query, value):
        return query.filter(*value) if value else query


class QuickFilteredList:
    """Quick filters above the list page (not in related lists on other screens)."""

    list_template = "staffing/filtered_list.html"

    def quick_filter(self, args) -> tuple:
        """(form, SQL conditions) from the request's arguments."""
        raise NotImplementedError

    def _get_list_widget(self, filters, **kwargs):
        if request.endpoint == f"{type(self).__name__}.list":
            form, conditions = self.quick_filter(request.args)
            g.quick_filter = form
            g.quick_filter_reset = url_for(f"{type(self).__name__}.list")
            g.quick_filter_fab_args = [
                (key, value)
                for key, value in request.args.items(multi=True)
                if key not in form.arguments and not key.startswith("page_")
            ]
            if conditions:
                filters = filters.copy().add_filter("id", QuickFilterSet, conditions)
        return super()._get_list_widget(filters, **kwargs)
