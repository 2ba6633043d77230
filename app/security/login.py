"""Login hardening: rate limits on every login (HTML, portal, API) and a clear 429."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


def init_login_security(app: Flask) -> None:
    sm = app.appbuilder.sm
    if app.config.get("AUTH_RATE_LIMITED"):
        rate = app.config["AUTH_RATE_LIMIT"]
        # FAB limits its own HTML login; add the API login and the customer and promoter logins.
        for view in app.appbuilder.baseviews:
            if type(view).__name__ == "SecurityApi":
                sm.limiter.limit(rate, methods=["POST"])(view.blueprint)
        for endpoint in ("portal.login", "promoter.login"):
            if endpoint in app.view_functions:
                app.view_functions[endpoint] = sm.limiter.limit(rate, methods=["POST"])(
                    app.view_functions[endpoint]
                )

    @app.errorhandler(429)
    def too_many_attempts(_error):
        message = _("Too many login attempts. Please wait a moment and try again.")
        if request.path.startswith("/api/"):
            return jsonify(message=message), 429
        return render_template("error.html", title=_("Too many attempts"), message=message), 429

    @app.errorhandler(CSRFError)
    def form_expired(_error):
        message = _("The form has expired or was sent from elsewhere. Please reload the page and try again.")
        return render_template("error.html", title=_("Form expired"), message=message), 400
