"""Security headers on every response, with a per-request CSP nonce; HSTS when
the session cookie is HTTPS-only (SESSION_COOKIE_SECURE).

FAB's templates put ``nonce="{{ csp_nonce() }}"`` on their scripts, so inline
script is allowed only with this request's nonce.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request

#: Pages with passwords or one-time links are never cached.
NO_STORE_ENDPOINTS = (".login", ".forgot_password", ".set_password", ".change_password")
HSTS_MAX_AGE = 365 * 24 * 3600


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _apply(response):
    nonce = _nonce()
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint and request.endpoint.endswith(NO_STORE_ENDPOINTS):
        response.headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Served over HTTPS only: browsers must not try plain HTTP for a year.
        response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    return response


def init_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = _nonce
    app.after_request(_apply)
