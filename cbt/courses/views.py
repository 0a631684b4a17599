"""Serving course media: long-lived caching (files are immutable), ETags, range requests for video."""

from __future__ import annotations

from flask import Blueprint, abort, send_file
from sqlalchemy import select
from werkzeug.wrappers import Response

from cbt.courses.media_store import media_store
from cbt.courses.models import MediaAsset
from cbt.db import session
from cbt.security import roles_required

bp = Blueprint("courses", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<int:version_id>/<path:path>")
@roles_required()
def media(version_id: int, path: str) -> Response:
    asset = session.scalar(
        select(MediaAsset).where(MediaAsset.course_version_id == version_id, MediaAsset.path == path)
    )
    if asset is None:
        abort(404)
    file_path = media_store().path_for(asset.sha256)
    if not file_path.is_file():
        abort(404)
    response = send_file(
        file_path,
        mimetype=asset.content_type,
        conditional=True,
        etag=asset.sha256,
        max_age=ONE_YEAR,
        download_name=path.rsplit("/", 1)[-1],
    )
    # Signed-in content: cacheable by the terminal's browser only, never by a shared proxy.
    response.headers["Cache-Control"] = f"private, max-age={ONE_YEAR}, immutable"
    # An SVG opened on its own must not run anything, even if a sanitizer were ever bypassed.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
    )
    return response
