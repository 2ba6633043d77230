"""What the customer and the promoter system share: safe redirects and their own host."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, url_for


def safe_next(target: str | None, prefix: str, default_endpoint: str) -> str:
    """``target`` if it is a path inside the system (``prefix``); never another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith(prefix) and "\\" not in target:
            return target
    return url_for(default_endpoint)


def keep_on_own_host(bp: Blueprint, host_setting: str) -> Callable:
    """With ``host_setting`` (CUSTOMER_HOST, PROMOTER_HOST) set, serve ``bp`` only on that host."""

    @bp.before_request
    def _stay_on_own_host():
        host = current_app.config.get(host_setting)
        if host and request.host.lower() != host.lower():
            return redirect(f"{request.scheme}://{host}{request.full_path.rstrip('?')}")
        return None

    return _stay_on_own_host
