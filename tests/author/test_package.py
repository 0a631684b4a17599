"""The pure parts of the workspace: validated package changes, names, form conversion, translation status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from cbt.author import forms
from cbt.author.package import (
    Package,
    added_errors,
    change_package,
    media_name,
    recover,
    slugify,
    write_yaml,
)
from cbt.author.translation import course_completeness, gaps
from cbt.content import load_course
from cbt.content.errors import ERROR, WARNING, Problem
from tests.content.kit import png
from tests.pages import write_course


def test_added_errors_ignores_moved_lines_but_counts_copies():
    old = Problem(ERROR, "a.yaml", 3, "questions[2].answer", "bad %(x)s", {"x": 1})
    moved = Problem(ERROR, "a.yaml", 9, "questions[1].answer", "bad %(x)s", {"x": 1})
    assert added_errors([old], [moved]) == []
    assert added_errors([old], [moved, moved]) == [moved]
    assert added_errors([], [Problem(WARNING, "a.yaml", 1, None, "gap", {})]) == []


def test_a_refused_change_leaves_the_folder_untouched(tmp_path):
    folder = write_course(tmp_path)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def break_it(stage: Path) -> None:
        data = Package(stage).course()
        data["estimated_minutes"] = "soon"
        write_yaml(stage, "course.yaml", data)

    result = change_package(folder, break_it)
    assert not result.saved
    assert [p.message for p in result.added] == ["must be a whole number, not %(type)s"]
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-course"]  # no staging folder left


def test_a_saved_change_replaces_the_folder_and_keeps_linked_media_intact(tmp_path):
    folder = write_course(tmp_path)
    (folder / "media").mkdir()
    (folder / "media" / "map.png").write_bytes(png(4, 4))
    inode = (folder / "media" / "map.png").stat().st_ino

    def retitle(stage: Path) -> None:
        data = Package(stage).course()
        data["title"]["en"] = "Border basics, revised"
        write_yaml(stage, "course.yaml", data)

    result = change_package(folder, retitle)
    assert result.saved and result.course is not None and result.course.title["en"] == "Border basics, revised"
    assert (folder / "media" / "map.png").read_bytes() == png(4, 4)
    assert (folder / "media" / "map.png").stat().st_ino == inode  # hard-linked, not copied
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-course"]


def test_recover_restores_a_folder_left_half_replaced(tmp_path):
    folder = write_course(tmp_path)
    os.rename(folder, tmp_path / ".old-123")  # a crash between the two renames
    (tmp_path / ".stage-456").mkdir()
    recover(folder)
    assert (folder / "course.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-course"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Грузовик МАЗ 5440", "gruzovik-maz-5440"),
    ("Жүк көлігі: құжаттар", "zhuk-koligi-quzhattar"),
    ("  --Seals & locks!  ", "seals-locks"),
    ("???", "item"),
])  # fmt: skip
def test_slugify_makes_ids_from_any_language(text, expected):
    assert slugify(text) == expected


def test_media_names_are_safe_lowercase_and_unique():
    assert media_name("Схема ТС.JPEG", []) == "skhema-ts.jpg"
    assert media_name("C:\\Users\\me\\truck.svg", ["truck.svg"]) == "truck-2.svg"
    assert media_name("../../etc/passwd", []) is None
    assert media_name("clip.MOV", []) is None
    assert media_name(".png", []) == "image.png"


def test_form_rows_unflatten_drop_blank_rows_and_get_ids():
    form = MultiDict([
        ("prompt.en", "Which?"), ("options[0].text.en", " Seal "), ("options[1].text.en", ""),
        ("options[2].id", "c"), ("options[2].text.en", "Stamp"), ("options[3].text.en", "Tape"),
        ("answer", "3"), ("points", "1,5"), ("tags", "docs, seals"), ("csrf_token", "x"),
    ])  # fmt: skip
    data = forms.question(form, "single", "q-1")
    assert data == {
        "id": "q-1", "type": "single", "points": 1.5, "tags": ["docs", "seals"], "prompt": {"en": "Which?"},
        "options": [{"id": "a", "text": {"en": "Seal"}}, {"id": "c", "text": {"en": "Stamp"}},
                    {"id": "b", "text": {"en": "Tape"}}],
        "answer": "b",
    }


def test_numbers_that_do_not_parse_are_kept_for_the_validator():
    form = MultiDict([("regions[0].coords", "10, 20, x, 40"), ("regions[1].coords", "1 2 3")])
    data = forms.question(form, "hotspot", "h")
    assert [r["coords"] for r in data["regions"]] == ["10, 20, x, 40", [1, 2, 3]]


def test_completeness_counts_every_localized_field_and_lesson(tmp_path):
    course, problems = load_course(write_course(tmp_path))
    assert course is not None, problems
    completeness = course_completeness(course)
    # title, description, module title, 2 lessons, prompt, 2 option texts, feedback
    assert completeness.total == 9
    assert completeness.present == {"kk": 8, "ru": 9, "en": 9}
    assert completeness.percent("kk") == 88  # rounded down: 100 % means complete


def test_gaps_come_from_the_loaders_warnings(tmp_path):
    _course, problems = load_course(write_course(tmp_path))
    found = gaps(problems, "kk")
    assert [(g.path, g.lesson) for g in found] == [("01-intro/02-only-russian.kk.md", "02-only-russian")]
    assert gaps(problems, "ru") == []
