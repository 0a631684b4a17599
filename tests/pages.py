"""A small trilingual world and the URL of every GET page, for sweeps over all pages (i18n, a11y, browser).

``page_urls(app, world, role)`` must know every GET endpoint a role may open: a new route that is missing
here fails the sweep, so the sweep cannot silently skip new pages.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cbt.security import ACCESS_ATTR

TINY_COURSE = {
    "course.yaml": """
        id: tiny-course
        version: 1
        source_locale: en
        title: {en: Border basics, ru: Основы границы, kk: Шекара негіздері}
        description: {en: A short course., ru: Короткий курс., kk: Қысқа курс.}
        estimated_minutes: 20
        completion: {lessons: all, quizzes: passed, exam: none}
        modules: [01-intro]
    """,
    "01-intro/module.yaml": """
        title: {en: Introduction, ru: Введение, kk: Кіріспе}
        lessons: [01-welcome, 02-only-russian]
        questions: questions.yaml
        quiz: quiz.yaml
    """,
    "01-intro/01-welcome.en.md": "---\ntitle: Welcome\nminutes: 5\n---\nThe border is a line.\n",
    "01-intro/01-welcome.ru.md": "---\ntitle: Добро пожаловать\nminutes: 5\n---\nГраница — это линия.\n",
    "01-intro/01-welcome.kk.md": "---\ntitle: Қош келдіңіз\nminutes: 5\n---\nШекара — бұл сызық.\n",
    "01-intro/02-only-russian.en.md": "---\ntitle: Second\nminutes: 5\n---\nSecond lesson.\n",
    "01-intro/02-only-russian.ru.md": "---\ntitle: Второй урок\nminutes: 5\n---\nВторой урок.\n",
    "01-intro/questions.yaml": """
        - id: t-q1
          type: single
          prompt: {en: "Which document?", ru: "Какой документ?", kk: "Қай құжат?"}
          options:
            - {id: a, text: {en: Passport, ru: Паспорт, kk: Төлқұжат}}
            - {id: b, text: {en: Ticket, ru: Билет, kk: Билет}}
          answer: a
          feedback: {en: The passport., ru: Паспорт., kk: Төлқұжат.}
    """,
    "01-intro/quiz.yaml": "kind: practice\nquestions: all\npass_mark: 50\nreview: immediately\n",
}


def write_course(root: Path, files: dict[str, str] = TINY_COURSE, course_id: str = "tiny-course") -> Path:
    folder = root / course_id
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text).lstrip("\n")
        if rel == "course.yaml":
            body = body.replace("id: tiny-course", f"id: {course_id}")
        target.write_text(body, encoding="utf-8")
    return folder


def import_course(app: Any, folder: Path) -> Any:
    from cbt.courses.importer import import_folder
    from cbt.db import session, writing

    with app.app_context(), writing():
        outcome = import_folder(folder)
        session.commit()
        return outcome.version.id


@dataclass
class World:
    slug: str
    lesson_id: int
    quiz_id: int
    attempt_id: int
    finished_attempt_id: int


def build_world(app: Any, client: Any, auth: Any, tmp_path: Path, role: str = "trainee") -> World:
    """Import the tiny course, sign in as ``role``, leave one finished and one running attempt."""
    from sqlalchemy import select

    from cbt.courses.models import Lesson, Quiz
    from cbt.db import session
    from tests.conftest import csrf_token

    import_course(app, write_course(tmp_path))
    auth.login_as(role)
    with app.app_context():
        lesson_id = session.scalar(select(Lesson.id).order_by(Lesson.id))
        quiz_id = session.scalar(select(Quiz.id))
    token = csrf_token(client, f"/quiz/{quiz_id}")
    first = client.post(f"/quiz/{quiz_id}/start", data={"csrf_token": token}).headers["Location"]
    finished = int(first.split("/")[3])
    client.post(
        f"/quiz/attempts/{finished}/1", data={"csrf_token": token, "seq": "0", "answer": "0", "action": "finish"}
    )
    client.post(f"/quiz/attempts/{finished}/submit", data={"csrf_token": token})
    running = int(client.post(f"/quiz/{quiz_id}/start", data={"csrf_token": token}).headers["Location"].split("/")[3])
    return World("tiny-course", lesson_id, quiz_id, running, finished)


def page_urls(app: Any, world: World, role: str) -> list[str]:
    """Every GET page ``role`` may open, with real ids from ``world``."""
    known = {
        "core.home": "/",
        "core.healthz": None,  # JSON, not a page
        "core.ping": None,  # 204, keeps a session alive
        "auth.login": None,  # signed-in users are redirected away
        "auth.change_password": "/account/password",
        "learn.my_learning": "/learn/",
        "learn.transcript": "/learn/transcript",
        "learn.course": f"/learn/courses/{world.slug}",
        "learn.continue_course": None,  # a redirect
        "learn.lesson": f"/learn/courses/{world.slug}/lessons/{world.lesson_id}",
        "courses.media": None,  # files
        "quiz.overview": f"/quiz/{world.quiz_id}",
        "quiz.question": f"/quiz/attempts/{world.attempt_id}/1",
        "quiz.finish": f"/quiz/attempts/{world.attempt_id}/finish",
        "quiz.result": f"/quiz/attempts/{world.finished_attempt_id}/result",
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        access = getattr(app.view_functions[rule.endpoint], ACCESS_ATTR, ())
        if "public" not in access and role not in access:
            continue
        assert rule.endpoint in known, f"add {rule.endpoint} to tests/pages.py"
        if known[rule.endpoint]:
            urls.append(known[rule.endpoint])
    return urls
