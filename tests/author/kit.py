"""Helpers for the authoring tests: a trainer's browser that reads each form's CSRF token and revision.

Every change goes through the real pages and forms over HTTP; the helper only does what a browser does:
it opens the page that carries the form, copies the hidden ``csrf_token`` and ``revision`` inputs, and posts.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import CSRF_RE

REVISION_RE = re.compile(r'name="revision" value="(\d+)"')
DRAFT_RE = re.compile(r"/author/drafts/([0-9a-f-]{36})")


class Browser:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def page(self, url: str, status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code)
        return response.get_data(as_text=True)

    def hidden(self, url: str) -> dict[str, str]:
        page = self.page(url)
        fields = {"csrf_token": CSRF_RE.search(page).group(1)}  # type: ignore[union-attr]
        revision = REVISION_RE.search(page)
        if revision:
            fields["revision"] = revision.group(1)
        return fields

    def post(self, url: str, data: dict[str, Any] | None = None, *, form_page: str | None = None,
             follow: bool = False, **kwargs: Any) -> Any:
        """Post ``data`` to ``url`` with the hidden fields of ``form_page`` (default: ``url`` itself)."""
        fields = self.hidden(form_page or url)
        fields.update(data or {})
        return self.client.post(url, data=fields, follow_redirects=follow, **kwargs)


def draft_url(response: Any) -> str:
    """The draft's URL from a redirect to one of its pages."""
    match = DRAFT_RE.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return f"/author/drafts/{match.group(1)}"


def zip_of(folder: Path, top: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.writestr(f"{top}/{name}" if top else name, path.read_bytes())
    return buffer.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 200">'
       b'<rect x="0" y="0" width="400" height="200" fill="#ccc"/></svg>')
SVG_WITH_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                   b'<script>alert(1)</script></svg>')
