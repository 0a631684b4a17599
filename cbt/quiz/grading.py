"""Question types: what the trainee may see, how an answer is read, how it is graded. Pure: no Flask, no DB.

Each type is registered once in :data:`TYPES`. ``layout`` fixes the per-attempt order of options or items;
``trainee_view`` whitelists what reaches the browser (never a key, a correct flag, points or feedback);
``parse`` turns submitted form values into a normalized answer; ``grade`` returns the fraction earned in
[0, 1]. The browser only ever sees positions in the attempt's layout, never ids, so an id like ``s1`` in an
ordering question cannot give the order away.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Form = Mapping[str, Sequence[str]]
Answer = dict[str, Any]


class AnswerError(ValueError):
    """The submitted values cannot be an answer to this question (shown to the trainee, translated)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class QuestionType:
    name: str
    layout: Callable[[Mapping[str, Any], random.Random, bool], dict[str, Any]]
    trainee_view: Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
    parse: Callable[[Mapping[str, Any], Mapping[str, Any], Form, Answer | None], Answer | None]
    grade: Callable[[Mapping[str, Any], Answer], float]


def _first(form: Form, key: str) -> str:
    values = form.get(key) or []
    return str(values[0]).strip() if values else ""


def _order(ids: list[str], rng: random.Random, shuffle: bool) -> list[str]:
    ids = list(ids)
    if shuffle:
        rng.shuffle(ids)
    return ids


def _pick_index(form: Form, key: str, size: int) -> int | None:
    raw = _first(form, key)
    if raw == "":
        return None
    if not raw.isdigit() or int(raw) >= size:
        raise AnswerError(N_("That choice is not one of the options."))
    return int(raw)


# --- single / multiple / true_false -------------------------------------------------------------------

def _options_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    return {"options": _order([o["id"] for o in spec["options"]], rng, shuffle)}


def _options_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str,
                  Any]) -> dict[str, Any]:
    html = {o["id"]: o["text"] for o in rendered["options"]}
    return {"options": [html[oid] for oid in layout["options"]]}


def _single_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                  previous: Answer | None = None) -> Answer | None:
    index = _pick_index(form, "answer", len(layout["options"]))
    return None if index is None else {"choice": layout["options"][index]}


def _single_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    return 1.0 if answer.get("choice") == spec["answer"] else 0.0


def _multiple_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                    previous: Answer | None = None) -> Answer | None:
    chosen = set()
    for raw in form.get("answer") or []:
        raw = str(raw)
        if not raw.isdigit() or int(raw) >= len(layout["options"]):
            raise AnswerError(N_("That choice is not one of the options."))
        chosen.add(layout["options"][int(raw)])
    return {"choices": sorted(chosen)} if chosen else None


def _multiple_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    correct = set(spec["answer"])
    chosen = set(answer.get("choices") or [])
    if spec.get("scoring", "all_or_nothing") != "partial":
        return 1.0 if chosen == correct else 0.0
    hits = len(chosen & correct)
    wrong = len(chosen - correct)
    penalty = float(spec.get("penalty") if spec.get("penalty") is not None else 1.0)
    return max(0.0, min(1.0, (hits - penalty * wrong) / len(correct)))


def _tf_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    return {}


def _tf_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str, Any]) -> dict[str,
             Any]:
    return {}


def _tf_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
              previous: Answer | None = None) -> Answer | None:
    raw = _first(form, "answer")
    if raw == "":
        return None
    if raw not in ("true", "false"):
        raise AnswerError(N_("Choose true or false."))
    return {"value": raw == "true"}


def _tf_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    return 1.0 if answer.get("value") is bool(spec["answer"]) else 0.0


# --- short_text -----------------------------------------------------------------------------------

def normalize_text(text: str) -> str:
    """Compare typed answers fairly: NFKC, case-folded, whitespace collapsed, outer punctuation dropped.

    NFKC makes decomposed letters (``й`` as и + U+0306, ``ё`` as е + U+0308, Latin-script ``ş``) equal to
    the precomposed ones, and ``casefold`` handles Cyrillic and Kazakh capitals (Ә/ә, Ү/ү, І/і). The Kazakh
    letters қ ә і ң ғ ү ұ ө һ have no decomposition in Unicode, so there is no other form of them to merge.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .,;:!?\"'«»")


def _text_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    return {}


def _text_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                previous: Answer | None = None) -> Answer | None:
    raw = _first(form, "answer")[:500]
    return {"text": raw} if raw else None


def _text_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    given = normalize_text(str(answer.get("text", "")))
    if not given:
        return 0.0
    accepted = {normalize_text(a) for answers in spec["answer"].values() for a in answers}
    return 1.0 if given in accepted else 0.0


# --- numeric --------------------------------------------------------------------------------------

def parse_number(raw: str) -> float:
    """Read "12.5", "12,5", "1 200" or "1 200,5" (Russian and Kazakh write a decimal comma)."""
    cleaned = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    if cleaned.count(".") > 1 or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", cleaned):
        raise AnswerError(N_("Enter a number, for example 12.5"))
    value = float(cleaned)
    if not math.isfinite(value):
        raise AnswerError(N_("Enter a number, for example 12.5"))
    return value


def _numeric_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                   previous: Answer | None = None) -> Answer | None:
    raw = _first(form, "answer")
    return None if raw == "" else {"value": parse_number(raw[:50])}


def _numeric_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    value = answer.get("value")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    target = float(spec["answer"])
    tolerance = float(spec.get("tolerance") or 0)
    if spec.get("tolerance_mode") == "relative":
        tolerance = abs(target) * tolerance
    return 1.0 if abs(float(value) - target) <= tolerance + 1e-9 else 0.0


# --- matching -------------------------------------------------------------------------------------

def _matching_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    rights = [p["id"] for p in spec["pairs"]] + [d["id"] for d in spec.get("distractors") or []]
    rng.shuffle(rights)  # always: in file order the right column would give the answer away
    return {"lefts": _order([p["id"] for p in spec["pairs"]], rng, shuffle), "rights": rights}


def _matching_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str,
                   Any]) -> dict[str, Any]:
    left = {p["id"]: p["left"] for p in rendered["pairs"]}
    right = {p["id"]: p["right"] for p in rendered["pairs"]}
    right.update({d["id"]: d["text"] for d in rendered.get("distractors") or []})
    return {"lefts": [left[i] for i in layout["lefts"]], "rights": [right[i] for i in layout["rights"]]}


def _matching_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                    previous: Answer | None = None) -> Answer | None:
    pairs = {}
    for index, left_id in enumerate(layout["lefts"]):
        choice = _pick_index(form, f"match-{index}", len(layout["rights"]))
        if choice is not None:
            pairs[left_id] = layout["rights"][choice]
    return {"pairs": pairs} if pairs else None


def _matching_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    given = answer.get("pairs") or {}
    right = sum(1 for p in spec["pairs"] if given.get(p["id"]) == p["id"])
    return right / len(spec["pairs"])


# --- ordering -------------------------------------------------------------------------------------

def _ordering_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    ids = [i["id"] for i in spec["items"]]
    shown = list(ids)
    for _ in range(10):  # always shuffled, and never shown already in the right order
        rng.shuffle(shown)
        if shown != ids:
            break
    return {"items": shown}


def _ordering_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str,
                   Any]) -> dict[str, Any]:
    html = {i["id"]: i["text"] for i in rendered["items"]}
    return {"items": [html[i] for i in layout["items"]]}


def _ordering_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                    previous: Answer | None = None) -> Answer | None:
    size = len(layout["items"])
    raw = [_first(form, f"position-{index}") for index in range(size)]
    if not any(raw):
        return None
    if not all(r.isdigit() for r in raw) or sorted(int(r) for r in raw) != list(range(1, size + 1)):
        raise AnswerError(N_("Give every item a different position."))
    order = [item for _pos, item in sorted(zip((int(r) for r in raw), layout["items"], strict=True))]
    return {"order": order}


def _ordering_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    correct = [i["id"] for i in spec["items"]]
    given = list(answer.get("order") or [])
    if sorted(given) != sorted(correct):
        return 0.0
    return sum(1 for a, b in zip(given, correct, strict=True) if a == b) / len(correct)


# --- hotspot --------------------------------------------------------------------------------------

def point_in_region(x: float, y: float, shape: str, coords: Sequence[float]) -> bool:
    if shape == "rect":
        rx, ry, w, h = coords
        return rx <= x <= rx + w and ry <= y <= ry + h
    if shape == "circle":
        cx, cy, r = coords
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    points = list(zip(coords[0::2], coords[1::2], strict=True))
    inside = False
    j = len(points) - 1
    for i, (xi, yi) in enumerate(points):
        xj, yj = points[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _hotspot_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    return {"regions": _order([r["id"] for r in spec["regions"]], rng, True)}


def _hotspot_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str,
                  Any]) -> dict[str, Any]:
    labels = {r["id"]: r["label"] for r in rendered["regions"]}
    return {"image_url": rendered.get("image_url"), "box": rendered.get("box"), "alt": rendered.get("alt"),
            "regions": [labels[r] for r in layout["regions"]]}


def _hotspot_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                   previous: Answer | None = None) -> Answer | None:
    x, y = _first(form, "x"), _first(form, "y")
    if x and y:
        try:
            px, py = float(x), float(y)
        except ValueError:
            raise AnswerError(N_("Mark a point on the image.")) from None
        if not (math.isfinite(px) and math.isfinite(py)):
            raise AnswerError(N_("Mark a point on the image."))
        return {"point": [round(px, 2), round(py, 2)]}
    index = _pick_index(form, "region", len(layout["regions"]))
    return None if index is None else {"region": layout["regions"][index]}


def _hotspot_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    correct = set(spec["answer"])
    if "region" in answer:
        return 1.0 if answer["region"] in correct else 0.0
    point = answer.get("point")
    if not point or len(point) != 2:
        return 0.0
    x, y = float(point[0]), float(point[1])
    hit = any(point_in_region(x, y, r["shape"], r["coords"]) for r in spec["regions"] if r["id"] in correct)
    return 1.0 if hit else 0.0


# --- scenario -------------------------------------------------------------------------------------

def scenario_steps(spec: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {s["id"]: s for s in spec["steps"]}


def scenario_position(spec: Mapping[str, Any], path: Sequence[str]) -> str | None:
    """The step the trainee is on after ``path`` (None when the scenario has ended)."""
    steps = scenario_steps(spec)
    current: str | None = spec["start"]
    for choice_id in path:
        if current is None:
            break
        choice = next((c for c in steps[current]["choices"] if c["id"] == choice_id), None)
        if choice is None:
            raise AnswerError(N_("That choice is not one of the options."))
        current = choice.get("next")
    return current


def _scenario_layout(spec: Mapping[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
    return {"choices": {s["id"]: _order([c["id"] for c in s["choices"]], rng, shuffle)
                        for s in spec["steps"]}}


def scenario_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str, Any],
                  path: Sequence[str]) -> dict[str, Any]:
    """The steps already walked (text and the choice made) and the current step's choices, nothing more."""
    steps = scenario_steps(spec)
    html_steps = {s["id"]: s for s in rendered["steps"]}
    walked = []
    current: str | None = spec["start"]
    for choice_id in path:
        if current is None:
            break
        chosen = next(c for c in html_steps[current]["choices"] if c["id"] == choice_id)
        walked.append({"text": html_steps[current]["text"], "choice": chosen["text"]})
        current = next(c for c in steps[current]["choices"] if c["id"] == choice_id).get("next")
    view: dict[str, Any] = {"walked": walked, "finished": current is None}
    if current is not None:
        choice_html = {c["id"]: c["text"] for c in html_steps[current]["choices"]}
        view["step"] = {"text": html_steps[current]["text"],
                        "choices": [choice_html[c] for c in layout["choices"][current]]}
    return view


def _scenario_view(spec: Mapping[str, Any], rendered: Mapping[str, Any], layout: Mapping[str,
                   Any]) -> dict[str, Any]:
    return scenario_view(spec, rendered, layout, [])


def _scenario_parse(spec: Mapping[str, Any], layout: Mapping[str, Any], form: Form,
                    previous: Answer | None = None) -> Answer | None:
    """One step at a time: the path so far is the saved answer; the form adds the next choice."""
    path = list((previous or {}).get("path") or [])
    if _first(form, "answer") == "":
        return previous
    return advance_scenario(spec, layout, path, form)


def advance_scenario(spec: Mapping[str, Any], layout: Mapping[str, Any], path: Sequence[str],
                     form: Form) -> Answer:
    current = scenario_position(spec, path)
    if current is None:
        raise AnswerError(N_("This case study is already finished."))
    index = _pick_index(form, "answer", len(layout["choices"][current]))
    if index is None:
        raise AnswerError(N_("Choose one of the options."))
    return {"path": [*path, layout["choices"][current][index]]}


def scenario_points(spec: Mapping[str, Any], path: Sequence[str]) -> float:
    steps = scenario_steps(spec)
    total = 0.0
    current: str | None = spec["start"]
    for choice_id in path:
        if current is None:
            break
        choice = next((c for c in steps[current]["choices"] if c["id"] == choice_id), None)
        if choice is None:
            return 0.0
        total += float(choice.get("points") or 0)
        current = choice.get("next")
    return total


def best_scenario_points(spec: Mapping[str, Any]) -> float:
    """The best total a path can reach; each step is solved once (paths that rejoin would be exponential)."""
    steps = scenario_steps(spec)
    memo: dict[str, float] = {}

    def best(step_id: str) -> float:
        if step_id not in memo:
            memo[step_id] = max(float(c.get("points") or 0) + (best(c["next"]) if c.get("next") else 0.0)
                                for c in steps[step_id]["choices"])
        return memo[step_id]

    return best(spec["start"])


def _scenario_grade(spec: Mapping[str, Any], answer: Answer) -> float:
    path = list(answer.get("path") or [])
    try:
        if scenario_position(spec, path) is not None:
            return 0.0  # an unfinished case study earns nothing
    except AnswerError:
        return 0.0
    maximum = best_scenario_points(spec)
    if maximum <= 0:
        return 1.0
    return max(0.0, min(1.0, scenario_points(spec, path) / maximum))


TYPES: dict[str, QuestionType] = {
    "single": QuestionType("single", _options_layout, _options_view, _single_parse, _single_grade),
    "multiple": QuestionType("multiple", _options_layout, _options_view, _multiple_parse, _multiple_grade),
    "true_false": QuestionType("true_false", _tf_layout, _tf_view, _tf_parse, _tf_grade),
    "short_text": QuestionType("short_text", _text_layout, _tf_view, _text_parse, _text_grade),
    "numeric": QuestionType("numeric", _text_layout, _tf_view, _numeric_parse, _numeric_grade),
    "matching": QuestionType("matching", _matching_layout, _matching_view, _matching_parse, _matching_grade),
    "ordering": QuestionType("ordering", _ordering_layout, _ordering_view, _ordering_parse, _ordering_grade),
    "hotspot": QuestionType("hotspot", _hotspot_layout, _hotspot_view, _hotspot_parse, _hotspot_grade),
    "scenario": QuestionType("scenario", _scenario_layout, _scenario_view, _scenario_parse, _scenario_grade),
}


def grade(question_type: str, spec: Mapping[str, Any], answer: Answer | None, points: float) -> tuple[float,
          float]:
    """``(score, fraction)`` for an answer; no answer earns 0. The score always lies in [0, points]."""
    if not answer:
        return 0.0, 0.0
    try:
        fraction = TYPES[question_type].grade(spec, answer)
    except (AttributeError, IndexError, KeyError, OverflowError, TypeError, ValueError):
        fraction = 0.0  # a malformed stored answer earns nothing rather than breaking grading
    fraction = max(0.0, min(1.0, fraction))
    return round(points * fraction, 4), fraction


def aggregate(method: str, percents: Sequence[float]) -> float | None:
    """The grade across a trainee's finished attempts: highest, last, first or average."""
    if not percents:
        return None
    if method == "last":
        return percents[-1]
    if method == "first":
        return percents[0]
    if method == "average":
        return sum(percents) / len(percents)
    return max(percents)
