"""Course media over HTTP, course versions under trainees' feet, and export/import round trips via the CLI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from cbt.content.errors import ContentError
from cbt.courses.models import CourseVersion
from cbt.learn.models import Enrollment
from tests.conftest import ROOT
from tests.learn.kit import Trainee, ids_of, import_course, noise_png, write_course

SHIPPED = sorted(p.name for p in (ROOT / "courses").iterdir() if (p / "course.yaml").is_file())


# --- media --------------------------------------------------------------------------------------------

@pytest.fixture
def picture(app, client, auth, db, tmp_path) -> dict:
    """A course whose first lesson shows a picture; a trainee signed in; the picture's URL from the page."""
    version_id, _ = import_course(app, write_course(tmp_path / "src", media=True))
    lesson = ids_of(db, version_id)["lessons"][0]
    auth.login_as("trainee")
    page = client.get(f"/learn/courses/mini-course/lessons/{lesson}").get_data(as_text=True)
    src = re.search(r'<img src="([^"]+)" alt="A noisy picture"', page).group(1)
    assert src == f"/media/{version_id}/media/noise.png"
    return {"url": src, "bytes": noise_png(), "version_id": version_id}


def _get(client, url: str, **headers: str):
    response = client.get(url, headers=headers)
    body = response.get_data()
    response.close()
    return response, body


def test_media_is_served_with_an_etag_and_a_long_private_cache(client, picture):
    response, body = _get(client, picture["url"])
    assert response.status_code == 200
    assert body == picture["bytes"]
    assert response.mimetype == "image/png"
    assert response.headers["ETag"]
    cache = response.headers["Cache-Control"]
    assert "private" in cache and "public" not in cache and "no-store" not in cache
    assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 30 * 24 * 3600


def test_if_none_match_gives_304(client, picture):
    etag = _get(client, picture["url"])[0].headers["ETag"]
    response, body = _get(client, picture["url"], **{"If-None-Match": etag})
    assert response.status_code == 304 and body == b""
    assert "private" in response.headers["Cache-Control"]
    response, body = _get(client, picture["url"], **{"If-None-Match": '"something-else"'})
    assert response.status_code == 200 and body == picture["bytes"]


@pytest.mark.parametrize(("range_header", "start", "end"), [
    ("bytes=100-199", 100, 200),
    ("bytes=0-0", 0, 1),
    ("bytes=-50", -50, None),
    ("bytes=1000-", 1000, None),
])
def test_range_requests_give_206_with_the_right_bytes(client, picture, range_header, start, end):
    data = picture["bytes"]
    response, body = _get(client, picture["url"], Range=range_header)
    assert response.status_code == 206
    assert body == data[start:end]
    first = start % len(data)
    assert response.headers["Content-Range"] == f"bytes {first}-{first + len(body) - 1}/{len(data)}"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_a_range_beyond_the_end_is_416(client, picture):
    response, _body = _get(client, picture["url"], Range=f"bytes={len(picture['bytes']) + 10}-")
    assert response.status_code == 416


def test_media_path_of_another_course_version_is_404(app, client, db, tmp_path, picture):
    other_version, _ = import_course(app, write_course(tmp_path / "other", "other-course"))
    path = picture["url"].split("/", 3)[3]  # media/noise.png
    assert _get(client, f"/media/{other_version}/{path}")[0].status_code == 404
    assert _get(client, f"/media/{picture['version_id'] + 1000}/{path}")[0].status_code == 404
    assert _get(client, f"/media/{picture['version_id']}/media/missing.png")[0].status_code == 404
    assert _get(client, f"/media/{picture['version_id']}/course.yaml")[0].status_code == 404
    assert _get(client, f"/media/{picture['version_id']}/../{path}")[0].status_code == 404


def test_media_for_anonymous_visitors_redirects_to_sign_in(app, picture):
    response, body = _get(app.test_client(), picture["url"])
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert picture["bytes"][:100] not in body


# --- versions -------------------------------------------------------------------------------------------

def _versions(db) -> int:
    db.rollback()
    count = db.scalar(select(func.count(CourseVersion.id)))
    db.rollback()
    return count


def test_importing_the_same_folder_twice_keeps_one_version(app, db, tmp_path):
    folder = write_course(tmp_path / "src")
    first, created = import_course(app, folder)
    assert created
    again, created = import_course(app, folder)
    assert (again, created) == (first, False)
    assert _versions(db) == 1


def test_changed_content_under_the_same_version_number_is_refused(app, db, tmp_path):
    import_course(app, write_course(tmp_path / "v1"))
    with pytest.raises(ContentError):
        import_course(app, write_course(tmp_path / "v1-edited", marker=" edited"))
    assert _versions(db) == 1


def test_a_new_version_leaves_started_trainees_on_theirs_and_gives_newcomers_the_new_one(
        app, client, auth, db, tmp_path, create_user):
    from tests.conftest import Auth

    v1, _ = import_course(app, write_course(tmp_path / "v1"))
    old = ids_of(db, v1)
    veteran = auth.login_as("trainee")
    trainee = Trainee(client, db)
    trainee.complete_lesson("mini-course", old["lessons"][0])
    attempt_id = trainee.start_quiz(old["quizzes"][0])
    trainee.answer_page(attempt_id, 1, {"answer": "0"})

    v2, created = import_course(app, write_course(tmp_path / "v2", version=2, marker=" v2"))
    assert created and v2 != v1
    new = ids_of(db, v2)

    # The veteran stays on version 1: its title, its lessons, its quiz and the attempt in progress.
    course = client.get("/learn/courses/mini-course").get_data(as_text=True)
    assert "Version 1" in course and "Mini course mini-course v2" not in course
    assert f"/learn/courses/mini-course/lessons/{old['lessons'][1]}" in course
    assert "Mini course mini-course v2" not in client.get("/learn/").get_data(as_text=True)
    assert client.get(f"/learn/courses/mini-course/lessons/{old['lessons'][1]}").status_code == 200
    assert client.get(f"/learn/courses/mini-course/lessons/{new['lessons'][1]}").status_code == 404
    assert client.get(f"/quiz/attempts/{attempt_id}/1").status_code == 200
    assert "Continue your attempt" in client.get(f"/quiz/{old['quizzes'][0]}").get_data(as_text=True)
    page = client.get(f"/learn/courses/mini-course/lessons/{old['lessons'][0]}").get_data(as_text=True)
    assert "You completed this lesson on" in page

    # A newcomer gets version 2.
    newcomer_client = app.test_client()
    newcomer = create_user("trainee")
    Auth(newcomer_client, create_user).login(newcomer.username)
    course = newcomer_client.get("/learn/courses/mini-course").get_data(as_text=True)
    assert "Version 2" in course and "Mini course mini-course v2" in course
    assert "Mini course mini-course v2" in newcomer_client.get("/learn/").get_data(as_text=True)
    first = newcomer_client.get("/learn/courses/mini-course/continue").headers["Location"]
    assert first == f"/learn/courses/mini-course/lessons/{new['lessons'][0]}"
    assert newcomer_client.get(first).status_code == 200
    assert newcomer_client.get(f"/learn/courses/mini-course/lessons/{old['lessons'][0]}").status_code == 404

    db.rollback()
    enrolled = dict(db.execute(select(Enrollment.user_id, Enrollment.course_version_id)).all())
    assert enrolled == {veteran.id: v1, newcomer.id: v2}
    from cbt.quiz.models import Attempt

    assert db.get(Attempt, attempt_id).course_version_id == v1
    db.rollback()

    # The veteran can finish version 1, and the completion records that version.
    trainee.answer_all(attempt_id)
    trainee.submit(attempt_id)
    for lesson_id in old["lessons"][1:]:
        trainee.complete_lesson("mini-course", lesson_id)
    trainee.pass_quiz(old["quizzes"][1])
    trainee.pass_quiz(old["exam"])
    from cbt.learn.models import CourseCompletion

    db.rollback()
    assert db.scalars(select(CourseCompletion.course_version_id)).all() == [v1]
    db.rollback()


# --- export / import round trip -----------------------------------------------------------------------------

@pytest.mark.parametrize("slug", SHIPPED)
def test_export_and_reimport_of_every_shipped_course_changes_nothing(app, db, tmp_path, monkeypatch, slug):
    monkeypatch.setenv("CBT_CLI_LOCALE", "en")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["courses", "import", str(ROOT / "courses" / slug)])
    assert result.exit_code == 0, result.output
    assert f"Imported {slug} version" in result.output

    archive = tmp_path / "x.zip"
    result = runner.invoke(args=["courses", "export", slug, "--to", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.is_file()
    result = runner.invoke(args=["courses", "export", slug, "--to", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / slug
    assert (folder / "course.yaml").is_file()

    for exported in (archive, folder):
        result = runner.invoke(args=["courses", "validate", str(exported)])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["courses", "import", str(exported)])
        assert result.exit_code == 0, result.output
        assert "is already imported; nothing changed" in result.output, result.output
    assert _versions(db) == 1

    # The exported media are byte for byte the originals.
    for original in sorted((ROOT / "courses" / slug / "media").iterdir()):
        assert (folder / "media" / original.name).read_bytes() == original.read_bytes(), original.name


def test_an_old_versions_quiz_url_does_not_enrol_a_newcomer_on_the_old_version(app, client, auth, db, tmp_path):
    v1, _ = import_course(app, write_course(tmp_path / "v1"))
    old_quiz = ids_of(db, v1)["quizzes"][0]
    import_course(app, write_course(tmp_path / "v2", version=2, marker=" v2"))
    auth.login_as("trainee")
    assert client.get(f"/quiz/{old_quiz}").status_code == 404
    assert "Version 2" in client.get("/learn/courses/mini-course").get_data(as_text=True)
