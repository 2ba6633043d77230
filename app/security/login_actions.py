"""Login management on the agency's contact and promoter screens: which logins
may be linked (only customer or promoter logins), invite by mail, deactivate, reactivate."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.security import invitations
from app.security.accounts import external_login_ids


def linkable_logins(role_name: str) -> dict:
    """``*_form_query_rel_fields`` for the ``user`` field: only logins with exactly ``role_name``.

    The select lists only these, and a forged POST with any other login id is
    refused by the field's validation (it checks against the same query).
    """
    return {"user": [["id", FilterInFunction, lambda: external_login_ids(role_name)]]}


def _one(items):
    if isinstance(items, list):
        if len(items) != 1:
            abort(400)
        items = items[0]
    if items is None:
        abort(404)
    return items


class LoginActions:
    """Mixed into the agency ModelView of contacts or promoters."""

    def _back(self, person):
        return redirect(url_for(f"{self.endpoint}.show", pk=person.id))

    def _run(self, person, change, message: str):
        try:
            change(person)
        except invitations.AccountError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(message, "success")
        return self._back(person)

    @action(
        "invite_login",
        _l("Invite by mail"),
        _l("Send this person an invitation to set a password for their login?"),
        icon="fa-envelope-open",
        multiple=False,
    )
    def invite_login(self, items):
        person = _one(items)
        return self._run(
            person,
            lambda p: invitations.invite(db.session, p),
            _("The invitation has been sent to %(address)s.", address=person.email or ""),
        )

    @action(
        "deactivate_login",
        _l("Deactivate login"),
        _l("Deactivate this person's login? They are logged out everywhere at once."),
        icon="fa-ban",
        multiple=False,
    )
    def deactivate_login(self, items):
        person = _one(items)
        return self._run(
            person,
            lambda p: invitations.set_active(db.session, p, False),
            _("The login has been deactivated."),
        )

    @action("reactivate_login", _l("Reactivate login"), icon="fa-check-circle", multiple=False)
    def reactivate_login(self, items):
        person = _one(items)
        return self._run(
            person,
            lambda p: invitations.set_active(db.session, p, True),
            _("The login has been reactivated."),
        )
