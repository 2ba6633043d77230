"""Server-side state of unfinished proposal wizards."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import utcnow


class WizardDraft(Model):
    """The inputs of one unfinished wizard, keyed by its random token.

    Kept in the database rather than the session cookie: several open wizards
    with long notes would outgrow a browser's 4 KB cookie.
    """

    __tablename__ = "wizard_draft"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
