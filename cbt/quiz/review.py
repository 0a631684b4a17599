"""Turning stored answers back into what a page shows: pre-filled inputs, and the review after grading.

Review data includes the key and feedback, so it is only built for a graded response (a checked practice
question or a finished attempt whose review policy allows it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import escape

from cbt.courses.models import QuestionVersion
from cbt.quiz import grading
from cbt.quiz.models import Response


def filled(question: QuestionVersion, layout: dict[str, Any], answer: dict[str, Any] | None) -> dict[str,
           Any]:
    """The saved answer in terms of the page's positions, to pre-fill the form."""
    if not answer:
        return {}
    kind = question.type
    if kind == "single":
        return {"index": _index(layout["options"], answer.get("choice"))}
    if kind == "multiple":
        return {"indexes": {_index(layout["options"], c) for c in answer.get("choices") or []}}
    if kind == "true_false":
        return {"value": "true" if answer.get("value") else "false"}
    if kind == "short_text":
        return {"text": answer.get("text", "")}
    if kind == "numeric":
        value = answer.get("value")
        return {"text": format_number(value) if isinstance(value, (int, float)) else ""}
    if kind == "matching":
        pairs = answer.get("pairs") or {}
        return {"match": {i: _index(layout["rights"], pairs.get(left))
                          for i, left in enumerate(layout["lefts"])}}
    if kind == "ordering":
        order = answer.get("order") or []
        return {"positions": {i: order.index(item) + 1
                              for i, item in enumerate(layout["items"]) if item in order}}
    if kind == "hotspot":
        if "point" in answer:
            return {"point": answer["point"]}
        return {"region_index": _index(layout["regions"], answer.get("region"))}
    if kind == "scenario":
        return {"path": answer.get("path") or []}
    return {}


def format_number(value: Any) -> str:
    """A stored number as the trainee would type it: every digit, no exponent.

    ``f"{value:g}"`` keeps six significant digits: 12345.67 became "12345.7" and 1000000 "1e+06", so a
    resumed page silently saved a different answer, or one the number parser refuses.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _index(items: list[str], value: Any) -> int | None:
    return items.index(value) if value in items else None


def question_review(question: QuestionVersion, response: Response | None, layout: dict[str,
                    Any]) -> dict[str, Any]:
    """Prompt, the trainee's answer, the correct answer, feedback and score, as localized HTML pieces."""
    spec, rendered = question.spec, question.rendered["spec"]
    answer = response.answer if response else None
    score, fraction = (response.score, response.fraction) if response and response.score is not None else (
        grading.grade(question.type, spec, answer, question.points))
    item: dict[str, Any] = {
        "question": question, "prompt": question.rendered["prompt"],
        "feedback": question.rendered.get("feedback"),
        "score": score or 0.0, "points": question.points, "fraction": fraction or 0.0,
        "given": [], "correct": [], "option_feedback": [],
    }
    kind = question.type
    if kind in ("single", "multiple"):
        texts = {o["id"]: o["text"] for o in rendered["options"]}
        feedback = {o["id"]: o.get("feedback") for o in rendered["options"]}
        chosen = ([answer.get("choice")] if kind == "single" and answer
                  else list((answer or {}).get("choices") or []))
        keys = [spec["answer"]] if kind == "single" else list(spec["answer"])
        item["given"] = [{"html": texts[c]} for c in chosen if c in texts]
        item["correct"] = [{"html": texts[c]} for c in keys]
        item["option_feedback"] = [feedback[c] for c in chosen if feedback.get(c)]
    elif kind == "true_false":
        if answer:
            item["given"] = [{"bool": bool(answer.get("value"))}]
        item["correct"] = [{"bool": bool(spec["answer"])}]
    elif kind == "short_text":
        if answer:
            item["given"] = [{"text": answer.get("text", "")}]
        # In the reader's language (it was the file's first locale, Kazakh, for all); escaped: plain text.
        item["correct"] = [{"html": {loc: str(escape(", ".join(words)))
                                     for loc, words in spec["answer"].items()}}]
        item["accepted"] = spec["answer"]
    elif kind == "numeric":
        if answer:
            item["given"] = [{"text": format_number(answer.get("value"))}]
        tolerance = spec.get("tolerance") or 0
        mode = spec.get("tolerance_mode") or "absolute"
        item["correct"] = [{"number": spec["answer"], "tolerance": tolerance, "mode": mode,
                            "unit": rendered.get("unit")}]
    elif kind == "matching":
        left = {p["id"]: p["left"] for p in rendered["pairs"]}
        right = {p["id"]: p["right"] for p in rendered["pairs"]}
        right.update({d["id"]: d["text"] for d in rendered.get("distractors") or []})
        given = (answer or {}).get("pairs") or {}
        item["given"] = [{"pair": (left[lid], right.get(rid))} for lid, rid in given.items() if lid in left]
        item["correct"] = [{"pair": (left[p["id"]], right[p["id"]])} for p in spec["pairs"]]
    elif kind == "ordering":
        texts = {i["id"]: i["text"] for i in rendered["items"]}
        item["given"] = [{"html": texts[i]} for i in (answer or {}).get("order") or [] if i in texts]
        item["correct"] = [{"html": texts[i["id"]]} for i in spec["items"]]
        item["ordered"] = True
    elif kind == "hotspot":
        labels = {r["id"]: r["label"] for r in rendered["regions"]}
        if answer and "region" in answer:
            item["given"] = [{"html": labels.get(answer["region"])}]
        elif answer and "point" in answer:
            x, y = answer["point"]
            inside = [r["id"] for r in spec["regions"]
                      if grading.point_in_region(x, y, r["shape"], r["coords"])]
            # On an edge two regions can hold the point; name the one that earned the grade.
            inside.sort(key=lambda rid: rid not in spec["answer"])
            item["given"] = [{"html": labels[inside[0]]} if inside else {"point": answer["point"]}]
        item["correct"] = [{"html": labels[r]} for r in spec["answer"]]
    elif kind == "scenario":
        steps = {s["id"]: s for s in rendered["steps"]}
        raw_steps = grading.scenario_steps(spec)
        current = spec["start"]
        for choice_id in (answer or {}).get("path") or []:
            if current is None:
                break
            choice = next(c for c in steps[current]["choices"] if c["id"] == choice_id)
            raw = next(c for c in raw_steps[current]["choices"] if c["id"] == choice_id)
            item["given"].append({"step": steps[current]["text"], "html": choice["text"],
                                  "feedback": choice.get("feedback"), "points": raw.get("points") or 0})
            current = raw.get("next")
        item["best"] = grading.best_scenario_points(spec)
    return item
