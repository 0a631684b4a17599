"""Turning the authoring forms into package data (the YAML the README documents), and back.

Form fields are named after the YAML field they fill, as the loader names them in its problems:
``title.kk``, ``options[1].text.ru``, ``steps[0].choices[2].next``. That one convention gives three
things: the form data unflattens into the file's structure, a problem the loader reports on
``questions[4].options[1].text`` lands next to the input ``options[1].text``, and a re-rendered form
shows exactly what the trainer typed.

Values are converted only as far as the format needs (numbers, lists, booleans); anything that does not
convert is kept as typed, so the loader, the one validator, says what is wrong in the trainer's language.
Rows are lists of mappings; a row left blank is dropped, and rows without an id get the next free one.
Pure: no Flask (the form is any mapping with ``getlist``), no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from cbt.author.package import clean_text, is_id, next_ids, option_ids, parse_path
from cbt.content.schema import LOCALES, QUESTION_TYPES

#: Form keys that are controls, never data.
CONTROL_KEYS = frozenset({"csrf_token", "action", "revision"})
MAX_ROWS = 200


class FormData(Protocol):
    def __iter__(self) -> Iterator[str]: ...
    def getlist(self, key: str) -> list[str]: ...


# -- unflattening ----------------------------------------------------------------------------------------


def unflatten(form: FormData) -> dict[str, Any]:
    """``{"options[0].text.en": "x"}`` -> ``{"options": {0: {"text": {"en": "x"}}}}``.

    List indexes stay dict keys here (see :func:`rows`), so a form that skips an index or lists them in
    any order still reads correctly. A key that is both a value and a container is ignored.
    """
    tree: dict[Any, Any] = {}
    for name in list(form):
        if name in CONTROL_KEYS or name.startswith("_"):
            continue
        path = parse_path(name)
        if path is None or any(isinstance(s, int) and s >= MAX_ROWS for s in path):
            continue
        values = form.getlist(name)
        node = tree
        for segment in path[:-1]:
            child = node.setdefault(segment, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            if not isinstance(node.get(path[-1]), dict):
                node[path[-1]] = values if len(values) > 1 else (values[0] if values else "")
    return tree


def rows(node: Any) -> list[dict[Any, Any]]:
    """The rows of a list field, in index order."""
    if not isinstance(node, dict):
        return []
    return [node[key] for key in sorted(k for k in node if isinstance(k, int)) if isinstance(node[key], dict)]


# -- values ---------------------------------------------------------------------------------------------


def _one(value: Any) -> str:
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value if isinstance(value, str) else ""


def text(value: Any, *, multiline: bool = False) -> str | None:
    """Trimmed text; ``None`` when blank. Multi-line texts keep their inner line breaks (Markdown)."""
    raw = _one(value)
    if multiline:
        raw = clean_text(raw).strip("\n")
        return raw if raw.strip() else None
    raw = " ".join(raw.split())
    return raw or None


def localized(value: Any, *, multiline: bool = False) -> dict[str, str] | None:
    """``{locale: text}`` for the locales filled in, in LOCALES order; ``None`` when all are blank."""
    node = value if isinstance(value, dict) else {}
    result = {loc: t for loc in LOCALES if (t := text(node.get(loc), multiline=multiline)) is not None}
    return result or None


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+[.,]?\d*|[.,]\d+)$")


def number(value: Any) -> int | float | str | None:
    """A number as the trainer typed it (``12``, ``0.5``, ``0,5``); other text is kept for the loader."""
    raw = text(value)
    if raw is None:
        return None
    compact = raw.replace(" ", "").replace("\u00a0", "")
    if _INT.match(compact):
        return int(compact)
    if _FLOAT.match(compact):
        return float(compact.replace(",", "."))
    return raw


def numbers(value: Any) -> list[int | float] | str | None:
    """``"120, 200, 80, 40"`` -> ``[120, 200, 80, 40]``; text that is not all numbers is kept."""
    raw = text(value)
    if raw is None:
        return None
    parts = [p for p in re.split(r"[\s;]*,[\s;]*|[\s;]+", raw) if p]
    converted = [number(p) for p in parts]
    if converted and all(isinstance(n, (int, float)) for n in converted):
        return converted  # type: ignore[return-value]
    return raw


def words(value: Any) -> list[str] | None:
    """Tags typed as ``documents, risk`` or ``documents risk``."""
    raw = text(value)
    if raw is None:
        return None
    return [w for w in re.split(r"[\s,;]+", raw) if w] or None


def lines(value: Any) -> list[str] | None:
    """One accepted answer per line."""
    raw = _one(value)
    found = [" ".join(line.split()) for line in clean_text(raw).split("\n")]
    return [line for line in found if line] or None


def checked(value: Any) -> bool:
    return _one(value) not in ("", "0", "false", "off")


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != []:
        data[key] = value


def _blank(row: Mapping[Any, Any], keys: Iterable[str]) -> bool:
    """A row whose content fields are all empty (ids, selects and check boxes do not count)."""
    for key in keys:
        value = row.get(key)
        if isinstance(value, dict):
            if any(_one(v).strip() for v in value.values() if not isinstance(v, dict)):
                return False
        elif _one(value).strip():
            return False
    return True


def _assign_ids(items: list[dict[str, Any]], generator: Any) -> None:
    for item in items:
        if not item.get("id"):
            item["id"] = next(generator)


# -- course, module, lesson -------------------------------------------------------------------------------


def course_settings(form: FormData, current: Mapping[str, Any]) -> dict[str, Any]:
    """course.yaml with the settings form applied; fields the form does not show are kept."""
    tree = unflatten(form)
    data = dict(current)
    for key in ("source_locale",):
        if key in tree:
            _set(data, key, text(tree[key]))
    for key in ("title", "description", "audience"):
        _set(data, key, localized(tree.get(key), multiline=key == "description"))
    _set(data, "estimated_minutes", number(tree.get("estimated_minutes")))
    completion = tree.get("completion") if isinstance(tree.get("completion"), dict) else {}
    rule = {k: text(completion.get(k)) for k in ("lessons", "quizzes", "exam")}
    data["completion"] = {k: v for k, v in rule.items() if v is not None}
    return _ordered(data, COURSE_KEYS)


COURSE_KEYS = ("id", "version", "source_locale", "title", "description", "audience", "estimated_minutes",
               "completion", "modules", "exam")  # fmt: skip
MODULE_KEYS = ("title", "description", "lessons", "questions", "quiz")
QUIZ_KEYS = ("kind", "title", "questions", "draw", "pass_mark", "time_limit_minutes", "attempts",
             "shuffle_questions", "shuffle_options", "review")  # fmt: skip


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value


def _ordered(data: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Known keys in the README's order, then any others as they were (the loader flags unknown ones)."""
    ordered = {k: data[k] for k in keys if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    return ordered


def new_course(form: FormData) -> dict[str, Any]:
    """course.yaml for a course created in the browser: no modules yet, no exam required."""
    tree = unflatten(form)
    data: dict[str, Any] = {"id": text(tree.get("id")), "version": 1, "source_locale": text(tree.get("source_locale"))}
    _put(data, "title", localized(tree.get("title")))
    _put(data, "description", localized(tree.get("description"), multiline=True))
    data["estimated_minutes"] = number(tree.get("estimated_minutes"))
    data["completion"] = {"lessons": "all", "quizzes": "passed", "exam": "none"}
    data["modules"] = []
    return {k: v for k, v in data.items() if v is not None}


def module_settings(form: FormData, current: Mapping[str, Any]) -> dict[str, Any]:
    tree = unflatten(form)
    data = dict(current)
    _set(data, "title", localized(tree.get("title")))
    _set(data, "description", localized(tree.get("description"), multiline=True))
    return _ordered(data, MODULE_KEYS)


def lesson_fields(form: FormData) -> dict[str, Any]:
    """Title, minutes and Markdown body of one language version of a lesson."""
    tree = unflatten(form)
    return {
        "title": text(tree.get("title")),
        "minutes": number(tree.get("minutes")),
        "body": clean_text(_one(tree.get("body"))),
    }


# -- questions -------------------------------------------------------------------------------------------


def question(form: FormData, qtype: str, question_id: str | None) -> dict[str, Any]:
    """One question of a bank, built from the question form of its type."""
    tree = unflatten(form)
    data: dict[str, Any] = {"id": question_id if question_id is not None else text(tree.get("id")),
                            "type": qtype}  # fmt: skip
    difficulty = text(tree.get("difficulty"))
    if difficulty and difficulty != "medium":
        data["difficulty"] = difficulty
    if qtype != "scenario":
        points = number(tree.get("points"))
        if points is not None and points != 1:
            data["points"] = points
    _put(data, "tags", words(tree.get("tags")))
    _put(data, "prompt", localized(tree.get("prompt"), multiline=True))
    builder = _BUILDERS.get(qtype)
    if builder is not None:
        builder(tree, data)
    _put(data, "feedback", localized(tree.get("feedback"), multiline=True))
    return {k: v for k, v in data.items() if v is not None}


def _options(tree: Mapping[Any, Any]) -> tuple[list[dict[str, Any]], list[Mapping[Any, Any]]]:
    kept = [row for row in rows(tree.get("options")) if not _blank(row, ("text", "feedback"))]
    options = []
    for row in kept:
        option: dict[str, Any] = {"id": text(row.get("id")) if is_id(text(row.get("id"))) else None}
        _put(option, "text", localized(row.get("text")))
        _put(option, "feedback", localized(row.get("feedback")))
        options.append(option)
    _assign_ids(options, option_ids(o["id"] for o in options if o["id"]))
    return options, kept


def _single(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    options, kept = _options(tree)
    data["options"] = options
    answer = _one(tree.get("answer"))
    # The radio button's value is the row's position among all rows; map it to the kept row's id.
    all_rows = rows(tree.get("options"))
    if answer.isdigit() and int(answer) < len(all_rows) and all_rows[int(answer)] in kept:
        data["answer"] = options[kept.index(all_rows[int(answer)])]["id"]


def _multiple(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    options, kept = _options(tree)
    data["options"] = options
    data["answer"] = [opt["id"] for opt, row in zip(options, kept, strict=True) if checked(row.get("correct"))]
    scoring = text(tree.get("scoring")) or "all_or_nothing"
    if scoring != "all_or_nothing":
        data["scoring"] = scoring
        _put(data, "penalty", number(tree.get("penalty")))


def _true_false(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    answer = _one(tree.get("answer"))
    if answer in ("true", "false"):
        data["answer"] = answer == "true"


def _short_text(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    node = tree.get("answer") if isinstance(tree.get("answer"), dict) else {}
    accepted = {loc: found for loc in LOCALES if (found := lines(node.get(loc)))}
    if accepted:
        data["answer"] = accepted


def _numeric(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    _put(data, "answer", number(tree.get("answer")))
    tolerance = number(tree.get("tolerance"))
    if tolerance not in (None, 0):
        data["tolerance"] = tolerance
    mode = text(tree.get("tolerance_mode"))
    if mode and mode != "absolute":
        data["tolerance_mode"] = mode
    _put(data, "unit", localized(tree.get("unit")))


def _matching(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    pairs = []
    for row in rows(tree.get("pairs")):
        if _blank(row, ("left", "right")):
            continue
        pair: dict[str, Any] = {"id": text(row.get("id")) if is_id(text(row.get("id"))) else None}
        _put(pair, "left", localized(row.get("left")))
        _put(pair, "right", localized(row.get("right")))
        pairs.append(pair)
    distractors = []
    for row in rows(tree.get("distractors")):
        if _blank(row, ("text",)):
            continue
        item: dict[str, Any] = {"id": text(row.get("id")) if is_id(text(row.get("id"))) else None}
        _put(item, "text", localized(row.get("text")))
        distractors.append(item)
    taken = [i["id"] for i in pairs + distractors if i["id"]]
    _assign_ids(pairs, next_ids("p", taken))
    _assign_ids(distractors, next_ids("d", taken + [p["id"] for p in pairs]))
    data["pairs"] = pairs
    if distractors:
        data["distractors"] = distractors


def _ordering(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    found = []
    for position, row in enumerate(rows(tree.get("items"))):
        if _blank(row, ("text",)):
            continue
        item: dict[str, Any] = {"id": text(row.get("id")) if is_id(text(row.get("id"))) else None}
        _put(item, "text", localized(row.get("text")))
        wanted = number(row.get("position"))
        found.append((wanted if isinstance(wanted, (int, float)) else position + 1, position, item))
    # The trainer may renumber the rows to reorder them; ties keep the order on the page.
    items = [item for _wanted, _position, item in sorted(found, key=lambda t: (t[0], t[1]))]
    _assign_ids(items, next_ids("i", [i["id"] for i in items if i["id"]]))
    data["items"] = items


def _hotspot(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    image = text(tree.get("image"))
    if image:
        data["image"] = image
    _put(data, "alt", localized(tree.get("alt")))
    regions, answer = [], []
    for row in rows(tree.get("regions")):
        if _blank(row, ("id", "label", "coords")):
            continue
        region: dict[str, Any] = {"id": text(row.get("id"))}
        _put(region, "label", localized(row.get("label")))
        region["shape"] = text(row.get("shape")) or "rect"
        _put(region, "coords", numbers(row.get("coords")))
        regions.append((region, checked(row.get("correct"))))
    items = [r for r, _c in regions]
    _assign_ids(items, next_ids("r", [r["id"] for r in items if r["id"]]))
    answer = [r["id"] for r, correct in regions if correct]
    data["regions"] = items
    data["answer"] = answer


def _scenario(tree: Mapping[Any, Any], data: dict[str, Any]) -> None:
    steps: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    for row in rows(tree.get("steps")):
        step_choices = []
        for choice_row in rows(row.get("choices")):
            if _blank(choice_row, ("text", "feedback")):
                continue
            item: dict[str, Any] = {"id": text(choice_row.get("id")) if is_id(text(choice_row.get("id"))) else None}
            _put(item, "text", localized(choice_row.get("text")))
            _put(item, "next", text(choice_row.get("next")))
            points = number(choice_row.get("points"))
            if points not in (None, 0):
                item["points"] = points
            _put(item, "feedback", localized(choice_row.get("feedback")))
            step_choices.append(item)
        if not step_choices and _blank(row, ("text",)):
            continue
        step: dict[str, Any] = {"id": text(row.get("id"))}
        _put(step, "text", localized(row.get("text")))
        step["choices"] = step_choices
        steps.append(step)
        choices += step_choices
    _assign_ids(steps, next_ids("s", [s["id"] for s in steps if s["id"]]))
    _assign_ids(choices, next_ids("c", [c["id"] for c in choices if c["id"]]))
    start = text(tree.get("start"))
    data["start"] = start or (steps[0]["id"] if steps else None)
    data["steps"] = steps
    if data["start"] is None:
        del data["start"]


_BUILDERS = {
    "single": _single,
    "multiple": _multiple,
    "true_false": _true_false,
    "short_text": _short_text,
    "numeric": _numeric,
    "matching": _matching,
    "ordering": _ordering,
    "hotspot": _hotspot,
    "scenario": _scenario,
}
assert set(_BUILDERS) == set(QUESTION_TYPES)


# -- quizzes ---------------------------------------------------------------------------------------------


def quiz(form: FormData, default_kind: str) -> dict[str, Any]:
    """quiz.yaml (or exam.yaml) from the quiz builder."""
    tree = unflatten(form)
    data: dict[str, Any] = {"kind": text(tree.get("kind")) or default_kind}
    _put(data, "title", localized(tree.get("title")))
    mode = text(tree.get("mode")) or "all"
    if mode == "pick":
        picked = tree.get("questions")
        picked = picked if isinstance(picked, list) else ([picked] if isinstance(picked, str) and picked else [])
        data["questions"] = [p for p in picked if isinstance(p, str)]
    elif mode == "draw":
        rules = []
        for row in rows(tree.get("draw")):
            module, tags, count = text(row.get("module")), words(row.get("tags")), number(row.get("count"))
            if module is None and tags is None and count is None:
                continue
            rule: dict[str, Any] = {}
            _put(rule, "module", module)
            _put(rule, "tags", tags)
            rule["count"] = count
            rules.append({k: v for k, v in rule.items() if v is not None})
        data["draw"] = rules
    else:
        data["questions"] = "all"
    _put(data, "pass_mark", number(tree.get("pass_mark")))
    _put(data, "time_limit_minutes", number(tree.get("time_limit_minutes")))
    _put(data, "attempts", number(tree.get("attempts")))
    data["shuffle_questions"] = checked(tree.get("shuffle_questions"))
    data["shuffle_options"] = checked(tree.get("shuffle_options"))
    review = text(tree.get("review"))
    if review:
        data["review"] = review
    return data


def quiz_mode(data: Mapping[str, Any] | None) -> str:
    if not data:
        return "all"
    if "draw" in data:
        return "draw"
    return "pick" if isinstance(data.get("questions"), list) else "all"


# -- translation ------------------------------------------------------------------------------------------


def translated(form: FormData, locale: str, paths: Iterable[str]) -> dict[str, str | list[str] | None]:
    """The target-locale texts of a side-by-side translation form, by field path (blank = remove)."""
    result: dict[str, str | list[str] | None] = {}
    for path in paths:
        values = form.getlist(f"{path}.{locale}")
        if not values:
            continue
        if form.getlist(f"_lines.{path}"):
            result[path] = lines(values[-1])
        else:
            result[path] = text(values[-1], multiline=True)
    return result
