"""FAB data interface that loads a list's related rows with the page (no query per row)."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.common.views import FriendlyErrorsInterface


class EagerListInterface(FriendlyErrorsInterface):
    """``FriendlyErrorsInterface`` that adds loader options (``selectinload`` …) to list queries."""

    def __init__(self, obj, *loader_options, session=None):
        super().__init__(obj, session)
        self.loader_options = loader_options

    def apply_all(self, query, *args, **kwargs):
        return super().apply_all(query, *args, **kwargs).options(*self.loader_options)


def eager_list(model, *loader_options) -> SQLAInterface:
    """The datamodel of a list screen whose columns show related rows."""
    return EagerListInterface(model, *loader_options)
