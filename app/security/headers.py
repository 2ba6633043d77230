"""Security headers on every response, with a per-request CSP nonce.

FAB's templates put ``nonce="{{ csp_nonce() }}"`` on their scripts, so inline
script is allowed only with this request's nonce.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request


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
    if request.endpoint and request.endpoint.endswith(".login"):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = _nonce
    app.after_request(_apply)
