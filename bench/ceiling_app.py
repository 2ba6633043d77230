"""The ceiling: the customer start page's rows from one hand-written SQL query.

No ORM, no templates beyond a minimal table, no login — what a customer's start
page costs at the least. Served by gunicorn next to the app in bench/loadtest.py:
``gunicorn -w 2 bench.ceiling_app:app`` with DATABASE_URL set.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from flask import Flask, request
from markupsafe import escape
from sqlalchemy import create_engine, text

from config import database_url

app = Flask(__name__)
engine = create_engine(database_url(), pool_pre_ping=True)
TIMEZONE = ZoneInfo(os.environ.get("TIMEZONE", "Europe/Berlin"))

START_PAGE_SQL = text(
    """
    WITH RECURSIVE visible_territory(id) AS (
        SELECT ct.territory_id FROM contact_territory ct
        JOIN contact c ON c.id = ct.contact_id
        JOIN ab_user u ON u.id = c.user_id
        WHERE u.username = :username AND u.active
      UNION
        SELECT t.id FROM territory t JOIN visible_territory v ON t.parent_id = v.id
    )
    SELECT a.date, a.start_time, a.end_time, a.status, l.name, l.city,
           (SELECT string_agg_placeholder) AS promoters
    FROM appointment a
    JOIN job j ON j.id = a.job_id
    JOIN location l ON l.id = j.location_id
    JOIN project_contact pc ON pc.project_id = j.project_id
    JOIN contact c ON c.id = pc.contact_id
    JOIN ab_user u ON u.id = c.user_id AND u.username = :username
    WHERE l.territory_id IN (SELECT id FROM visible_territory)
      AND a.date BETWEEN :monday AND :sunday
      AND a.status IN ('planned', 'done', 'proposed')
    ORDER BY a.date, a.start_time, l.name
    """
)


def _sql(dialect: str):
    agg = (
        "SELECT string_agg(p.first_name || ' ' || substr(p.last_name, 1, 1) || '.', ', ') "
        if dialect == "postgresql"
        else "SELECT group_concat(p.first_name || ' ' || substr(p.last_name, 1, 1) || '.', ', ') "
    )
    agg += (
        "FROM booking b JOIN promoter p ON p.id = b.promoter_id "
        "WHERE b.appointment_id = a.id AND b.status = 'confirmed'"
    )
    return text(START_PAGE_SQL.text.replace("SELECT string_agg_placeholder", agg))


QUERY = _sql(engine.dialect.name)


@app.route("/start")
def start():
    today = dt.datetime.now(TIMEZONE).date()
    monday = today - dt.timedelta(days=today.weekday())
    with engine.connect() as conn:
        rows = conn.execute(
            QUERY,
            {"username": request.args["user"], "monday": monday, "sunday": monday + dt.timedelta(days=6)},
        ).all()
    body = "".join(
        f"<tr><td>{r[0]}</td><td>{r[1]}–{r[2]}</td><td>{escape(r[4])}</td><td>{escape(r[5])}</td>"
        f"<td>{r[3]}</td><td>{escape(r[6] or '')}</td></tr>"
        for r in rows
    )
    return f"<table><p id='count'>{len(rows)}</p>{body}</table>"
