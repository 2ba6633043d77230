"""Behind a reverse proxy: the client's address, scheme and host from X-Forwarded-*,
and host names compared in lower case everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class LowerCaseHost:
    """Host names are case-insensitive: ``Kunden.Example.com`` is ``kunden.example.com``
    for TRUSTED_HOSTS, CUSTOMER_HOST and PROMOTER_HOST alike."""

    def __init__(self, wsgi_app: Callable):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("HTTP_HOST"):
            environ["HTTP_HOST"] = environ["HTTP_HOST"].lower()
        if environ.get("SERVER_NAME"):
            environ["SERVER_NAME"] = environ["SERVER_NAME"].lower()
        return self.wsgi_app(environ, start_response)


def normalise_host_settings(config: dict) -> None:
    """TRUSTED_HOSTS, CUSTOMER_HOST and PROMOTER_HOST in lower case (before anything reads them)."""
    if config.get("TRUSTED_HOSTS"):
        config["TRUSTED_HOSTS"] = [host.strip().lower() for host in config["TRUSTED_HOSTS"]]
    for key in ("CUSTOMER_HOST", "PROMOTER_HOST"):
        config[key] = (config.get(key) or "").strip().lower()


def apply_proxy_settings(app: Flask) -> None:
    """Wrap the app (outermost): ProxyFix for TRUSTED_PROXIES proxies, then lower-case hosts."""
    app.wsgi_app = LowerCaseHost(app.wsgi_app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
