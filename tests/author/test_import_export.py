"""Course zips through the browser: export a version or a draft, import as a draft or straight into a version."""

from __future__ import annotations

import html
import io
import zipfile

from sqlalchemy import func, select

from cbt.author.models import CourseGrant, Draft
from cbt.content import load_course
from cbt.courses.models import Course, CourseVersion
from tests.author.conftest import folder_of
from tests.author.kit import draft_url, zip_of
from tests.pages import write_course


def import_zip(browser, content: bytes, mode: str = "draft", name: str = "course.zip"):
    return browser.post("/author/import", {"archive": (io.BytesIO(content), name), "mode": mode},
                        content_type="multipart/form-data")  # fmt: skip


def test_a_published_version_exports_to_a_zip_the_cli_accepts(auth, browser, published, runner, tmp_path):
    published()
    auth.login_as("admin")
    response = browser.client.get("/author/courses/tiny-course/versions/1/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert 'filename=tiny-course-v1.zip' in response.headers["Content-Disposition"]
    path = tmp_path / "tiny.zip"
    path.write_bytes(response.data)
    names = zipfile.ZipFile(path).namelist()
    assert "tiny-course/course.yaml" in names and "tiny-course/01-intro/questions.yaml" in names
    result = runner.invoke(args=["courses", "validate", str(path)])
    assert result.exit_code == 0, result.output


def test_a_zip_imports_as_a_draft_numbered_after_the_published_versions(app, auth, browser, published, tmp_path,
                                                                        db):  # fmt: skip
    published()
    user = auth.login_as("admin")
    content = zip_of(write_course(tmp_path / "zip"), top="tiny-course")
    response = import_zip(browser, content)
    assert response.status_code == 302
    draft = draft_url(response)
    course, problems = load_course(folder_of(app, draft))
    assert course is not None and course.version == 2, problems
    assert db.scalar(select(Draft.created_by_id)) == user.id
    assert "The course was imported as a draft." in browser.page(draft)


def test_a_zip_with_errors_still_opens_as_a_draft_to_be_fixed(app, browser, trainer, tmp_path, db):
    folder = write_course(tmp_path / "zip", course_id="fix-me")
    (folder / "01-intro" / "01-welcome.en.md").unlink()  # the source locale is missing
    response = import_zip(browser, zip_of(folder, top="fix-me"))
    assert response.status_code == 302
    draft = draft_url(response)
    page = html.unescape(browser.page(draft))
    assert "It has errors to fix before it can be published" in page
    assert "lesson 01-welcome has no file in the source locale: 01-welcome.en.md" in page
    assert db.scalar(select(Draft.error_count)) == 1
    assert db.scalar(select(CourseGrant.user_id).where(CourseGrant.course_slug == "fix-me")) == trainer.id
    # Fixed in the browser: write the English lesson, and the draft has no error left.
    lesson = f"{draft}/modules/01-intro/lessons/01-welcome/en"
    assert browser.post(lesson, {"title": "Welcome", "minutes": "5", "body": "Hello.", "action": "save"}
                        ).status_code == 302  # fmt: skip
    db.rollback()
    assert db.scalar(select(Draft.error_count)) == 0


def test_a_zip_imports_directly_as_a_published_version_like_the_cli(browser, trainer, tmp_path, db):
    content = zip_of(write_course(tmp_path / "zip", course_id="direct-course"), top="direct-course")
    response = import_zip(browser, content, mode="publish")
    assert response.status_code == 302 and response.headers["Location"] == "/author/courses/direct-course"
    assert db.scalar(select(CourseVersion.version).join(Course).where(Course.slug == "direct-course")) == 1
    again = import_zip(browser, content, mode="publish")
    assert again.status_code == 302
    page = browser.page("/author/courses/direct-course")
    assert "direct-course version 1 is already imported; nothing changed." in page
    assert db.scalar(select(func.count(CourseVersion.id))) == 1


def test_a_broken_or_unsafe_zip_is_refused_with_the_reason(browser, trainer, db):
    response = import_zip(browser, b"not a zip at all")
    assert response.status_code == 200
    assert "not a zip file" in response.get_data(as_text=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil/course.yaml", "id: evil\n")
    response = import_zip(browser, buffer.getvalue())
    assert "leaves the archive folder" in html.unescape(response.get_data(as_text=True))
    assert db.scalar(select(func.count(Draft.id))) == 0


def test_a_trainer_cannot_import_over_a_course_they_do_not_author(browser, trainer, published, tmp_path, db):
    published()
    content = zip_of(write_course(tmp_path / "zip"), top="tiny-course")
    for mode in ("draft", "publish"):
        response = import_zip(browser, content, mode=mode)
        assert response.status_code == 200
        assert "a course with the id tiny-course already exists" in response.get_data(as_text=True)
    assert db.scalar(select(func.count(Draft.id))) == 0
    assert db.scalar(select(func.count(CourseVersion.id))) == 1


def test_a_draft_with_errors_downloads_as_its_files(app, browser, trainer, new_course):
    draft = new_course("unfinished")
    response = browser.client.get(f"{draft}/export")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert names == ["unfinished/course.yaml"]
