"""Building the structure: modules, lessons and questions added, reordered and removed; every question type."""

from __future__ import annotations

import io

import pytest

from cbt.author.package import Package
from cbt.content import load_course
from tests.author.conftest import folder_of
from tests.author.kit import SVG


def test_modules_are_added_reordered_and_removed(app, browser, trainer, course_with_module):
    draft = course_with_module
    for title in ("Concealment", "Dogs"):
        assert browser.post(f"{draft}/modules", {"title.en": title}, form_page=draft).status_code == 302
    folder = folder_of(app, draft)

    def package() -> Package:  # a fresh reader after each change (a Package parses each file once)
        return Package(folder)

    assert package().module_ids() == ["01-documents", "02-concealment", "03-dogs"]
    browser.post(f"{draft}/modules/03-dogs/move", {"direction": "up"}, form_page=draft)
    assert package().module_ids() == ["01-documents", "03-dogs", "02-concealment"]
    browser.post(f"{draft}/modules/01-documents/move", {"direction": "up"}, form_page=draft)  # already first
    assert package().module_ids() == ["01-documents", "03-dogs", "02-concealment"]
    module = f"{draft}/modules/03-dogs"
    browser.post(f"{module}/remove", {"confirm": "1"}, form_page=module)
    assert package().module_ids() == ["01-documents", "02-concealment"]
    assert not (package().root / "03-dogs").exists()


def test_a_module_folder_name_can_be_chosen(app, browser, trainer, course_with_module):
    draft = course_with_module
    response = browser.post(f"{draft}/modules", {"title.en": "Рентген", "id": "x-ray"}, form_page=draft)
    assert response.headers["Location"].endswith("/modules/x-ray")
    response = browser.post(f"{draft}/modules", {"title.en": "Рентген"}, form_page=draft)
    assert response.headers["Location"].endswith("/modules/03-rentgen")  # made from the title


def test_lessons_are_added_reordered_and_removed(app, browser, trainer, course_with_module):
    draft = course_with_module
    module = f"{draft}/modules/01-documents"
    browser.post(f"{module}/lessons", {"title": "CMR notes", "minutes": "7"}, form_page=module)
    folder = folder_of(app, draft)

    def package() -> Package:  # a fresh reader after each change (a Package parses each file once)
        return Package(folder)

    assert package().lesson_ids("01-documents") == ["01-introduction", "02-cmr-notes"]
    assert package().lesson("01-documents", "02-cmr-notes", "en").minutes == 7
    browser.post(f"{module}/lessons/02-cmr-notes/move", {"direction": "up"}, form_page=module)
    assert package().lesson_ids("01-documents") == ["02-cmr-notes", "01-introduction"]
    browser.post(f"{module}/lessons/02-cmr-notes/remove", {"confirm": "1"}, form_page=module)
    assert package().lesson_ids("01-documents") == ["01-introduction"]
    assert not (package().root / "01-documents" / "02-cmr-notes.en.md").exists()


VALID = {
    "single": {"options[0].text.en": "A", "options[1].text.en": "B", "answer": "1"},
    "multiple": {"options[0].text.en": "A", "options[0].correct": "1", "options[1].text.en": "B",
                 "options[2].text.en": "C", "options[2].correct": "1", "scoring": "partial", "penalty": "0.5"},
    "true_false": {"answer": "false"},
    "short_text": {"answer.en": "TIR\nTIR carnet", "answer.kk": "ХЖТ"},
    "numeric": {"answer": "12,5", "tolerance": "0.05", "tolerance_mode": "relative", "unit.en": "litres"},
    "matching": {"pairs[0].left.en": "CMR", "pairs[0].right.en": "Road", "pairs[1].left.en": "SMGS",
                 "pairs[1].right.en": "Rail", "distractors[0].text.en": "Air"},
    "ordering": {"items[0].text.en": "Second", "items[0].position": "2", "items[1].text.en": "First",
                 "items[1].position": "1", "items[2].text.en": "Third", "items[2].position": "3"},
    "hotspot": {"image": "../media/truck.svg", "alt.en": "A truck", "regions[0].id": "tank",
                "regions[0].label.en": "Tank", "regions[0].coords": "10, 10, 50, 40", "regions[0].correct": "1",
                "regions[1].label.en": "Wheel", "regions[1].shape": "circle", "regions[1].coords": "300 150 30",
                "regions[2].label.en": "Roof", "regions[2].shape": "polygon",
                "regions[2].coords": "0, 0, 100, 0, 100, 20"},
    "scenario": {"start": "s1", "steps[0].id": "s1", "steps[0].text.en": "Arrival",
                 "steps[0].choices[0].text.en": "Check", "steps[0].choices[0].next": "s2",
                 "steps[0].choices[0].points": "1", "steps[0].choices[0].feedback.en": "Good.",
                 "steps[0].choices[1].text.en": "Release", "steps[1].id": "s2", "steps[1].text.en": "A weld",
                 "steps[1].choices[0].text.en": "Drill", "steps[1].choices[0].points": "2"},
}  # fmt: skip


@pytest.mark.parametrize("qtype", list(VALID))
def test_every_question_type_is_saved_in_the_package_format(app, browser, trainer, course_with_module, qtype):
    draft = course_with_module
    if qtype == "hotspot":
        browser.post(f"{draft}/media", {"file": (io.BytesIO(SVG), "truck.svg")}, content_type="multipart/form-data")
    url = f"{draft}/modules/01-documents/questions/new?type={qtype}"
    response = browser.post(url, {"id": "q-1", "prompt.en": "Question?", "difficulty": "hard", "points": "2",
                                  "action": "save", **VALID[qtype]})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert browser.client.get(response.headers["Location"]).status_code == 200  # the editor opens it again
    course, problems = load_course(folder_of(app, draft))
    assert course is not None, [p.format() for p in problems if p.is_error]
    question = course.question("q-1")
    assert question.type == qtype and question.difficulty == "hard"
    spec = question.spec
    expected = {
        "single": lambda: spec["answer"] == "b",
        "multiple": lambda: spec["answer"] == ["a", "c"] and spec["penalty"] == 0.5,
        "true_false": lambda: spec["answer"] is False,
        "short_text": lambda: spec["answer"] == {"kk": ["ХЖТ"], "en": ["TIR", "TIR carnet"]},
        "numeric": lambda: spec["answer"] == 12.5 and spec["tolerance_mode"] == "relative",
        "matching": lambda: [p["id"] for p in spec["pairs"]] == ["p1", "p2"] and spec["distractors"][0]["id"] == "d1",
        "ordering": lambda: [i["text"]["en"] for i in spec["items"]] == ["First", "Second", "Third"],
        "hotspot": lambda: spec["answer"] == ["tank"] and [r["id"] for r in spec["regions"]] == ["tank", "r1", "r2"],
        "scenario": lambda: question.points == 3 and spec["steps"][0]["choices"][0]["next"] == "s2",
    }[qtype]
    assert expected(), spec
    assert question.points == (3 if qtype == "scenario" else 2)


def test_questions_are_reordered_and_removed(app, browser, trainer, course_with_module):
    draft = course_with_module
    module = f"{draft}/modules/01-documents"
    for qid in ("q-a", "q-b"):
        browser.post(f"{module}/questions/new?type=true_false", {"id": qid, "prompt.en": qid, "answer": "true",
                                                                 "action": "save"})  # fmt: skip
    folder = folder_of(app, draft)

    def package() -> Package:  # a fresh reader after each change (a Package parses each file once)
        return Package(folder)

    browser.post(f"{module}/questions/q-b/move", {"direction": "up"}, form_page=module)
    assert [q["id"] for q in package().questions("01-documents")] == ["q-b", "q-a"]
    browser.post(f"{module}/questions/q-b/remove", {"confirm": "1"}, form_page=module)
    browser.post(f"{module}/questions/q-a/remove", {"confirm": "1"}, form_page=module)
    assert not (package().root / "01-documents" / "questions.yaml").exists()
    assert "questions" not in package().module("01-documents")
    course, problems = load_course(package().root)
    assert course is not None, problems


def test_an_exam_is_added_and_required_for_completion(app, browser, trainer, course_with_module):
    draft = course_with_module
    browser.post(f"{draft}/modules/01-documents/questions/new?type=true_false",
                 {"id": "q-1", "prompt.en": "Sealed?", "answer": "true", "action": "save"})  # fmt: skip
    response = browser.post(f"{draft}/exam", {"kind": "exam", "mode": "pick", "questions": "q-1", "pass_mark": "80",
                                              "time_limit_minutes": "20", "attempts": "2", "action": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)
    settings = {"source_locale": "en", "title.en": "Border basics", "description.en": "A course.",
                "estimated_minutes": "30", "completion.lessons": "all", "completion.quizzes": "passed",
                "completion.exam": "passed"}  # fmt: skip
    assert browser.post(f"{draft}/settings", settings).status_code == 302
    course, problems = load_course(folder_of(app, draft))
    assert course is not None, problems
    assert course.exam.question_ids == ("q-1",) and course.exam.attempts == 2 and course.exam.shuffle_options is False
    # With the exam required, it cannot be removed.
    response = browser.post(f"{draft}/exam", {"action": "remove"}, follow=True)
    assert 'completion.exam is "passed" but the course has no exam.yaml' in response.get_data(as_text=True).replace(
        "&#34;", '"')
    assert (folder_of(app, draft) / "exam.yaml").exists()
