"""The customer lists with the visible jobs fetched first (Scope.resolved) and their
planner-proof date sort show exactly the rows and order of the plain scope, page by page."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.extensions import db
from app.models.planning import Appointment
from app.portal import queries
from app.security.visibility import Scope

SORTS = list(queries.SORTS)
RANGES = ["all", "next_week"]


def _pages(scope: Scope, flt: queries.AppointmentFilter, today: dt.date, per_page: int) -> list[list[int]]:
    """Pages 1, 2 and the last one (ids and promoters, in order)."""
    stmt = queries.filtered_appointments(scope, flt, today)
    last = queries.page_of(db.session, scope, stmt, 10**6, per_page)
    pages = [queries.page_of(db.session, scope, stmt, n, per_page) for n in (1, 2)] + [last]
    return [[(row.appointment.id, tuple(row.promoters)) for row in page.rows] for page in pages]


@pytest.mark.parametrize("few_jobs", [0, 500])
def test_resolved_scope_pages_like_the_plain_scope(app, monkeypatch, few_jobs):
    monkeypatch.setattr(queries, "FEW_JOBS", few_jobs)  # 0: the plain sort; 500: the expression
    with app.app_context():
        users = db.session.scalars(select(User).order_by(User.id)).all()
        customers = [u for u in users if {r.name for r in u.roles} == {"Customer"}]
        assert customers, "the demo has customer logins"
        first_day = db.session.scalar(select(Appointment.date).order_by(Appointment.date).limit(1))
        compared = 0
        for user in customers[:4]:
            plain = Scope("customer", user.id)
            resolved = plain.resolved(db.session)
            assert resolved.visible_jobs is not None
            for range_ in RANGES:
                for sort in SORTS:
                    for today in (first_day + dt.timedelta(days=7),):
                        flt = queries.AppointmentFilter(range=range_, sort=sort)
                        expected = _pages(plain, flt, today, 10)
                        assert _pages(resolved, flt, today, 10) == expected, (user.username, range_, sort)
                        compared += sum(len(p) for p in expected)
        assert compared > 100  # the demo's customers see appointments in these periods
