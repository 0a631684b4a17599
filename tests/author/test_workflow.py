"""A course built entirely in the browser: metadata, a module, a lesson in three languages, two questions of
different types and a quiz; its export passes ``cbt courses validate`` and imports again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from cbt.courses.models import Course, CourseVersion, LessonText, QuestionVersion, Quiz
from tests.author.conftest import folder_of
from tests.author.kit import draft_url


def build_course(browser, new_course) -> str:
    draft = new_course("border-basics")
    # Course settings: audience and completion rule.
    response = browser.post(f"{draft}/settings", {
        "source_locale": "en", "title.en": "Border basics", "title.ru": "Основы границы",
        "title.kk": "Шекара негіздері", "description.en": "What every officer checks first.",
        "description.ru": "Что каждый сотрудник проверяет первым.",
        "description.kk": "Әр қызметкер алдымен не тексереді.", "audience.en": "New officers",
        "estimated_minutes": "45", "completion.lessons": "all", "completion.quizzes": "passed",
        "completion.exam": "none",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    # A module, renamed in every language.
    response = browser.post(f"{draft}/modules", {"title.en": "Documents"}, form_page=draft)
    module = response.headers["Location"]
    assert module.endswith("/modules/01-documents")
    assert browser.post(module, {"title.en": "Documents", "title.ru": "Документы",
                                 "title.kk": "Құжаттар"}).status_code == 302  # fmt: skip
    # A lesson, written in English and translated side by side into Russian and Kazakh.
    response = browser.post(f"{module}/lessons", {"title": "Why documents", "minutes": "10"}, form_page=module)
    lesson = response.headers["Location"]
    assert lesson.endswith("/lessons/01-why-documents/en")
    texts = {
        "en": ("Why documents", "Documents are the first **risk filter**."),
        "ru": ("Зачем документы", "Документы — первый **фильтр риска**."),
        "kk": ("Неге құжаттар", "Құжаттар — тәуекелдің бірінші **сүзгісі**."),
    }
    for locale, (title, body) in texts.items():
        url = lesson[: -len("en")] + locale
        response = browser.post(url, {"title": title, "minutes": "10", "body": body, "action": "save"})
        assert response.status_code == 302, (locale, response.get_data(as_text=True))
    # Two questions of different types.
    response = browser.post(f"{module}/questions/new?type=single", {
        "id": "bb-q1", "prompt.en": "Which document travels with a TIR transport?",
        "prompt.ru": "Какой документ сопровождает перевозку МДП?", "prompt.kk": "ХЖТ тасымалын қай құжат ілеседі?",
        "options[0].text.en": "TIR carnet", "options[0].text.ru": "Книжка МДП", "options[0].text.kk": "ХЖТ кітапшасы",
        "options[1].text.en": "Boarding pass", "options[1].text.ru": "Посадочный талон",
        "options[1].text.kk": "Отырғызу талоны", "answer": "0", "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    response = browser.post(f"{module}/questions/new?type=matching", {
        "id": "bb-q2", "prompt.en": "Match each document with its transport.",
        "pairs[0].left.en": "CMR", "pairs[0].right.en": "Road", "pairs[1].left.en": "SMGS",
        "pairs[1].right.en": "Rail", "distractors[0].text.en": "Air", "tags": "documents, transport",
        "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    # The module's practice quiz.
    response = browser.post(f"{module}/quiz", {
        "kind": "practice", "mode": "all", "pass_mark": "60", "shuffle_questions": "1", "shuffle_options": "1",
        "action": "save",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    return draft


def test_a_course_built_in_the_browser_exports_validates_and_imports(app, browser, trainer, new_course, runner,
                                                                     tmp_path, db):  # fmt: skip
    draft = build_course(browser, new_course)
    overview = browser.page(draft)
    assert "No errors: this draft can be published." in overview

    folder = folder_of(app, draft)
    assert (folder / "01-documents" / "01-why-documents.kk.md").read_text(encoding="utf-8").startswith(
        "---\ntitle: Неге құжаттар\nminutes: 10\n---\n")
    assert "answer: a" in (folder / "01-documents" / "questions.yaml").read_text(encoding="utf-8")

    response = browser.client.get(f"{draft}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = tmp_path / "border-basics.zip"
    archive.write_bytes(response.data)

    validated = runner.invoke(args=["courses", "validate", str(archive)])
    assert validated.exit_code == 0, validated.output
    imported = runner.invoke(args=["courses", "import", str(archive)])
    assert imported.exit_code == 0, imported.output
    assert "Imported border-basics version 1." in imported.output

    version = db.scalar(select(CourseVersion).join(Course).where(Course.slug == "border-basics"))
    assert version.title == {"kk": "Шекара негіздері", "ru": "Основы границы", "en": "Border basics"}
    assert version.completion == {"lessons": "all", "quizzes": "passed", "exam": "none"}
    assert db.scalar(select(func.count(LessonText.id)).join(LessonText.lesson)
                     .where(LessonText.lesson.property.mapper.class_.course_version_id == version.id)) == 3
    questions = db.scalars(select(QuestionVersion).where(QuestionVersion.course_version_id == version.id)
                           .order_by(QuestionVersion.position)).all()
    assert [(q.slug, q.type) for q in questions] == [("bb-q1", "single"), ("bb-q2", "matching")]
    assert questions[1].tags == ["documents", "transport"]
    quiz = db.scalar(select(Quiz).where(Quiz.course_version_id == version.id))
    assert quiz.pass_mark == 60 and quiz.question_slugs is None


def test_the_same_course_publishes_from_the_browser_and_trainees_can_take_it(app, browser, trainer, new_course,
                                                                            client, auth, db):  # fmt: skip
    draft = build_course(browser, new_course)
    response = browser.post(f"{draft}/publish", {"changelog": "First version.", "action": "publish"},
                            form_page=draft)  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == "/author/courses/border-basics"
    version = db.scalar(select(CourseVersion).join(Course).where(Course.slug == "border-basics"))
    assert version.version == 1 and version.changelog == "First version."
    assert not (Path(app.instance_path) / "drafts" / draft.rsplit("/", 1)[1]).exists()

    auth.logout()
    auth.login_as("trainee")
    page = client.get("/learn/courses/border-basics").get_data(as_text=True)
    assert "Why documents" in page


def test_a_trainer_finds_the_workspace_from_the_menu_and_home_page(client, trainer):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/author/"' in home
    assert '<a href="/author/"' in client.get("/learn/").get_data(as_text=True)  # the main menu


def test_creating_a_course_opens_its_draft_and_grants_the_creator(browser, trainer, db):
    from cbt.author.models import CourseGrant, Draft

    response = browser.post("/author/new", {"id": "risk-101", "source_locale": "ru", "title.ru": "Риски",
                                            "description.ru": "Курс.", "estimated_minutes": "20"})  # fmt: skip
    draft = draft_url(response)
    assert "The course has no module yet" in browser.page(draft)
    assert db.scalar(select(Draft.course_slug).where(Draft.created_by_id == trainer.id)) == "risk-101"
    assert db.scalar(select(CourseGrant.user_id).where(CourseGrant.course_slug == "risk-101")) == trainer.id
    assert "risk-101" in browser.page("/author/")
