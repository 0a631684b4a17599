"""Which writes wait for the disk: an answer, a submission and a completion do; where a trainee is and an
attempt with no answer yet do not (a class starting an exam together must not queue for the disk's flush).

Read off the connection at the moment each transaction commits, on either engine, so the test sees what the
database was told, not what the code meant.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, select, text

from cbt.courses.models import Course, CourseVersion, Lesson
from cbt.db import get_database, make_engine, relaxed_commits, write_intended, writing
from tests.quiz.conftest import answer_form, get_attempt, questions_in, token_of


@pytest.fixture
def commits(app: Flask) -> Iterator[list[bool]]:
    """Whether each write transaction the app commits is durable, in order (the end of a read transaction is
    a commit too, and is left out); clear it before the step you watch."""
    engine = get_database(app).engine
    seen: list[bool] = []

    def on_commit(conn) -> None:  # type: ignore[no-untyped-def]
        if write_intended():
            seen.append(_is_durable(conn.connection.dbapi_connection, engine.dialect.name))

    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "commit", on_commit)


def _is_durable(dbapi_conn, dialect: str) -> bool:  # type: ignore[no-untyped-def]
    if dialect == "sqlite":
        return dbapi_conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    return dbapi_conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"


def test_a_class_starting_an_exam_does_not_wait_for_the_disk_but_every_answer_does(kit, trainee, db, commits):
    commits.clear()
    trainee.overview(kit.exam_id)  # the first visit records where the trainee is
    assert commits == [False]
    trainee.overview(kit.exam_id)  # a reload writes nothing
    assert commits == [False]

    commits.clear()
    attempt_id = trainee.start_ok(kit.exam_id)
    assert commits == [False]  # the attempt, no answer in it yet

    attempt = get_attempt(db, attempt_id)
    question = next(q for q in questions_in(db, attempt) if q.type != "scenario")
    number = attempt.question_ids.index(question.id) + 1
    page = trainee.page(attempt_id, number)
    commits.clear()
    response = trainee.save(attempt_id, number, answer_form(question, attempt.layout[str(question.id)]), page=page)
    assert response.status_code == 302
    assert commits == [True]

    token_page = trainee.finish_page(attempt_id)
    assert token_page
    commits.clear()
    assert trainee.submit(attempt_id).status_code == 302
    assert commits and all(commits)


def test_a_lesson_visit_does_not_wait_for_the_disk_its_completion_does(kit, trainee, db, commits):
    db.rollback()
    slug, lesson_id = db.execute(
        select(Course.slug, Lesson.id)
        .join(CourseVersion, CourseVersion.course_id == Course.id)
        .join(Lesson, Lesson.course_version_id == CourseVersion.id)
        .where(CourseVersion.id == kit.version_id)
        .order_by(Lesson.position, Lesson.id)
    ).first()
    db.commit()
    path = f"/learn/courses/{slug}/lessons/{lesson_id}"
    commits.clear()
    page = trainee.html(path)
    assert commits == [False]
    commits.clear()
    assert trainee.client.post(f"{path}/complete", data={"csrf_token": token_of(page)}).status_code == 302
    assert commits and all(commits)


def test_a_relaxed_transaction_is_committed_and_the_connection_is_durable_again_after_it(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            dbapi_conn = conn.connection.dbapi_connection
            with writing():
                with relaxed_commits(), conn.begin():
                    assert not _is_durable(dbapi_conn, engine.dialect.name)
                    conn.execute(text("CREATE TABLE relaxed_probe (n INTEGER)"))
                    conn.execute(text("INSERT INTO relaxed_probe VALUES (1)"))
                with conn.begin():
                    assert _is_durable(dbapi_conn, engine.dialect.name)
                with relaxed_commits():  # rolled back: durable again all the same
                    transaction = conn.begin()
                    conn.execute(text("INSERT INTO relaxed_probe VALUES (2)"))
                    transaction.rollback()
                with conn.begin():
                    assert _is_durable(dbapi_conn, engine.dialect.name)
        with engine.connect() as other:  # committed, and visible to everyone at once
            assert other.execute(text("SELECT n FROM relaxed_probe")).scalars().all() == [1]
            other.rollback()
            with writing(), other.begin():
                other.execute(text("DROP TABLE relaxed_probe"))
    finally:
        engine.dispose()
