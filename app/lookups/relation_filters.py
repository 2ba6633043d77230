"""Quick filters that choose a related row by searching (remote selects) instead of FAB's
filter bar, whose relation filters are dropdowns of every row (5,000 stores, every contact).

``RelationFilter`` makes the GET form and the SQL conditions for a list with
``app.common.quick_filters.QuickFilteredList``."""

from __future__ import annotations

from collections.abc import Callable

from wtforms import Form

from app.lookups.remote_select import RemoteSelectField


class RelationFilter:
    """``RelationFilter(("store", _l("Store"), "location", lambda pk: Job.location_id == pk))``:
    one remote select per (argument, label, kind, condition on the chosen row's id)."""

    def __init__(self, *choices: tuple[str, object, str, Callable[[int], object]]):
        self.conditions = {name: condition for name, _label, _kind, condition in choices}
        fields = {name: RemoteSelectField(label, kind=kind) for name, label, kind, _condition in choices}
        self.form_class = type("RelationFilterForm", (Form,), {**fields, "arguments": tuple(fields)})

    def __call__(self, args) -> tuple[Form, tuple]:
        """The form (with its messages; an unknown id is shown and ignored) and the conditions."""
        form = self.form_class(args)
        form.validate()
        where = tuple(
            condition(form[name].data.id)
            for name, condition in self.conditions.items()
            if form[name].data is not None
        )
        return form, where
