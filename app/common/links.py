"""Absolute links for mails: the agency, customer and promoter systems."""

from __future__ import annotations

from flask import current_app


def agency_url(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def customer_url(path: str) -> str:
    """``path`` starts with /portal/; on its own host the customer system keeps that prefix."""
    host = current_app.config.get("CUSTOMER_HOST")
    if host:
        return f"{current_app.config['URL_SCHEME']}://{host}{path}"
    return current_app.config["BASE_URL"] + path


def promoter_url(path: str) -> str:
    """``path`` starts with /promoter/; on its own host the promoter system keeps that prefix."""
    host = current_app.config.get("PROMOTER_HOST")
    if host:
        return f"{current_app.config['URL_SCHEME']}://{host}{path}"
    return current_app.config["BASE_URL"] + path
