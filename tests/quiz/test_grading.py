"""Properties of the pure grading core, for every question type.

Every grade lies in [0, points], does not depend on the order of things whose order means nothing (the
choices of a multiple question, the pairs of a matching answer), is the same when graded twice, and gives
the known result for a known right or wrong answer. Typed answers are compared fairly across Unicode forms,
case and spacing; numbers accept a decimal comma; hotspot points are tested against the geometry directly.
"""

from __future__ import annotations

import math
import random
import time
import unicodedata
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cbt.quiz import grading, review

PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
points = st.sampled_from([0.5, 1, 2, 3.5, 10])


def check_common(kind: str, spec: dict[str, Any], answer: dict[str, Any] | None, pts: float) -> float:
    """The invariants every type shares; returns the fraction."""
    score, fraction = grading.grade(kind, spec, answer, pts)
    assert 0.0 <= fraction <= 1.0
    assert 0.0 <= score <= pts
    assert score == pytest.approx(pts * fraction, abs=1e-4)
    assert grading.grade(kind, spec, answer, pts) == (score, fraction)  # idempotent
    return fraction


# --- single / true_false ----------------------------------------------------------------------------------


@PROPERTY
@given(option_ids=st.lists(ids, min_size=2, max_size=6, unique=True), data=st.data(), pts=points)
def test_single(option_ids: list[str], data: st.DataObject, pts: float) -> None:
    key = data.draw(st.sampled_from(option_ids))
    chosen = data.draw(st.sampled_from([*option_ids, "not-an-option"]))
    spec = {"options": [{"id": o} for o in option_ids], "answer": key}
    fraction = check_common("single", spec, {"choice": chosen}, pts)
    assert fraction == (1.0 if chosen == key else 0.0)


@PROPERTY
@given(key=st.booleans(), value=st.booleans(), pts=points)
def test_true_false(key: bool, value: bool, pts: float) -> None:
    fraction = check_common("true_false", {"answer": key}, {"value": value}, pts)
    assert fraction == (1.0 if key == value else 0.0)


def test_true_false_needs_a_real_boolean() -> None:
    """A stored "false" string is not the boolean False (no truthiness accidents)."""
    assert grading.grade("true_false", {"answer": False}, {"value": "false"}, 1) == (0.0, 0.0)
    assert grading.grade("true_false", {"answer": False}, {"value": False}, 1) == (1.0, 1.0)


# --- multiple -----------------------------------------------------------------------------------------


@st.composite
def multiple_case(draw: Any) -> tuple[dict[str, Any], list[str]]:
    option_ids = draw(st.lists(ids, min_size=2, max_size=8, unique=True))
    key = draw(st.lists(st.sampled_from(option_ids), min_size=1, unique=True))
    scoring = draw(st.sampled_from(["partial", "all_or_nothing"]))
    penalty = draw(st.one_of(st.none(), st.floats(0, 1))) if scoring == "partial" else None
    chosen = draw(st.lists(st.sampled_from(option_ids), unique=True))
    spec = {"options": [{"id": o} for o in option_ids], "answer": key, "scoring": scoring, "penalty": penalty}
    return spec, chosen


@PROPERTY
@given(case=multiple_case(), pts=points, seed=st.integers(0, 2**32))
def test_multiple_order_of_choices_does_not_matter(
    case: tuple[dict[str, Any], list[str]], pts: float, seed: int
) -> None:
    spec, chosen = case
    fraction = check_common("multiple", spec, {"choices": chosen}, pts)
    shuffled = list(chosen)
    random.Random(seed).shuffle(shuffled)
    assert grading.grade("multiple", spec, {"choices": shuffled}, pts)[1] == fraction


@PROPERTY
@given(case=multiple_case(), pts=points)
def test_multiple_known_scores(case: tuple[dict[str, Any], list[str]], pts: float) -> None:
    spec, chosen = case
    key, all_ids = set(spec["answer"]), [o["id"] for o in spec["options"]]
    fraction = grading.grade("multiple", spec, {"choices": chosen}, pts)[1]
    assert grading.grade("multiple", spec, {"choices": sorted(key)}, pts) == (pts, 1.0)
    if spec["scoring"] == "all_or_nothing":
        assert fraction == (1.0 if set(chosen) == key else 0.0)
        return
    penalty = 1.0 if spec["penalty"] is None else spec["penalty"]
    hits, wrong = len(set(chosen) & key), len(set(chosen) - key)
    assert fraction == pytest.approx(max(0.0, (hits - penalty * wrong) / len(key)))
    # One more wrong choice never helps; one more right choice never hurts.
    extra_wrong = [o for o in all_ids if o not in key and o not in chosen]
    if extra_wrong:
        assert grading.grade("multiple", spec, {"choices": [*chosen, extra_wrong[0]]}, pts)[1] <= fraction
    extra_right = [o for o in key if o not in chosen]
    if extra_right:
        assert grading.grade("multiple", spec, {"choices": [*chosen, extra_right[0]]}, pts)[1] >= fraction


def test_multiple_partial_with_penalty_example() -> None:
    """Two of three right and one wrong at penalty 0.5: (2 - 0.5) / 3 of the points."""
    spec = {
        "options": [{"id": i} for i in "abcde"],
        "answer": ["a", "b", "c"],
        "scoring": "partial",
        "penalty": 0.5,
    }
    assert grading.grade("multiple", spec, {"choices": ["a", "b", "d"]}, 3) == (1.5, 0.5)
    assert grading.grade("multiple", spec, {"choices": ["d", "e"]}, 3) == (0.0, 0.0)
    assert grading.grade("multiple", {**spec, "scoring": "all_or_nothing"}, {"choices": ["a", "b"]}, 3)[1] == 0


# --- short_text ----------------------------------------------------------------------------------------

SHORT_SPEC = {
    "answer": {
        "en": ["TIR carnet"],
        "ru": ["книжка МДП", "жёлтый ящик"],
        "kk": ["Қойма құжаты", "ӘІҢҒҮҰҚӨҺ", "Şağyl"],
    }
}


@pytest.mark.parametrize(
    "typed",
    [
        "TIR carnet",
        "tir CARNET",
        "  tir \t carnet  ",
        "TIR carnet.",
        "«книжка мдп»",
        "КНИЖКА  МДП",
        "қойма құжаты",
        "ҚОЙМА ҚҰЖАТЫ",
        "әіңғүұқөһ",
        "ӘІҢҒҮҰҚӨҺ",
        "Әіңғүұқөһ",
        # NFD: й and ё decompose (и + U+0306, е + U+0308); so do the Latin-script Kazakh ş and ğ.
        unicodedata.normalize("NFD", "жёлтый ящик"),
        unicodedata.normalize("NFD", "ŞAĞYL"),
        "жёлтый\u00a0ящик",  # a no-break space from a word processor
    ],
)
def test_short_text_accepts_fair_variants(typed: str) -> None:
    assert grading.grade("short_text", SHORT_SPEC, {"text": typed}, 1) == (1.0, 1.0)


def test_short_text_nfd_input_really_differs_from_the_key() -> None:
    """Guards the test above: the decomposed forms are different strings until normalized."""
    assert unicodedata.normalize("NFD", "жёлтый ящик") != "жёлтый ящик"
    # The Kazakh letters қ ә і ң ғ ү ұ ө һ are atomic in Unicode: NFC and NFD of them are the same string.
    assert unicodedata.normalize("NFD", "ӘІҢҒҮҰҚӨҺ") == "ӘІҢҒҮҰҚӨҺ"


@pytest.mark.parametrize(
    "typed", ["", "   ", "TIR", "книжка", "кітапша", "Коима кужаты", "желтый ящик", "TIR carnet carnet"]
)
def test_short_text_refuses_other_text(typed: str) -> None:
    """Not a fuzzy match: Cyrillic к is not Kazakh қ, е is not ё, and a partial answer is wrong."""
    assert grading.grade("short_text", SHORT_SPEC, {"text": typed}, 1) == (0.0, 0.0)


KAZAKH = "абвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюяә"


@PROPERTY
@given(
    word=st.text(alphabet=KAZAKH + KAZAKH.upper() + " ", min_size=1, max_size=20),
    form=st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]),
    upper=st.booleans(),
    pad=st.sampled_from(["", " ", "  ", "\t", " \n "]),
)
def test_short_text_any_accepted_word_in_any_form(word: str, form: str, upper: bool, pad: str) -> None:
    assume(word.strip())
    spec = {"answer": {"kk": [word]}}
    typed = unicodedata.normalize(form, word.upper() if upper else word.lower())
    typed = pad + typed.replace(" ", " " + pad) + pad
    fraction = check_common("short_text", spec, {"text": typed}, 1)
    assert fraction == 1.0


# --- numeric -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12,5", 12.5),
        ("12.5", 12.5),
        ("-3,25", -3.25),
        ("1 200", 1200),
        ("1\u00a0200,5", 1200.5),
        (",5", 0.5),
        ("4713", 4713),
    ],
)
def test_parse_number(raw: str, value: float) -> None:
    assert grading.parse_number(raw) == value


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3", "1,2,3", "nan", "inf", "1e5", "--1", "12,5 kg"])
def test_parse_number_refuses(raw: str) -> None:
    with pytest.raises(grading.AnswerError):
        grading.parse_number(raw)


@PROPERTY
@given(cents=st.integers(-(10**9), 10**9))
def test_decimal_comma_reads_like_a_point(cents: int) -> None:
    text = f"{cents / 100:.2f}"
    assert grading.parse_number(text.replace(".", ",")) == grading.parse_number(text) == float(text)


@PROPERTY
@given(
    target=st.integers(-(10**6), 10**6),
    value=st.integers(-(10**6), 10**6),
    tolerance=st.integers(0, 1000),
    relative=st.booleans(),
    pts=points,
)
def test_numeric_tolerance(target: int, value: int, tolerance: int, relative: bool, pts: float) -> None:
    """Integers in hundredths keep the comparison exact: within tolerance is right, beyond it wrong."""
    t, v = target / 100, value / 100
    if relative:
        spec = {"answer": t, "tolerance": tolerance / 1000, "tolerance_mode": "relative"}
        inside = abs(value - target) * 1000 <= abs(target) * tolerance
    else:
        spec = {"answer": t, "tolerance": tolerance / 100, "tolerance_mode": "absolute"}
        inside = abs(value - target) <= tolerance
    fraction = check_common("numeric", spec, {"value": v}, pts)
    assert fraction == (1.0 if inside else 0.0)


def test_numeric_relative_tolerance_example() -> None:
    spec = {"answer": 40, "tolerance": 0.05, "tolerance_mode": "relative"}
    assert [grading.grade("numeric", spec, {"value": v}, 1)[1] for v in (37.9, 38, 40, 42, 42.1)] == [
        0,
        1,
        1,
        1,
        0,
    ]
    assert (
        grading.grade("numeric", {"answer": 4713, "tolerance": 5}, {"value": grading.parse_number("4 717,5")}, 1)[1]
        == 1
    )


# --- matching ------------------------------------------------------------------------------------------


@st.composite
def matching_case(draw: Any) -> tuple[dict[str, Any], dict[str, str]]:
    all_ids = draw(st.lists(ids, min_size=3, max_size=9, unique=True))
    pair_count = draw(st.integers(2, len(all_ids) - 1))
    pairs, distractors = all_ids[:pair_count], all_ids[pair_count:]
    rights = pairs + distractors
    given_pairs = {left: draw(st.sampled_from(rights)) for left in pairs if draw(st.booleans())}
    spec = {"pairs": [{"id": p} for p in pairs], "distractors": [{"id": d} for d in distractors]}
    return spec, given_pairs


@PROPERTY
@given(case=matching_case(), pts=points, seed=st.integers(0, 2**32))
def test_matching(case: tuple[dict[str, Any], dict[str, str]], pts: float, seed: int) -> None:
    spec, given_pairs = case
    fraction = check_common("matching", spec, {"pairs": given_pairs}, pts)
    right = sum(1 for left, target in given_pairs.items() if left == target)
    assert fraction == pytest.approx(right / len(spec["pairs"]))
    items = list(given_pairs.items())
    random.Random(seed).shuffle(items)
    assert grading.grade("matching", spec, {"pairs": dict(items)}, pts)[1] == fraction  # dict order is no signal
    all_right = {p["id"]: p["id"] for p in spec["pairs"]}
    assert grading.grade("matching", spec, {"pairs": all_right}, pts) == (pts, 1.0)
    if spec["distractors"]:
        to_distractor = {p["id"]: spec["distractors"][0]["id"] for p in spec["pairs"]}
        assert grading.grade("matching", spec, {"pairs": to_distractor}, pts) == (0.0, 0.0)


# --- ordering ------------------------------------------------------------------------------------------


@PROPERTY
@given(item_ids=st.lists(ids, min_size=3, max_size=7, unique=True), seed=st.integers(0, 2**32), pts=points)
def test_ordering(item_ids: list[str], seed: int, pts: float) -> None:
    spec = {"items": [{"id": i} for i in item_ids]}
    given_order = list(item_ids)
    random.Random(seed).shuffle(given_order)
    fraction = check_common("ordering", spec, {"order": given_order}, pts)
    assert fraction == pytest.approx(sum(a == b for a, b in zip(given_order, item_ids, strict=True)) / len(item_ids))
    assert grading.grade("ordering", spec, {"order": item_ids}, pts) == (pts, 1.0)
    assert grading.grade("ordering", spec, {"order": given_order[:-1]}, pts) == (
        0.0,
        0.0,
    )  # not a permutation
    # The page never starts in the right order.
    layout = grading.TYPES["ordering"].layout(spec, random.Random(seed), False)
    assert sorted(layout["items"]) == sorted(item_ids) and layout["items"] != item_ids


# --- hotspot -------------------------------------------------------------------------------------------

coordinate = st.integers(0, 800)


@PROPERTY
@given(x=coordinate, y=coordinate, rx=coordinate, ry=coordinate, w=st.integers(1, 300), h=st.integers(1, 300))
def test_point_in_rect(x: int, y: int, rx: int, ry: int, w: int, h: int) -> None:
    expected = rx <= x <= rx + w and ry <= y <= ry + h
    assert grading.point_in_region(x, y, "rect", [rx, ry, w, h]) is expected
    # The same rectangle as a polygon agrees everywhere except on its edges.
    if rx < x < rx + w and ry < y < ry + h or not expected:
        polygon = [rx, ry, rx + w, ry, rx + w, ry + h, rx, ry + h]
        assert grading.point_in_region(x, y, "polygon", polygon) is expected


@PROPERTY
@given(x=coordinate, y=coordinate, cx=coordinate, cy=coordinate, r=st.integers(1, 200))
def test_point_in_circle(x: int, y: int, cx: int, cy: int, r: int) -> None:
    assert grading.point_in_region(x, y, "circle", [cx, cy, r]) is ((x - cx) ** 2 + (y - cy) ** 2 <= r * r)


@PROPERTY
@given(
    cx=st.integers(100, 700),
    cy=st.integers(100, 700),
    r=st.integers(10, 100),
    sides=st.integers(3, 9),
    turn=st.floats(0, 2 * math.pi),
    px=st.floats(0, 800),
    py=st.floats(0, 800),
)
def test_point_in_convex_polygon(cx: int, cy: int, r: int, sides: int, turn: float, px: float, py: float) -> None:
    """Against an independent test: inside a convex polygon means on the inner side of every edge."""
    corners = [
        (cx + r * math.cos(turn + 2 * math.pi * k / sides), cy + r * math.sin(turn + 2 * math.pi * k / sides))
        for k in range(sides)
    ]
    crosses = [
        (bx - ax) * (py - ay) - (by - ay) * (px - ax)
        for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True)
    ]
    assume(all(abs(c) > 1e-3 for c in crosses))  # not on an edge
    inside = all(c > 0 for c in crosses)
    flat = [v for corner in corners for v in corner]
    assert grading.point_in_region(px, py, "polygon", flat) is inside


def test_point_in_concave_polygon() -> None:
    """An L shape: the notch is outside although it lies within the bounding box."""
    shape = [0, 0, 100, 0, 100, 40, 40, 40, 40, 100, 0, 100]
    assert grading.point_in_region(20, 80, "polygon", shape)
    assert grading.point_in_region(80, 20, "polygon", shape)
    assert not grading.point_in_region(80, 80, "polygon", shape)


HOTSPOT = {
    "regions": [
        {"id": "tank", "shape": "rect", "coords": [120, 200, 80, 40]},
        {"id": "wheel", "shape": "circle", "coords": [400, 260, 30]},
        {"id": "roof", "shape": "polygon", "coords": [10, 10, 90, 10, 90, 50, 10, 50]},
    ],
    "answer": ["tank", "wheel"],
}


@pytest.mark.parametrize(
    ("answer", "fraction"),
    [
        ({"point": [160, 220]}, 1),
        ({"point": [400, 289]}, 1),
        ({"point": [425, 285]}, 0),
        ({"point": [50, 30]}, 0),
        ({"point": [700, 390]}, 0),
        ({"region": "wheel"}, 1),
        ({"region": "roof"}, 0),
        ({"region": "nowhere"}, 0),
    ],
)
def test_hotspot_known_answers(answer: dict[str, Any], fraction: float) -> None:
    assert check_common("hotspot", HOTSPOT, answer, 2) == fraction


@PROPERTY
@given(x=st.floats(-50, 850), y=st.floats(-50, 450), pts=points)
def test_hotspot_point_grade_matches_geometry(x: float, y: float, pts: float) -> None:
    fraction = check_common("hotspot", HOTSPOT, {"point": [x, y]}, pts)
    hit = any(grading.point_in_region(x, y, r["shape"], r["coords"]) for r in HOTSPOT["regions"][:2])
    assert fraction == (1.0 if hit else 0.0)


# --- scenario ------------------------------------------------------------------------------------------


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    """A random scenario graph without loops: a choice leads only to a later step, or ends."""
    size = draw(st.integers(1, 6))
    steps = []
    for index in range(size):
        choices = []
        for c in range(draw(st.integers(1, 3))):
            later = list(range(index + 1, size))
            nxt = draw(st.sampled_from([None, *later]))
            choices.append(
                {
                    "id": f"c{index}-{c}",
                    "next": f"s{nxt}" if nxt is not None else None,
                    "points": draw(st.integers(0, 5)),
                }
            )
        steps.append({"id": f"s{index}", "choices": choices})
    return {"start": "s0", "steps": steps}


def complete_paths(spec: dict[str, Any]) -> list[tuple[list[str], float]]:
    steps = grading.scenario_steps(spec)
    found: list[tuple[list[str], float]] = []

    def walk(step_id: str, path: list[str], total: float) -> None:
        for choice in steps[step_id]["choices"]:
            if choice["next"]:
                walk(choice["next"], [*path, choice["id"]], total + choice["points"])
            else:
                found.append(([*path, choice["id"]], total + choice["points"]))

    walk(spec["start"], [], 0.0)
    return found


@PROPERTY
@given(spec=scenarios(), pts=points)
def test_scenario_paths(spec: dict[str, Any], pts: float) -> None:
    paths = complete_paths(spec)
    best = max(total for _path, total in paths)
    assert grading.best_scenario_points(spec) == best
    for path, total in paths:
        fraction = check_common("scenario", spec, {"path": path}, pts)
        assert fraction == pytest.approx(total / best if best else 1.0)
        for cut in range(len(path)):  # an unfinished walk earns nothing
            assert grading.grade("scenario", spec, {"path": path[:cut]}, pts) == (0.0, 0.0)
    assert any(check_common("scenario", spec, {"path": path}, pts) == 1.0 for path, _t in paths)


def test_scenario_known_paths() -> None:
    spec = {
        "start": "a",
        "steps": [
            {
                "id": "a",
                "choices": [
                    {"id": "good", "next": "b", "points": 2},
                    {"id": "bad", "next": "c", "points": 0},
                ],
            },
            {
                "id": "b",
                "choices": [{"id": "finish", "next": None, "points": 2}, {"id": "slip", "next": None}],
            },
            {"id": "c", "choices": [{"id": "recover", "next": None, "points": 1}]},
        ],
    }
    assert grading.best_scenario_points(spec) == 4
    assert grading.grade("scenario", spec, {"path": ["good", "finish"]}, 4) == (4.0, 1.0)
    assert grading.grade("scenario", spec, {"path": ["good", "slip"]}, 4) == (2.0, 0.5)
    assert grading.grade("scenario", spec, {"path": ["bad", "recover"]}, 4) == (1.0, 0.25)
    assert grading.grade("scenario", spec, {"path": ["good"]}, 4) == (0.0, 0.0)
    assert grading.grade("scenario", spec, {"path": ["finish"]}, 4) == (0.0, 0.0)  # not a choice of the start


def test_best_scenario_points_is_fast_on_a_long_case_study() -> None:
    """Both choices of every step lead to the next: 2**22 paths (seconds if walked one by one), one best total."""
    size = 22
    spec = {
        "start": "s0",
        "steps": [
            {
                "id": f"s{i}",
                "choices": [
                    {"id": f"a{i}", "next": f"s{i + 1}" if i + 1 < size else None, "points": 1},
                    {"id": f"b{i}", "next": f"s{i + 1}" if i + 1 < size else None, "points": 0},
                ],
            }
            for i in range(size)
        ],
    }
    started = time.perf_counter()
    assert grading.best_scenario_points(spec) == size
    assert grading.grade("scenario", spec, {"path": [f"a{i}" for i in range(size)]}, 5) == (5.0, 1.0)
    assert time.perf_counter() - started < 0.5


# --- every type: malformed stored answers, layouts, the trainee's view, forms --------------------------

SPECS: dict[str, dict[str, Any]] = {
    "single": {"options": [{"id": "a"}, {"id": "b"}], "answer": "b"},
    "multiple": {
        "options": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
        "answer": ["a", "c"],
        "scoring": "partial",
        "penalty": 0.5,
    },
    "true_false": {"answer": False},
    "short_text": {"answer": {"kk": ["ХЖТ"]}},
    "numeric": {"answer": 4713, "tolerance": 5, "tolerance_mode": "absolute"},
    "matching": {"pairs": [{"id": "p1"}, {"id": "p2"}], "distractors": [{"id": "d1"}]},
    "ordering": {"items": [{"id": "s1"}, {"id": "s2"}, {"id": "s3"}]},
    "hotspot": HOTSPOT,
    "scenario": {"start": "a", "steps": [{"id": "a", "choices": [{"id": "x", "next": None, "points": 1}]}]},
}

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize("kind", sorted(SPECS))
@PROPERTY
@given(
    answer=st.dictionaries(
        st.sampled_from(["choice", "choices", "value", "text", "pairs", "order", "point", "region", "path"]),
        junk,
        max_size=3,
    )
)
def test_a_malformed_stored_answer_earns_nothing_instead_of_failing(kind: str, answer: dict[str, Any]) -> None:
    check_common(kind, SPECS[kind], answer, 2)


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("matching", {"pairs": ["p1", "p1"]}),
        ("matching", {"pairs": "p1"}),
        ("hotspot", {"point": [1]}),
        ("ordering", {"order": "s1"}),
        ("scenario", {"path": 5}),
        ("multiple", {"choices": 3}),
    ],
)
def test_malformed_examples(kind: str, answer: dict[str, Any]) -> None:
    """Answers of the wrong shape (an old format, a hand-edited row) grade as wrong, never as an error."""
    assert grading.grade(kind, SPECS[kind], answer, 2) == (0.0, 0.0)


def test_every_type_is_registered() -> None:
    assert set(grading.TYPES) == set(SPECS)
    for kind in SPECS:
        assert grading.grade(kind, SPECS[kind], None, 3) == (0.0, 0.0)
        assert grading.grade(kind, SPECS[kind], {}, 3) == (0.0, 0.0)


def rendered_of(spec: dict[str, Any]) -> dict[str, Any]:
    """What the importer would render: every text a plain marker, so a test can see what the view picks."""
    out: dict[str, Any] = {}
    if "options" in spec:
        out["options"] = [{"id": o["id"], "text": f"T-{o['id']}", "feedback": "KEY-feedback"} for o in spec["options"]]
    if "pairs" in spec:
        out["pairs"] = [{"id": p["id"], "left": f"L-{p['id']}", "right": f"R-{p['id']}"} for p in spec["pairs"]]
        out["distractors"] = [{"id": d["id"], "text": f"D-{d['id']}"} for d in spec["distractors"]]
    if "items" in spec:
        out["items"] = [{"id": i["id"], "text": f"I-{i['id']}"} for i in spec["items"]]
    if "regions" in spec:
        out["regions"] = [{"id": r["id"], "label": f"G-{r['id']}"} for r in spec["regions"]]
    if "steps" in spec:
        out["steps"] = [
            {
                "id": s["id"],
                "text": "step",
                "choices": [{"id": c["id"], "text": f"C-{c['id']}", "feedback": "KEY-feedback"} for c in s["choices"]],
            }
            for s in spec["steps"]
        ]
    return out


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_trainee_view_shows_texts_in_layout_order_and_nothing_of_the_key(kind: str) -> None:
    spec = SPECS[kind]
    layout = grading.TYPES[kind].layout(spec, random.Random(7), True)
    view = grading.TYPES[kind].trainee_view(spec, rendered_of(spec), layout)
    text = repr(view)
    assert "KEY-" not in text and "answer" not in text and "points" not in text and "next" not in text
    for key in ("options", "items"):
        if key in layout:
            assert view[key] == [f"{'T' if key == 'options' else 'I'}-{i}" for i in layout[key]]
    ids_in_view = {i for i in ("'a'", "'b'", "'c'", "'p1'", "'s1'", "'tank'", "'x'") if i in text}
    assert not ids_in_view


@st.composite
def answers_for(draw: Any, kind: str) -> dict[str, Any]:
    spec = SPECS[kind]
    if kind == "single":
        return {"choice": draw(st.sampled_from(["a", "b"]))}
    if kind == "multiple":
        return {"choices": sorted(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, unique=True)))}
    if kind == "true_false":
        return {"value": draw(st.booleans())}
    if kind == "short_text":
        return {"text": draw(st.text(alphabet=KAZAKH + "abc ,.", min_size=1, max_size=30).filter(str.strip)).strip()}
    if kind == "numeric":
        return {
            "value": draw(
                st.one_of(
                    st.integers(-(10**12), 10**12).map(float),
                    st.integers(-(10**9), 10**9).map(lambda c: c / 100),
                    st.decimals(
                        min_value=-(10**7), max_value=10**7, places=4, allow_nan=False, allow_infinity=False
                    ).map(float),
                )
            )
        }
    if kind == "matching":
        lefts = [p["id"] for p in spec["pairs"]]
        rights = lefts + [d["id"] for d in spec["distractors"]]
        pairs = {left: draw(st.sampled_from(rights)) for left in lefts if draw(st.booleans())}
        assume(pairs)
        return {"pairs": pairs}
    if kind == "ordering":
        return {"order": draw(st.permutations([i["id"] for i in spec["items"]]))}
    if kind == "hotspot":
        if draw(st.booleans()):
            return {"region": draw(st.sampled_from([r["id"] for r in spec["regions"]]))}
        return {"point": [draw(st.integers(0, 80000)) / 100, draw(st.integers(0, 40000)) / 100]}
    raise AssertionError(kind)


def form_from_filled(kind: str, filled: dict[str, Any], layout: dict[str, Any]) -> dict[str, list[str]]:
    """The form a browser sends back from a page pre-filled with ``filled`` (as _answer.html renders it)."""
    if kind == "single":
        return {"answer": [str(filled["index"])]}
    if kind == "multiple":
        return {"answer": [str(i) for i in sorted(filled["indexes"])]}
    if kind in ("true_false",):
        return {"answer": [filled["value"]]}
    if kind in ("short_text", "numeric"):
        return {"answer": [filled["text"]]}
    if kind == "matching":
        return {f"match-{i}": ["" if v is None else str(v)] for i, v in filled["match"].items()}
    if kind == "ordering":
        return {f"position-{i}": [str(v)] for i, v in filled["positions"].items()}
    if kind == "hotspot":
        if "point" in filled:
            return {"x": [str(filled["point"][0])], "y": [str(filled["point"][1])]}
        return {"region": [str(filled["region_index"])]}
    raise AssertionError(kind)


@PROPERTY
@given(data=st.data(), kind=st.sampled_from(sorted(set(SPECS) - {"scenario"})), seed=st.integers(0, 2**32))
def test_a_prefilled_page_sends_back_the_same_answer(data: st.DataObject, kind: str, seed: int) -> None:
    """Resume, then "Save and next" without touching anything: the stored answer must not change."""
    spec = SPECS[kind]
    layout = grading.TYPES[kind].layout(spec, random.Random(seed), True)
    answer = data.draw(answers_for(kind))
    filled = review.filled(SimpleNamespace(type=kind), layout, answer)
    parsed = grading.TYPES[kind].parse(spec, layout, form_from_filled(kind, filled, layout), None)
    assert parsed == answer
    assert grading.grade(kind, spec, parsed, 1) == grading.grade(kind, spec, answer, 1)


def test_scenario_parse_walks_one_step_at_a_time() -> None:
    spec = SPECS["scenario"] | {
        "steps": [
            {
                "id": "a",
                "choices": [{"id": "x", "next": "b", "points": 1}, {"id": "y", "next": None, "points": 0}],
            },
            {"id": "b", "choices": [{"id": "z", "next": None, "points": 1}]},
        ]
    }
    layout = grading.TYPES["scenario"].layout(spec, random.Random(3), True)
    parse = grading.TYPES["scenario"].parse
    first = parse(spec, layout, {"answer": [str(layout["choices"]["a"].index("x"))]}, None)
    assert first == {"path": ["x"]}
    assert parse(spec, layout, {}, first) == first  # no choice made: the path stays
    done = parse(spec, layout, {"answer": ["0"]}, first)
    assert done == {"path": ["x", "z"]}
    with pytest.raises(grading.AnswerError):
        parse(spec, layout, {"answer": ["0"]}, done)  # the case study has ended
    with pytest.raises(grading.AnswerError):
        parse(spec, layout, {"answer": ["5"]}, None)  # not one of the choices


@pytest.mark.parametrize(
    ("kind", "form"),
    [
        ("single", {"answer": ["2"]}),
        ("single", {"answer": ["-1"]}),
        ("multiple", {"answer": ["0", "x"]}),
        ("true_false", {"answer": ["yes"]}),
        ("numeric", {"answer": ["twelve"]}),
        ("matching", {"match-0": ["9"]}),
        ("ordering", {"position-0": ["1"], "position-1": ["1"], "position-2": ["2"]}),
        ("hotspot", {"x": ["nan"], "y": ["1"]}),
        ("hotspot", {"region": ["7"]}),
    ],
)
def test_parse_refuses_values_no_page_offers(kind: str, form: dict[str, list[str]]) -> None:
    layout = grading.TYPES[kind].layout(SPECS[kind], random.Random(1), True)
    with pytest.raises(grading.AnswerError):
        grading.TYPES[kind].parse(SPECS[kind], layout, form, None)


@pytest.mark.parametrize(("method", "expected"), [("highest", 80), ("last", 60), ("first", 40), ("average", 60)])
def test_aggregate(method: str, expected: float) -> None:
    assert grading.aggregate(method, [40, 80, 60]) == expected
    assert grading.aggregate(method, []) is None


def test_shuffling_is_a_permutation_and_depends_only_on_the_seed() -> None:
    spec = {"options": [{"id": f"o{i}"} for i in range(8)]}
    layouts = [grading.TYPES["single"].layout(spec, random.Random(seed), True)["options"] for seed in range(20)]
    assert all(sorted(lay) == sorted(o["id"] for o in spec["options"]) for lay in layouts)
    assert len({tuple(lay) for lay in layouts}) > 1
    assert grading.TYPES["single"].layout(spec, random.Random(5), True) == grading.TYPES["single"].layout(
        spec, random.Random(5), True
    )
    assert grading.TYPES["single"].layout(spec, random.Random(5), False)["options"] == [f"o{i}" for i in range(8)]
