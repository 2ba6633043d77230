"""SQL helpers shared by the features' queries."""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class unindexed_on_sqlite(FunctionElement):  # noqa: N801 (used like a SQL function)
    """A column that SQLite's planner cannot use an index for: ``coalesce(x, x)`` on SQLite,
    the plain column elsewhere.

    Without statistics (a fresh installation, no ANALYZE) SQLite may pick an index on a
    date or status over every row of the period instead of the one that starts from a few
    rows (a promoter's bookings, a project's jobs). PostgreSQL plans from its statistics and
    would misjudge the expression's selectivity, so it gets the column itself.
    """

    name = "unindexed_on_sqlite"
    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed_on_sqlite)
def _plain(element, compiler, **kw) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(unindexed_on_sqlite, "sqlite")
def _coalesced(element, compiler, **kw) -> str:
    (column,) = element.clauses
    text = compiler.process(column, **kw)
    return f"coalesce({text}, {text})"
