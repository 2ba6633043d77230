"""The routes that serve report photos and files — only to users who may see them.

``/reporting/files/<id>`` and ``/reporting/files/<id>/thumbnail`` answer a logged-in
user of any of the three systems (the session cookie) and API clients (a bearer token
of FAB's API login). A file outside the user's visibility scope
(:meth:`app.security.visibility.Scope.report_file_ids`) and an unknown id get the same
404. The same routes exist below ``/portal`` (for customers) and ``/promoter`` (for
promoters), so that they work on the customer's and the promoter's own host too
(CUSTOMER_HOST, PROMOTER_HOST); use :func:`file_url` to link to a file from the current
system.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, g, has_request_context, redirect, request, url_for
from flask_jwt_extended import get_current_user, verify_jwt_in_request
from sqlalchemy import select

from app.extensions import db
from app.models.reporting import ReportFile
from app.reporting.files import read_file
from app.security.systems import system_of
from app.security.visibility import scope_for

bp = Blueprint("reporting_files", __name__)

#: (URL prefix, endpoint suffix, login endpoint, the only system served there): the
#: customer's and the promoter's prefix serve their own system's users (others: 403, as
#: on every page of those systems); the plain path serves everybody.
SYSTEMS = (
    ("", "", None, None),
    ("/portal", "_portal", "portal.login", "customer"),
    ("/promoter", "_promoter", "promoter.login", "promoter"),
)


def _user():
    """The logged-in user: by session cookie, else by a bearer token (None if neither)."""
    user = g.get("user")
    if getattr(user, "is_authenticated", False):
        return user
    if not request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None  # no token (a proxy's Basic authentication is none either)
    try:
        verify_jwt_in_request(optional=True)
        user = get_current_user()
    except Exception:  # expired, revoked, forged or malformed token: not logged in
        abort(401)
    if user is None or not getattr(user, "is_active", False):
        abort(401)
    return user


def _login_redirect(login_endpoint: str | None):
    if login_endpoint is None:
        return redirect(current_app.appbuilder.get_url_for_login_with(request.full_path.rstrip("?")))
    return redirect(url_for(login_endpoint, next=request.full_path.rstrip("?")))


def _visible_file(file_id: int, system: str | None) -> ReportFile | None:
    """The file if the user may see it; None for a visitor (who is sent to the login)."""
    user = _user()
    if user is None:
        return None
    if system is not None and system_of(user) != system:
        abort(403)
    report_file = db.session.scalar(
        select(ReportFile).where(
            ReportFile.id == file_id, ReportFile.id.in_(scope_for(user).report_file_ids())
        )
    )
    if report_file is None:
        abort(404)
    return report_file


#: Stored types and their extension; images of these types are shown inline.
SERVED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
CACHE_SECONDS = 600


def download_names(report_file: ReportFile, thumbnail: bool = False) -> tuple[str, str]:
    """(ASCII name, Unicode name) that are safe in a header: the sent name's stem without
    quotes, slashes or control characters, and the stored type's extension (the sent
    extension means nothing)."""
    content_type = "image/jpeg" if thumbnail else report_file.content_type
    extension = SERVED_TYPES.get(content_type, "bin")
    stem = (report_file.original_name or "").rsplit(".", 1)[0]
    stem = re.sub(r'[\\/"\';:*?<>|%]+', " ", "".join(ch for ch in stem if ch.isprintable()))
    stem = re.sub(r"\s+", " ", stem).strip(" .-")[:80]
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9._ -]+", "", plain).strip(" .-")
    fallback = f"file-{report_file.id}"
    suffix = f"{'-thumbnail' if thumbnail else ''}.{extension}"
    return f"{plain or fallback}{suffix}", f"{stem or fallback}{suffix}"


def _etag(key: str) -> str:
    # keys are never reused: the key names the bytes
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _serve(file_id: int, thumbnail: bool, login_endpoint: str | None, system: str | None) -> Response:
    report_file = _visible_file(file_id, system)
    if report_file is None:
        return _login_redirect(login_endpoint)
    key = report_file.thumbnail_key if thumbnail else report_file.storage_key
    if not key:
        abort(404)
    content_type = "image/jpeg" if thumbnail else report_file.content_type
    if content_type not in SERVED_TYPES:
        content_type = "application/octet-stream"
    inline = content_type.startswith("image/")
    etag = _etag(key)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        try:
            data = read_file(report_file, thumbnail)
        except KeyError:
            abort(404)
        response = Response(data, mimetype=content_type)
        plain, full = download_names(report_file, thumbnail)
        response.headers["Content-Disposition"] = (
            f"{'inline' if inline else 'attachment'}; filename=\"{plain}\"; filename*=UTF-8''{quote(full)}"
        )
        if not inline:
            response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.set_etag(etag)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response.headers["Vary"] = "Cookie, Authorization"
    return response


def _register(prefix: str, suffix: str, login_endpoint: str | None, system: str | None) -> None:
    def serve_file(file_id: int) -> Response:
        return _serve(file_id, False, login_endpoint, system)

    def serve_thumbnail(file_id: int) -> Response:
        return _serve(file_id, True, login_endpoint, system)

    bp.add_url_rule(f"{prefix}/reporting/files/<int:file_id>", f"file{suffix}", serve_file)
    bp.add_url_rule(
        f"{prefix}/reporting/files/<int:file_id>/thumbnail", f"thumbnail{suffix}", serve_thumbnail
    )


for _prefix, _suffix, _login, _system in SYSTEMS:
    _register(_prefix, _suffix, _login, _system)


def file_url(report_file: ReportFile | int, thumbnail: bool = False) -> str:
    """The URL of a file (or its thumbnail) in the system of the current request."""
    file_id = report_file if isinstance(report_file, int) else report_file.id
    path = request.path if has_request_context() else ""
    suffix = next((s for p, s, *_ in SYSTEMS if p and (path == p or path.startswith(p + "/"))), "")
    return url_for(f"reporting_files.{'thumbnail' if thumbnail else 'file'}{suffix}", file_id=file_id)
