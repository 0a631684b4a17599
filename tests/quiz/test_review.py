"""What the review and the pre-filled page show for a stored answer (review.py, without a database)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cbt.quiz import review


def question(kind: str, spec: dict[str, Any], rendered: dict[str, Any], points: float = 1) -> Any:
    return SimpleNamespace(
        type=kind, spec=spec, points=points, rendered={"prompt": {"en": "?"}, "feedback": None, "spec": rendered}
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4713, "4713"),
        (4713.0, "4713"),
        (12345.67, "12345.67"),
        (1000000.0, "1000000"),
        (1.5e-05, "0.000015"),
        (-2.5, "-2.5"),
        (1e20, "100000000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_format_number_keeps_every_digit_and_never_an_exponent(value: float, text: str) -> None:
    assert review.format_number(value) == text


def test_hotspot_review_names_the_region_that_earned_the_grade() -> None:
    """A point on the edge shared by a wrong and a right region is graded right; the review must agree."""
    spec = {
        "regions": [
            {"id": "roof", "shape": "rect", "coords": [0, 0, 100, 50]},
            {"id": "cab", "shape": "rect", "coords": [0, 50, 100, 100]},
        ],
        "answer": ["cab"],
    }
    rendered = {"regions": [{"id": "roof", "label": {"en": "Roof"}}, {"id": "cab", "label": {"en": "Cab"}}]}
    response = SimpleNamespace(answer={"point": [50, 50]}, score=None, fraction=None)
    item = review.question_review(question("hotspot", spec, rendered), response, {})
    assert item["fraction"] == 1.0
    assert item["given"] == [{"html": {"en": "Cab"}}]


def test_short_text_key_is_offered_per_locale_and_escaped() -> None:
    spec = {"answer": {"kk": ["ХЖТ"], "en": ["<b>TIR</b>", "TIR carnet"]}}
    item = review.question_review(question("short_text", spec, {}), None, {})
    assert item["correct"] == [{"html": {"kk": "ХЖТ", "en": "&lt;b&gt;TIR&lt;/b&gt;, TIR carnet"}}]
