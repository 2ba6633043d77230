"""FAB data interface that loads a list's related rows with the page (no query per row)."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.common.views import FriendlyErrorsInterface, related_list


class EagerListInterface(FriendlyErrorsInterface):
    """``FriendlyErrorsInterface`` that adds loader options (``selectinload`` …) to list queries."""

    def __init__(self, obj, *loader_options, session=None):
        super().__init__(obj, session)
        self.loader_options = loader_options

    def list_options(self) -> tuple:
        return self.loader_options


def eager_list(model, *loader_options) -> SQLAInterface:
    """The datamodel of a list screen whose columns show related rows."""
    return EagerListInterface(model, *loader_options)


class CappedCount(int):
    """A row count that stopped counting: the pager works with the number, the page shows
    "more than …"."""

    def __str__(self) -> str:
        from flask_babel import format_decimal
        from flask_babel import gettext as _

        return _("more than %(count)s", count=format_decimal(int(self)))

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


class CappedCountInterface(EagerListInterface):
    """A list that counts at most ``count_ahead`` rows past the shown page, so that its pager
    does not count a million rows on every page."""

    def __init__(self, obj, *loader_options, count_ahead: int = 1000, then_by=None, session=None):
        super().__init__(obj, *loader_options, session=session)
        self.count_ahead = count_ahead
        #: Columns that break ties of an order column, in its direction, before the primary
        #: key FAB adds: ``{"date": ("start_time",)}`` lists a day's rows by time.
        self.then_by = dict(then_by or {})

    def apply_order_by(
        self,
        query,
        order_column: str,
        order_direction: str,
        aliases_mapping=None,
        bypass_many_to_many: bool = False,
        add_pk: bool = False,
    ):
        columns = self.then_by.get(order_column, ())
        if not columns:
            return super().apply_order_by(
                query, order_column, order_direction, aliases_mapping, bypass_many_to_many, add_pk
            )
        from sqlalchemy import asc, desc

        direction = asc if order_direction == "asc" else desc
        query = super().apply_order_by(
            query, order_column, order_direction, aliases_mapping, bypass_many_to_many, add_pk=False
        )
        # Query.order_by adds to the order already given
        query = query.order_by(*(direction(getattr(self.obj, name)) for name in columns))
        if add_pk:
            query = query.order_by(direction(self.get_pk()))
        return query

    def query(
        self,
        filters=None,
        order_column: str = "",
        order_direction: str = "",
        page: int | None = None,
        page_size: int | None = None,
        select_columns=None,
        outer_default_load: bool = False,
    ):
        from sqlalchemy import func, select

        if related_list():
            # a related list (one job's appointments …): rows and count in one statement
            return FriendlyErrorsInterface.query(
                self,
                filters,
                order_column,
                order_direction,
                page,
                page_size,
                select_columns,
                outer_default_load,
            )
        query = self.session.query(self.obj)
        limit = ((page or 0) + 1) * (page_size or 25) + self.count_ahead
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        keys = inner.with_entities(*self.obj.__mapper__.primary_key).limit(limit + 1).subquery()
        count = self.session.scalar(select(func.count()).select_from(keys))
        if count > limit:
            count = CappedCount(limit)
        rows = self.apply_all(
            query,
            filters,
            order_column,
            order_direction,
            page,
            page_size,
            select_columns,
            outer_default_load,
        ).all()
        return count, rows


def capped_list(model, *loader_options, count_ahead: int = 1000, then_by=None) -> SQLAInterface:
    """The datamodel of a list that may hold millions of rows (see ``CappedCountInterface``)."""
    return CappedCountInterface(model, *loader_options, count_ahead=count_ahead, then_by=then_by)
