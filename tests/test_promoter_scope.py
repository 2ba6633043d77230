"""A promoter login's scope resolved to its promoter id (as the promoter system uses it) shows
exactly the rows of the scope that finds the promoter in SQL each time."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.helpers import db_session


def _visible(session, scope) -> dict[str, set[int]]:
    from app.models.planning import Application, Appointment, Booking, Job, Project
    from app.models.promoter import Promoter, Unavailability
    from app.models.reporting import Report

    models = (Project, Job, Appointment, Booking, Application, Promoter, Unavailability, Report)
    return {
        model.__name__: set(session.scalars(select(model.id).where(scope.condition(model))))
        for model in models
    }


@pytest.mark.parametrize("username", ["promoter01", "promoter02"])
def test_the_resolved_promoter_scope_sees_the_same_rows(app, username):
    from flask_appbuilder.security.sqla.models import User

    from app.security.visibility import scope_for

    with db_session(app) as session:
        user = session.scalar(select(User).where(User.username == username))
        plain = scope_for(user)
        resolved, promoter = plain.with_own_promoter(session)
        assert promoter is not None and resolved.own_promoters == (promoter.id,)
        seen = _visible(session, resolved)
        assert seen == _visible(session, plain)
        assert seen["Booking"] and seen["Promoter"] == {promoter.id}


def test_an_inactive_promoter_resolves_to_nothing(app):
    from flask_appbuilder.security.sqla.models import User

    from app.models.promoter import Promoter
    from app.security.visibility import scope_for

    with db_session(app) as session:
        user = session.scalar(select(User).where(User.username == "promoter03"))
        session.execute(update(Promoter).where(Promoter.user_id == user.id).values(active=False))
        try:
            resolved, promoter = scope_for(user).with_own_promoter(session)
            assert promoter is None and resolved.own_promoters == ()
            seen = _visible(session, resolved)
            assert seen == _visible(session, scope_for(user))
            own = ("Booking", "Application", "Promoter", "Unavailability", "Report")
            assert not any(seen[name] for name in own), seen
        finally:
            session.rollback()
