"""Error pages in the user's language (JSON under /api/)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import SecurityError


def _page(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        return jsonify(message=message), status
    return render_template("error.html", title=title, message=message), status


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(400)
    def bad_request(error):
        if isinstance(error, SecurityError):  # an untrusted host: no URL can be built for the page
            return error
        return _page(
            400,
            _("Invalid input"),
            _("The request could not be understood. Please check the link or your input."),
        )

    @app.errorhandler(403)
    def forbidden(_error):
        return _page(403, _("Access denied"), _("You have no access to this page."))

    @app.errorhandler(404)
    def not_found(_error):
        return _page(404, _("Not found"), _("This page does not exist, or you may not see it."))

    @app.errorhandler(405)
    def method_not_allowed(_error):
        return _page(405, _("Not allowed"), _("This action is not possible here."))

    @app.errorhandler(500)
    def server_error(_error):
        return _page(
            500,
            _("Something went wrong"),
            _("The request could not be completed. Nothing was changed; please try again."),
        )
