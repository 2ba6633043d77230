"""The count of pending proposals in every agency page's menu is answered from an index.

Without an index leading with ``status`` the count reads every appointment (51–115 ms per
page at 1,000,000 appointments on SQLite); the plan must name the index on both databases.
"""

from __future__ import annotations

from sqlalchemy import text


def _plan(session, sql: str) -> str:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))  # tiny test tables: force the choice
        rows = session.execute(text(f"EXPLAIN {sql}")).all()
        return "\n".join(row[0] for row in rows)
    rows = session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_pending_count_uses_the_status_index(session):
    sql = "SELECT count(appointment.id) FROM appointment WHERE appointment.status = 'proposed'"
    plan = _plan(session, sql)
    assert "ix_appointment_status_date" in plan, plan
    session.rollback()


def test_the_promoter_pages_start_from_the_promoters_bookings(app, session):
    """The promoter's schedule (like the start page and the requests): on SQLite without
    statistics the plan starts from the promoter's bookings (ix_booking_promoter_status), not
    from the appointments' date index over every promoter's days (2 s against 1 ms at
    1,000,000 appointments)."""
    import datetime as dt

    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.models.planning import Appointment
    from app.promoter.queries import confirmed
    from app.security.visibility import Scope

    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL chooses from its statistics (ANALYZE)
    if session.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        session.execute(text("DELETE FROM sqlite_stat1"))  # as a fresh installation: no statistics
    user_id = session.scalar(select(User.id).where(User.username == "promoter01"))
    stmt = (
        confirmed(Scope("promoter", user_id))
        .where(Appointment.date >= dt.date(2026, 1, 1))  # the list's own date filter is on top
        .order_by(Appointment.date)
    )
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = _plan(session, sql)
    first = plan.splitlines()[0]
    assert first.startswith("SEARCH booking USING INDEX ix_booking_promoter_status"), plan
    assert "SEARCH appointment USING INTEGER PRIMARY KEY" in plan, plan
    session.rollback()


# ---------------------------------------------------------------- the reporting area's figures


def _explain_statements(session, call) -> list[str]:
    """The plans of every statement ``call()`` runs (same SQL, same parameters)."""
    from sqlalchemy import event

    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    connection = session.connection()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = []
    for statement, parameters in statements:
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        plans.append("\n".join(str(row[0] if postgres else row[-1]) for row in rows))
    return plans


def _figure_plan(session, username: str) -> str:
    import datetime as dt

    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.common.timezone import local_today
    from app.reporting.analytics import ReportFilter, figures
    from app.security.visibility import scope_for

    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and session.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        session.execute(text("DELETE FROM sqlite_stat1"))  # as a fresh installation: no statistics
    user = session.scalar(select(User).where(User.username == username))
    scope = scope_for(user).resolved(session)
    today = local_today()
    flt = ReportFilter(today - dt.timedelta(days=30), today)  # a month of the demo's reports
    plans = _explain_statements(session, lambda: figures(session, scope, flt))
    (plan,) = [p for p in plans if "ix_report_answer_report_key" in p]
    return plan


def test_the_agencys_figures_start_from_the_appointments_of_the_period(session):
    """The figures of a month over every store: the day reports from the month's
    appointments (``(date, status)``, then the report by its appointment), never every
    approved report through the status index (on SQLite without statistics that read all
    500,000 reports for one month); weekly reports by ``report (status, week_start)``;
    the answers by report."""
    plan = _figure_plan(session, "agentur")
    if session.get_bind().dialect.name == "sqlite":
        assert (
            "SEARCH appointment USING COVERING INDEX ix_appointment_date_status (date>? AND date<?)" in plan
        )
        assert "(appointment_id=?)" in plan, plan
        assert "ix_report_status_submitted" not in plan and "SCAN report" not in plan, plan
    # PostgreSQL chooses the order from its statistics (ANALYZE); the weekly reports' index it must have
    assert "ix_report_status_week" in plan, plan
    session.rollback()


def test_a_customers_figures_start_from_the_appointments_of_their_jobs(session):
    plan = _figure_plan(session, "adm.nord")
    if session.get_bind().dialect.name == "sqlite":
        assert (
            "SEARCH appointment USING COVERING INDEX ix_appointment_job_date (job_id=? AND date>? AND date<?)"
            in plan
        )
        assert "(appointment_id=?)" in plan, plan
        assert "SCAN report" not in plan and "SCAN appointment" not in plan, plan
    assert "ix_report_answer_report_key" in plan, plan
    session.rollback()


# ---------------------------------------------------------------- the cockpit's counts


def test_the_cockpits_request_counts_use_their_partial_indexes(session):
    """Requests unanswered for 48 hours and cancellation requests waiting for an answer are
    counted from partial indexes (a few rows), not by reading every booking (0.1–0.4 s per
    cockpit at 900,000 bookings on SQLite before)."""
    import datetime as dt

    from sqlalchemy import func, select

    from app.cockpit.queries import _cancel_requested_where, _unanswered_where
    from app.models.planning import Appointment, Booking

    now = dt.datetime(2026, 12, 1, 12, 0)
    unanswered = (
        select(func.count(Booking.id))
        .join(Appointment, Appointment.id == Booking.appointment_id)
        .where(*_unanswered_where(now.date(), now))
    )
    cancel = select(func.count(Booking.id)).where(*_cancel_requested_where())
    for stmt, index in ((unanswered, "ix_booking_requested_created"), (cancel, "ix_booking_cancel_pending")):
        if (
            session.get_bind().dialect.name == "sqlite"
            and session.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        ):
            session.execute(text("DELETE FROM sqlite_stat1"))
        sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = _plan(session, sql)
        assert index in plan, plan
        session.rollback()


def test_the_appointment_list_walks_the_date_index_in_its_order(app, session):
    """The agency's appointment list sorts upcoming appointments by date, then start time:
    the page reads the (date, status) index from today on and sorts only within a day
    (SQLite's "right part", PostgreSQL's incremental sort), never every upcoming appointment
    (1,000,000 at an agency's scale)."""
    from tests.helpers import client_for

    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and session.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        session.execute(text("DELETE FROM sqlite_stat1"))  # as a fresh installation: no statistics
    client = client_for(app, "agentur", "de")
    client.get("/appointmentview/list/")  # warm up: the login's own statements
    plans = _explain_statements(session, lambda: client.get("/appointmentview/list/"))
    (plan,) = [p for p in plans if "ORDER BY" in p or "Sort" in p]
    if sqlite:
        assert plan.splitlines() == [
            "SEARCH appointment USING INDEX ix_appointment_date_status (date>?)",
            "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY",
        ], plan
    else:
        assert "Incremental Sort" in plan and "Presorted Key: date" in plan, plan
        assert "Index Scan using ix_appointment_date_status" in plan, plan
    session.rollback()


def test_the_planning_boards_overview_goes_from_the_projects_jobs(app, session):
    """The board's week-by-job counts: on SQLite without statistics the plan reads the
    project's jobs' appointments through ``appointment (job_id, date)``, not the (status,
    date) index over every project's appointments of the period (1.2 s against 10 ms at
    1,000,000 appointments)."""
    import datetime as dt

    from app.planning import board

    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL chooses from its statistics (ANALYZE)
    if session.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        session.execute(text("DELETE FROM sqlite_stat1"))  # as a fresh installation: no statistics
    (plan,) = _explain_statements(
        session, lambda: board.overview_counts(session, 1, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    )
    assert "ix_appointment_job_date" in plan, plan
    assert "ix_appointment_status_date" not in plan and "ix_appointment_date_status" not in plan, plan
    session.rollback()
