"""Password pages of the three systems: "forgot password", set a password from
a mail link (reset or invitation), and — in the customer and promoter systems —
change one's own password. Each system gets the same pages in its own frame.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.common.forms import TranslatedForm
from app.extensions import db
from app.security import tokens


class _MinLength:
    """At least PASSWORD_MIN_LENGTH characters (read when the form is checked)."""

    def __call__(self, form, field) -> None:
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(_("The password must have at least %(num)d characters.", num=minimum))


class ForgotPasswordForm(TranslatedForm):
    address = StringField(_l("Email address or user name"), validators=[DataRequired(), Length(max=254)])


class SetPasswordForm(TranslatedForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200), _MinLength()])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


def sent_message() -> str:
    """The answer to every "forgot password" request, known address or not."""
    return _(
        "If an account with this address exists, we have sent it a link to set a new password. "
        "The link works once and for a limited time."
    )


def forgot_page(layout: str, login_endpoint: str, render: Callable = render_template):
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        tokens.send_reset_mail(db.session, form.address.data)
        db.session.commit()
        flash(sent_message(), "info")
        return redirect(url_for(login_endpoint))
    return render("systems/password_forgot.html", layout=layout, form=form, login_endpoint=login_endpoint)


def set_page(
    layout: str, login_endpoint: str, forgot_endpoint: str, token: str, render: Callable = render_template
):
    row = tokens.find(db.session, token)
    if row is None:
        return render(
            "systems/password_link_invalid.html", layout=layout, forgot_endpoint=forgot_endpoint
        ), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        tokens.use(db.session, row, form.password.data)
        db.session.commit()
        flash(_("Your password has been set. You can log in now."), "success")
        return redirect(url_for(login_endpoint))
    invited = row.purpose == "invite"
    return render("systems/password_set.html", layout=layout, form=form, invited=invited)


def change_page(layout: str, endpoint: str):
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(g.user.password, form.current.data):
            form.current.errors = [_("The current password is not right.")]
        else:
            # Changing the password ends every other session and API token of this login.
            current_app.appbuilder.sm.reset_password(g.user.id, form.password.data)
            flash(_("Your password has been changed. You are logged out everywhere else."), "success")
            return redirect(url_for(endpoint))
    return render_template("systems/password_change.html", layout=layout, form=form), (
        400 if form.errors else 200
    )


def register_password_pages(bp: Blueprint, layout: str, required: Callable) -> None:
    """Add /password/forgot, /password/set/<token> and /password (logged in) to ``bp``."""
    login_endpoint = f"{bp.name}.login"
    forgot_endpoint = f"{bp.name}.forgot_password"

    @bp.route("/password/forgot", methods=["GET", "POST"], endpoint="forgot_password")
    def forgot_password():
        return forgot_page(layout, login_endpoint)

    @bp.route("/password/set/<token>", methods=["GET", "POST"], endpoint="set_password")
    def set_password(token: str):
        return set_page(layout, login_endpoint, forgot_endpoint, token)

    @bp.route("/password", methods=["GET", "POST"], endpoint="change_password")
    @required
    def change_password():
        return change_page(layout, f"{bp.name}.change_password")

    # Rate limits are kept per function name: one name per system.
    for view in (forgot_password, set_password, change_password):
        view.__name__ = view.__qualname__ = f"{bp.name}_{view.__name__}"
