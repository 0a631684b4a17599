"""No answer key before an exam is submitted: every page and every autosave reply is searched for it.

The fixture course uses distinctive key material (``FBMARK-`` feedback, ids like ``okilo``, the number 4713,
scenario points 37 and 53), so finding any of it in a response means the key reached the browser.
"""

from __future__ import annotations

import re

from tests.quiz.conftest import (
    answer_form,
    get_attempt,
    questions_in,
    scenario_forms,
    token_of,
)
from tests.quiz.course import ACCEPTED, FEEDBACK_MARKERS, KEY_IDS, NUMERIC_ANSWER, SCENARIO_POINTS


def leaks(body: str) -> list[str]:
    """Key material found in a response body (after removing the random CSRF tokens and the save counters)."""
    body = re.sub(r'name="csrf_token" value="[^"]*"', "", body)
    body = re.sub(r'name="seq" value="\d+"|"seq":\s*\d+|data-seq="\d+"', "", body)
    found = [m for m in FEEDBACK_MARKERS if m in body]
    found += [a for a in ACCEPTED if a.casefold() in body.casefold()]
    found += [i for i in KEY_IDS if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", body)]
    number = str(NUMERIC_ANSWER)
    found += [
        n
        for n in (
            number,
            f"{number[0]} {number[1:]}",
            f"{number[0]},{number[1:]}",
            f"{number[0]}\u00a0{number[1:]}",
        )
        if re.search(rf"(?<![\w.]){n}(?![\w])", body)
    ]
    found += [str(p) for p in SCENARIO_POINTS if re.search(rf"(?<![\w.-]){p}(?![\w.-])", body)]
    found += re.findall(r"data-[\w-]*correct[\w-]*|data-[\w-]+=\"[^\"]*correct[^\"]*\"", body, re.I)
    found += re.findall(r"\bpoints?\b|Correct answer|class=\"feedback\"|review (?:right|wrong|partly)", body, re.I)
    return found


def test_leak_detector_finds_planted_key_material():
    """Guards the test below: each kind of key material is recognised."""
    assert leaks("<p>FBMARK-tf</p>")
    assert leaks("<p>ҚҰЖАТ іздеу</p>")
    assert leaks('<input value="okilo">')
    assert leaks("<p>4 713</p>") and leaks("<p>4713</p>")
    assert leaks('<li data-points="37">')
    assert leaks('<li data-state="correct">') and leaks("<li data-is-correct>")
    assert not leaks('<p class="timer" data-remaining="1799">Time left: 29 min</p><a href="/quiz/attempts/4713x">')


def test_no_page_or_autosave_of_a_running_exam_shows_the_key(kit, trainee, db):
    bodies: list[tuple[str, str]] = []

    def keep(label: str, response) -> str:
        body = response.get_data(as_text=True)
        bodies.append((label, body))
        return body

    keep("overview", trainee.client.get(f"/quiz/{kit.exam_id}"))
    started = trainee.start(kit.exam_id)
    keep("start", started)
    attempt_id = int(re.search(r"/attempts/(\d+)/1$", started.headers["Location"]).group(1))
    attempt = get_attempt(db, attempt_id)
    questions = questions_in(db, attempt)

    for number, question in enumerate(questions, start=1):
        path = f"/quiz/attempts/{attempt_id}/{number}"
        page = keep(f"page {number} ({question.type})", trainee.client.get(path))
        layout = attempt.layout[str(question.id)]
        seq = int(re.search(r'name="seq" value="(\d+)"', page).group(1))
        if question.type == "scenario":
            for form in scenario_forms(question, layout, ["cgood", "cfinish"]):
                data = {"csrf_token": token_of(page), "seq": str(seq), "action": "step", **form}
                keep(f"step {number}", trainee.client.post(path, data=data))
                page = keep(f"page {number} after a step", trainee.client.get(path))
                seq = int(re.search(r'name="seq" value="(\d+)"', page).group(1))
            continue
        # Wrong typed answers, so the trainee's own words cannot look like a leaked key.
        form = answer_form(question, layout, right=question.type not in ("short_text", "numeric"))
        reply = trainee.client.post(
            f"/quiz/attempts/{attempt_id}/autosave",
            data={"csrf_token": token_of(page), "seq": str(seq), "question": str(question.id), **form},
        )
        keep(f"autosave {number}", reply)
        assert reply.get_json()["status"] == "saved"
        seq = reply.get_json()["seq"]
        for action in ("check", "next"):  # "check" is a practice button; on an exam it must reveal nothing
            data = {"csrf_token": token_of(page), "seq": str(seq), "action": action, **form}
            after = trainee.client.post(path, data=data)
            keep(f"{action} {number}", after)
            keep(f"after {action} {number}", trainee.client.get(after.headers["Location"]))
            seq = int(re.search(r'name="seq" value="(\d+)"', trainee.client.get(path).get_data(as_text=True)).group(1))
        keep(f"prefilled {number}", trainee.client.get(path))
        stale = trainee.client.post(
            f"/quiz/attempts/{attempt_id}/autosave",
            data={"csrf_token": token_of(page), "seq": "0", "question": str(question.id), **form},
        )
        assert stale.get_json()["status"] == "stale"
        keep(f"stale autosave {number}", stale)

    keep("finish", trainee.client.get(f"/quiz/attempts/{attempt_id}/finish"))
    keep("result before submit", trainee.client.get(f"/quiz/attempts/{attempt_id}/result"))
    keep("overview while running", trainee.client.get(f"/quiz/{kit.exam_id}"))
    assert len(bodies) > 5 * len(questions)
    found = {label: leaks(body) for label, body in bodies if leaks(body)}
    assert not found, found

    # The same detector does find the key once the exam is submitted: the search is not blind.
    submitted = trainee.submit(attempt_id)
    result = trainee.client.get(submitted.headers["Location"]).get_data(as_text=True)
    assert "FBMARK-scenario" in leaks(result) and "Correct answer" in " ".join(leaks(result))
