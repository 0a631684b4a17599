"""The media library: uploads are judged by their content, sized, SVG-checked, named safely, reused, deleted."""

from __future__ import annotations

import html
import io
import os

import pytest
from sqlalchemy import select

from cbt.author.models import Draft
from tests.author.conftest import folder_of, snapshot
from tests.author.kit import SVG, SVG_WITH_SCRIPT
from tests.content.kit import jpeg, png


@pytest.fixture
def app_config(app_config):
    """Small limits, so "too large" needs no large file."""
    app_config["MEDIA_IMAGE_MAX_BYTES"] = 2048
    app_config["MEDIA_VIDEO_MAX_BYTES"] = 4096
    # Below the media limits: uploads must get their own request limit, before the CSRF check reads the form.
    app_config["MAX_CONTENT_LENGTH"] = 1800
    return app_config


def upload(browser, draft, name: str, content: bytes, follow: bool = False):
    return browser.post(f"{draft}/media", {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data",
                        follow=follow)  # fmt: skip


def refused_upload(app, browser, draft, name, content, message):
    folder = folder_of(app, draft)
    before = snapshot(folder)
    response = upload(browser, draft, name, content)
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    assert snapshot(folder) == before
    assert not (folder / "media").exists() or not any((folder / "media").iterdir())


def test_an_upload_gets_a_safe_name_and_a_snippet_with_its_original_name(app, browser, trainer, course_with_module,
                                                                         db):  # fmt: skip
    draft = course_with_module
    response = upload(browser, draft, "Пломба ЗПУ 1.PNG", png(40, 20), follow=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "plomba-zpu-1.png was uploaded" in page
    assert "![Пломба ЗПУ 1](../media/plomba-zpu-1.png)" in page
    assert (folder_of(app, draft) / "media" / "plomba-zpu-1.png").read_bytes() == png(40, 20)
    db.rollback()
    assert db.scalar(select(Draft.media_labels)) == {"plomba-zpu-1.png": "Пломба ЗПУ 1"}
    # The same name again gets a new file name instead of replacing the first one.
    upload(browser, draft, "Пломба ЗПУ 1.PNG", png(10, 10))
    assert (folder_of(app, draft) / "media" / "plomba-zpu-1-2.png").is_file()
    # The lesson editor offers the snippet to paste.
    lesson = browser.page(f"{draft}/modules/01-documents/lessons/01-introduction/en")
    assert "![Пломба ЗПУ 1](../media/plomba-zpu-1.png)" in html.unescape(lesson)


def test_a_file_whose_content_does_not_match_its_extension_is_refused(app, browser, trainer, course_with_module):
    refused_upload(app, browser, course_with_module, "seal.png", jpeg(30, 20),
                   "content does not match the extension .png (looks like JPEG)")  # fmt: skip
    refused_upload(app, browser, course_with_module, "notes.png", b"<html><script>alert(1)</script></html>",
                   "content does not match the extension .png (looks like unknown)")  # fmt: skip


def test_an_oversized_file_is_refused(app, browser, trainer, course_with_module):
    big = png(40, 20) + os.urandom(4000)
    refused_upload(app, browser, course_with_module, "big.png", big, "The image is larger than the limit of 2 KB.")
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 5000
    refused_upload(app, browser, course_with_module, "clip.mp4", video, "The video is larger than the limit of 4 KB.")


def test_an_svg_with_a_script_is_refused(app, browser, trainer, course_with_module):
    refused_upload(app, browser, course_with_module, "truck.svg", SVG_WITH_SCRIPT, "SVG contains a <script> element")
    refused_upload(app, browser, course_with_module, "link.svg",
                   b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><a href="javascript:x()"/></svg>',
                   "SVG has a javascript: link in href")  # fmt: skip


def test_types_the_format_does_not_allow_are_refused(app, browser, trainer, course_with_module):
    refused_upload(app, browser, course_with_module, "notes.txt", b"hello", "Files of this type cannot be used")
    refused_upload(app, browser, course_with_module, "anim.gif", b"GIF89a", "Files of this type cannot be used")


def test_a_small_video_is_accepted(app, browser, trainer, course_with_module):
    response = upload(browser, course_with_module, "Досмотр.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    assert response.status_code == 302
    assert (folder_of(app, course_with_module) / "media" / "dosmotr.mp4").is_file()


def test_a_file_is_deleted_only_when_unused(app, browser, trainer, course_with_module):
    draft = course_with_module
    upload(browser, draft, "seal.svg", SVG)
    upload(browser, draft, "spare.svg", SVG)
    lesson = f"{draft}/modules/01-documents/lessons/01-introduction/en"
    assert browser.post(lesson, {"title": "Introduction", "minutes": "5", "action": "save",
                                 "body": "A seal:\n\n![Seal](../media/seal.svg)\n"}).status_code == 302  # fmt: skip
    page = browser.page(f"{draft}/media")
    assert page.count("not used") == 1  # spare.svg
    media = folder_of(app, draft) / "media"

    response = browser.post(f"{draft}/media/seal.svg/remove", {}, form_page=f"{draft}/media", follow=True)
    text = html.unescape(response.get_data(as_text=True))
    assert "The file is still used, so it was not deleted:" in text
    assert "media file media/seal.svg does not exist" in text
    assert (media / "seal.svg").is_file()

    response = browser.post(f"{draft}/media/spare.svg/remove", {}, form_page=f"{draft}/media", follow=True)
    assert "The file was deleted." in response.get_data(as_text=True)
    assert not (media / "spare.svg").exists()


def test_draft_media_are_served_only_by_their_safe_names(app, browser, trainer, course_with_module):
    draft = course_with_module
    upload(browser, draft, "seal.svg", SVG)
    with browser.client.get(f"{draft}/media/seal.svg") as response:
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
    for name in ("..%2Fcourse.yaml", "course.yaml", "SEAL.svg", "seal.svg.bak"):
        assert browser.client.get(f"{draft}/media/{name}").status_code == 404, name


def test_the_media_limit_applies_even_above_the_app_wide_request_limit(app, browser, trainer, course_with_module):
    padded = png(40, 20) + b"\x00" * 1850  # over MAX_CONTENT_LENGTH (1800), under the image limit (2048)
    response = upload(browser, course_with_module, "wide.png", padded)
    assert response.status_code == 302
    assert (folder_of(app, course_with_module) / "media" / "wide.png").read_bytes() == padded
