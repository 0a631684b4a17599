"""The loader reports problems for any broken input; it never raises."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbt.content import load_course
from cbt.content.media import inspect_media

from .kit import base_files, write_files

TEXT_FILES = sorted(k for k, v in base_files().items() if isinstance(v, str))
#: Snippets that are likely to hit type checks rather than just break the YAML syntax.
SNIPPETS = st.sampled_from(
    [
        "",
        "null",
        "[]",
        "{}",
        "- x",
        ": ",
        "1",
        "-1",
        "0.5",
        "true",
        "yes",
        "'",
        '"',
        "\n",
        "  ",
        "\t",
        "&a",
        "*a",
        "!!python/object:os.system",
        "{en: x}",
        "[a, b]",
        "../",
        "/etc/passwd",
        "st1",
        "q-single",
        "a",
        "---",
        "\x1f",
        "\ufeff",
    ]
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(TEXT_FILES),
    start=st.integers(min_value=0, max_value=4000),
    length=st.integers(min_value=0, max_value=40),
    insert=SNIPPETS | st.text(max_size=20),
)
def test_corrupted_course_never_crashes(path: str, start: int, length: int, insert: str) -> None:
    files = base_files()
    text = str(files[path])
    start = min(start, len(text))
    files[path] = text[:start] + insert + text[start + length :]
    with tempfile.TemporaryDirectory() as tmp:
        course, problems = load_course(write_files(Path(tmp), files))
    if course is None:
        assert any(p.is_error for p in problems)
    for problem in problems:
        assert problem.text()  # every message formats with its params


SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="'


@settings(max_examples=200, deadline=None, database=None)
@given(
    suffix=st.sampled_from([".svg", ".png", ".jpg", ".webp", ".mp4", ".webm"]),
    data=st.binary(max_size=200)
    | st.builds(lambda b: b"\x89PNG\r\n\x1a\n" + b, st.binary(max_size=40))
    | st.builds(lambda b: b"\xff\xd8\xff" + b, st.binary(max_size=60))
    | st.builds(lambda b: b"RIFF\x00\x00\x00\x00WEBP" + b, st.binary(max_size=40))
    | st.builds(lambda t: (SVG_HEAD + t + '"/>').encode(), st.text(max_size=20)),
)
def test_media_checks_never_crash(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x{suffix}"
        path.write_bytes(data)
        info = inspect_media(path, f"media/x{suffix}")
    for problem in info.problems:
        assert problem.text()
