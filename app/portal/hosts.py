"""Serve the customer and promoter systems on their own hosts.

With CUSTOMER_HOST (or PROMOTER_HOST) set, every request to that host is
routed into the system's path prefix (``/portal`` or ``/promoter``); nothing
else of the app — in particular no agency route — is reachable there. Without
the setting, the systems are served under their prefix on the main host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

PASSTHROUGH = ("/static/",)


class HostPrefixMiddleware:
    def __init__(self, wsgi_app: Callable, hosts: dict[str, str]):
        self.wsgi_app = wsgi_app
        self.hosts = {host.lower(): prefix for host, prefix in hosts.items() if host}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").lower()
        prefix = self.hosts.get(host) or self.hosts.get(host.split(":")[0])
        if prefix:
            path = environ.get("PATH_INFO") or "/"
            if not path.startswith(PASSTHROUGH) and not (path == prefix or path.startswith(prefix + "/")):
                environ["PATH_INFO"] = prefix + path
        return self.wsgi_app(environ, start_response)


def system_prefix_for_host(config: dict, host: str) -> str | None:
    """The prefix a host is locked to, or None for the main (agency) host."""
    host = host.lower().split(":")[0]
    for key, prefix in (("CUSTOMER_HOST", "/portal"), ("PROMOTER_HOST", "/promoter")):
        configured = (config.get(key) or "").lower().split(":")[0]
        if configured and configured == host:
            return prefix
    return None
