"""Login hardening: rate limits on every login (HTML, portal, API) — per client
address and per account — and on "forgot password", with a clear 429.

The per-account limit is keyed on what was submitted, whether such a login
exists or not, so the answer never tells which accounts exist.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError


def _submitted(field: str) -> str:
    """The submitted user name or address (form or JSON), normalised; empty if none."""
    value = request.form.get(field)
    if value is None and request.is_json:
        body = request.get_json(silent=True)
        value = body.get(field) if isinstance(body, dict) else None
    return str(value or "").strip().lower()[:256]


def _account_key() -> str:
    return "account:" + _submitted("username")


def _reset_address_key() -> str:
    return "reset:" + _submitted("address")


LOGIN_ENDPOINTS = ("portal.login", "promoter.login")
FORGOT_ENDPOINTS = ("portal.forgot_password", "promoter.forgot_password", "AccountView.forgot_password")


def _limit(app: Flask, endpoint: str, *limits) -> None:
    view = app.view_functions[endpoint]
    for decorator in limits:
        view = decorator(view)
    app.view_functions[endpoint] = view


def init_login_security(app: Flask) -> None:
    sm = app.appbuilder.sm
    if app.config.get("AUTH_RATE_LIMITED"):
        rate = app.config["AUTH_RATE_LIMIT"]
        per_address = sm.limiter.limit(
            rate, key_func=get_remote_address, methods=["POST"], override_defaults=False
        )
        per_account = sm.limiter.limit(
            app.config["AUTH_ACCOUNT_RATE_LIMIT"],
            key_func=_account_key,
            methods=["POST"],
            override_defaults=False,
        )
        # FAB limits its own HTML login per address; add the API login and the customer
        # and promoter logins, and the per-account limit on all of them.
        for view in app.appbuilder.baseviews:
            if type(view).__name__ == "SecurityApi":
                per_address(view.blueprint)
                _limit(app, f"{view.blueprint.name}.login", per_account)
        _limit(app, f"{sm.auth_view.endpoint}.login", per_account)
        for endpoint in LOGIN_ENDPOINTS:
            if endpoint in app.view_functions:
                _limit(app, endpoint, per_address, per_account)
        per_reset_address = sm.limiter.limit(
            app.config["PASSWORD_RESET_RATE_LIMIT"],
            key_func=_reset_address_key,
            methods=["POST"],
            override_defaults=False,
        )
        for endpoint in FORGOT_ENDPOINTS:
            if endpoint in app.view_functions:
                _limit(app, endpoint, per_address, per_reset_address)

    @app.errorhandler(429)
    def too_many_attempts(_error):
        message = _("Too many attempts. Please wait a moment and try again.")
        if request.endpoint and request.endpoint.endswith(".login"):
            message = _("Too many login attempts. Please wait a moment and try again.")
        if request.path.startswith("/api/"):
            return jsonify(message=message), 429
        return render_template("error.html", title=_("Too many attempts"), message=message), 429

    @app.errorhandler(CSRFError)
    def form_expired(_error):
        message = _("The form has expired or was sent from elsewhere. Please reload the page and try again.")
        return render_template("error.html", title=_("Form expired"), message=message), 400
