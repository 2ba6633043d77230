"""Guard for FAB's action routes (``/<view>/action/<name>/<pk>``, ``/<view>/action_post``).

FAB checks CSRF before permissions there and answers an unknown action name
with a 500. This guard runs first, for every FAB view (ours and FAB's security
screens): unknown action → 404, no permission → 403 (or the login page for
visitors).
"""

from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user


def init_action_guard(app: Flask) -> None:
    views = {
        view.blueprint.name: view for view in app.appbuilder.baseviews if getattr(view, "blueprint", None)
    }

    @app.before_request
    def _guard_actions():
        endpoint = request.endpoint or ""
        blueprint, _, method = endpoint.rpartition(".")
        if method not in ("action", "action_post") or blueprint not in views:
            return None
        view = views[blueprint]
        name = (request.view_args or {}).get("name") if method == "action" else request.form.get("action")
        actions = getattr(view, "actions", {}) or {}
        if name not in actions:
            abort(404)
        sm = app.appbuilder.sm
        if sm.has_access(view.get_action_permission_name(name), view.class_permission_name):
            return None
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for(sm.auth_view.__class__.__name__ + ".login", next=request.url))
