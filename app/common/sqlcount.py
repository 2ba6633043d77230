"""Count SQL statements per request (for benchmarks): header ``X-SQL-Statements``.

Enabled by SQL_COUNT_HEADER=1; off by default.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine


def init_sql_count(app: Flask) -> None:
    if not app.config.get("SQL_COUNT_HEADER"):
        return

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args, **_kwargs) -> None:
        if has_request_context():
            g.sql_statements = g.get("sql_statements", 0) + 1

    @app.after_request
    def _header(response):
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        return response
