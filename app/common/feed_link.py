"""The private calendar link of a contact or promoter: create, renew or revoke it.

Both systems offer the same three buttons; this is what pressing one does.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from flask import Response, current_app
from flask_babel import gettext as _
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired

from app.common.forms import TranslatedForm

#: The characters a feed token can have (``secrets.token_urlsafe``).
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def ical_domain() -> str:
    """The domain of the feeds' event UIDs."""
    return current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "promoplan.local"


FEED_ACTIONS = ("create", "renew", "revoke")


class FeedForm(TranslatedForm):
    """Create, renew or revoke the calendar link (the button pressed names the action)."""

    action = HiddenField(validators=[DataRequired(), AnyOf(FEED_ACTIONS)])


class HasFeedToken(Protocol):
    feed_token: str | None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def change_feed_link(owner: HasFeedToken, action: str) -> str:
    """Apply ``action`` ("create", "renew" or "revoke") to ``owner``'s link (no commit);
    returns the message for the user."""
    if action == "revoke":
        owner.feed_token = None
        return _("The calendar link has been revoked; calendars using it no longer update.")
    if action == "create" and owner.feed_token:
        return _("Your calendar link already exists.")
    owner.feed_token = new_token()
    if action == "renew":
        return _("A new calendar link has been created; the old one no longer works.")
    return _("Your calendar link has been created.")


def feed_response(body: bytes) -> Response:
    """What a calendar app gets for the link: the feed, private and never indexed."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="promoplan.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
