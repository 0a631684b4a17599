"""Export and re-import: ``load(write(load(x)))`` gives back the same course."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbt.content import (
    LOCALES,
    Course,
    LessonText,
    LocalizedText,
    load_course,
    safe_extract_zip,
    write_course,
    write_zip,
)
from cbt.content.writer import zip_bytes
from cbt.content.yamlio import dump_yaml, load_yaml, split_front_matter

from .kit import base_files, write_files

REPO = Path(__file__).resolve().parents[2]
COURSES = sorted(p for p in (REPO / "courses").glob("*") if (p / "course.yaml").is_file())


def _source(folder: Path):  # type: ignore[no-untyped-def]
    return lambda rel: (folder / rel).read_bytes()


def _roundtrip(folder: Path, out: Path) -> tuple[Course, Course]:
    course, problems = load_course(folder)
    assert course is not None, [p.format() for p in problems if p.is_error]
    written = write_course(course, out, _source(folder))
    again, problems_again = load_course(written)
    assert again is not None, [p.format() for p in problems_again if p.is_error]
    # Writing never creates problems that were not there (warnings stay the same, too).
    assert [p.format() for p in problems_again] == [p.format() for p in problems]
    return course, again


def test_fixture_course_roundtrip(tmp_path: Path) -> None:
    course, again = _roundtrip(write_files(tmp_path / "src", base_files()), tmp_path / "out")
    assert again == course


def test_zip_roundtrip(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "src", base_files())
    course, _problems = load_course(folder)
    assert course is not None
    archive = tmp_path / "course.zip"
    write_zip(course, archive, _source(folder))
    extracted = safe_extract_zip(archive, tmp_path / "unzipped")
    again, problems = load_course(extracted.root)
    assert problems == [] and again == course
    assert zip_bytes(course, _source(folder)) == archive.read_bytes()  # deterministic export


def test_writer_refuses_stale_media(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "src", base_files())
    course, _problems = load_course(folder)
    assert course is not None
    with pytest.raises(ValueError, match="does not match"):
        write_course(course, tmp_path / "out", lambda rel: b"changed")
    assert not (tmp_path / "out" / course.id).exists()


def test_writer_refuses_non_empty_destination(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "src", base_files())
    course, _problems = load_course(folder)
    assert course is not None
    (tmp_path / "out" / course.id).mkdir(parents=True)
    (tmp_path / "out" / course.id / "old.txt").write_text("x")
    with pytest.raises(FileExistsError):
        write_course(course, tmp_path / "out", _source(folder))


@pytest.mark.parametrize("folder", COURSES, ids=[p.name for p in COURSES])
def test_real_course_roundtrip(tmp_path: Path, folder: Path) -> None:
    """Every shipped course that validates survives export and re-import unchanged."""
    course, problems = load_course(folder)
    if course is None:
        pytest.skip(f"{folder.name} has errors: {sum(p.is_error for p in problems)}")
    _course, again = _roundtrip(folder, tmp_path)
    assert again == course


# -- property-based --------------------------------------------------------------------------

texts = st.text(min_size=1).filter(lambda s: s.strip() != "")
localized = st.dictionaries(st.sampled_from(LOCALES), texts, min_size=1)


@settings(database=None)
@given(values=localized, wanted=st.sampled_from(LOCALES), order=st.permutations(LOCALES))
def test_localized_fallback(values: dict[str, str], wanted: str, order: list[str]) -> None:
    text, used = LocalizedText(values).get(wanted, order)
    assert values[used] == text
    if wanted in values:
        assert used == wanted
    else:
        # The first locale of the fallback order that has a text.
        assert used == next(loc for loc in order if loc in values)


@settings(database=None)
@given(values=st.dictionaries(st.text(min_size=1), texts, min_size=1), wanted=st.text())
def test_localized_fallback_any_locale(values: dict[str, str], wanted: str) -> None:
    """Even locales outside the fallback order are found, so a reader always sees something."""
    text, used = LocalizedText(values).get(wanted, fallback_order=())
    assert values[used] == text


def test_localized_empty_raises() -> None:
    with pytest.raises(KeyError):
        LocalizedText({}).get("en")


@settings(database=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
))  # fmt: skip
def test_yaml_dump_load_roundtrip(value: object) -> None:
    """Whatever the writer dumps, the loader reads back as the same value."""
    loaded = load_yaml(dump_yaml({"v": value}), "x.yaml")
    assert loaded.problems == []
    assert loaded.data == {"v": value}


@settings(database=None)
@given(title=texts, body=st.text())
def test_front_matter_roundtrip(title: str, body: str) -> None:
    text = f"---\n{dump_yaml({'title': title, 'minutes': 3})}---\n{body}"
    front = split_front_matter(text)
    assert front is not None
    assert front.body == body
    assert load_yaml(front.yaml_text, "x.md").data == {"title": title, "minutes": 3}


_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="[]<>!()&\\`*_#|~^{}:"),
    min_size=1,
).filter(lambda s: s.strip() != "")


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_plain, body=st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                           blacklist_characters="[]<>!()\\")),
       prompt=st.dictionaries(st.sampled_from(LOCALES), _plain, min_size=3))  # fmt: skip
def test_course_roundtrip_with_arbitrary_text(title: str, body: str, prompt: dict[str, str]) -> None:
    """Titles, bodies and prompts with any characters come back from a write unchanged."""
    with tempfile.TemporaryDirectory() as tmp:
        src = write_files(Path(tmp) / "src", base_files())
        course, _problems = load_course(src)
        assert course is not None
        module = course.modules[1]
        lesson = module.lessons[0]
        texts = dict(lesson.texts)
        texts["en"] = LessonText(title=title, minutes=7, markdown=body)
        question = dataclasses.replace(module.questions[0], prompt=LocalizedText(prompt))
        module = dataclasses.replace(
            module, lessons=(dataclasses.replace(lesson, texts=texts),), questions=(question,)
        )
        changed = dataclasses.replace(course, modules=(course.modules[0], module))
        written = write_course(changed, Path(tmp) / "out", _source(src))
        again, problems = load_course(written)
        assert again == changed, [p.format() for p in problems]
