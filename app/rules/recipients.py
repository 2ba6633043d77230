"""Who gets the agency's mail about a project: its active project managers with an
address, else AGENCY_NOTIFY_EMAIL."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.planning import project_manager


def agency_recipients(session: Session, project_id: int) -> list[str]:
    """Addresses for the agency's mail about ``project_id`` (sorted; the fallback if none)."""
    emails = list(
        session.scalars(
            select(User.email)
            .join(project_manager, project_manager.c.user_id == User.id)
            .where(project_manager.c.project_id == project_id, User.active.is_(True), User.email.is_not(None))
            .order_by(User.email)
        )
    )
    fallback = current_app.config.get("AGENCY_NOTIFY_EMAIL")
    return emails or ([fallback] if fallback else [])


def agency_language() -> str:
    """The agency's mails are written in the default language."""
    return current_app.config["BABEL_DEFAULT_LOCALE"]
