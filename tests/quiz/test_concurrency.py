"""Racing requests on one attempt: double submits grade once; concurrent autosaves lose nothing.

Two test clients signed in as the same trainee play two tabs or two terminals; threads released by a
barrier make their requests overlap (on PostgreSQL truly in parallel, on SQLite serialized by its lock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from cbt.quiz import services
from tests.quiz.conftest import (
    answer_form,
    flashes,
    get_attempt,
    page_of,
    questions_in,
    responses_in,
    seq_of,
    token_of,
)


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; return their results (re-raising any error)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count real submissions (services.submit returning True) and gradings."""
    counts = {"won": 0, "graded": 0}
    submit, grade = services.submit, services._grade
    lock = threading.Lock()

    def counting_submit(*args: Any, **kwargs: Any) -> bool:
        won = submit(*args, **kwargs)
        with lock:
            counts["won"] += bool(won)
        return won

    def counting_grade(*args: Any, **kwargs: Any) -> None:
        with lock:
            counts["graded"] += 1
        grade(*args, **kwargs)

    monkeypatch.setattr(services, "submit", counting_submit)
    monkeypatch.setattr(services, "_grade", counting_grade)
    return counts


def answer_some(trainee, db, attempt_id):
    attempt = get_attempt(db, attempt_id)
    for kind in ("single", "multiple", "numeric"):
        number, question = page_of(db, attempt, kind)
        trainee.save(attempt_id, number, answer_form(question, attempt.layout[str(question.id)]))


def test_double_submit_one_after_the_other_grades_once(kit, trainee, db, counted):
    attempt_id = trainee.start_ok(kit.exam_id)
    answer_some(trainee, db, attempt_id)
    token = token_of(trainee.finish_page(attempt_id))
    first = trainee.submit(attempt_id, token=token)
    graded = get_attempt(db, attempt_id)
    second = trainee.submit(attempt_id, token=token)  # the button pressed again, or the request retried
    assert first.headers["Location"] == second.headers["Location"]
    again = get_attempt(db, attempt_id)
    assert counted == {"won": 1, "graded": 1}
    assert (again.status, again.submitted_at, again.score, again.percent) == (
        graded.status,
        graded.submitted_at,
        graded.score,
        graded.percent,
    )
    assert again.score > 0


def test_double_submit_from_two_terminals_at_once_grades_once(kit, trainee, browser, db, counted):
    attempt_id = trainee.start_ok(kit.exam_id)
    answer_some(trainee, db, attempt_id)
    other = browser(trainee.user)
    tokens = [token_of(t.finish_page(attempt_id)) for t in (trainee, other)]
    responses = in_parallel(
        lambda: trainee.submit(attempt_id, token=tokens[0]), lambda: other.submit(attempt_id, token=tokens[1])
    )
    assert [r.status_code for r in responses] == [302, 302]
    assert all(r.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/result") for r in responses)
    assert counted == {"won": 1, "graded": 1}
    graded = get_attempt(db, attempt_id)
    assert graded.status == "submitted" and graded.score > 0
    pages = [t.result(attempt_id) for t in (trainee, other)]
    assert pages[0].count(f"{round(graded.percent)}%") >= 1 and pages[1].count(f"{round(graded.percent)}%") >= 1


def test_concurrent_autosaves_of_different_questions_lose_nothing(kit, trainee, browser, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    other = browser(trainee.user)
    attempt = get_attempt(db, attempt_id)
    questions = [q for q in questions_in(db, attempt) if q.type != "scenario"]
    pages = {t: t.page(attempt_id, 1) for t in (trainee, other)}

    def save_all(tab, mine):
        page = pages[tab]
        return [
            tab.autosave(
                attempt_id,
                q.id,
                answer_form(q, attempt.layout[str(q.id)]),
                seq=int(seq_of(page)),
                token=token_of(page),
            )["status"]
            for q in mine
        ]

    half = len(questions) // 2
    results = in_parallel(lambda: save_all(trainee, questions[:half]), lambda: save_all(other, questions[half:]))
    assert results == [["saved"] * half, ["saved"] * (len(questions) - half)]
    stored = responses_in(db, attempt_id)
    assert set(stored) == {q.id for q in questions}
    assert len({r.seq for r in stored.values()}) == len(questions)  # every save got its own sequence number
    assert get_attempt(db, attempt_id).seq == len(questions)


def test_same_question_the_causally_later_write_wins_and_a_stale_page_cannot_overwrite(kit, trainee, browser, db):
    attempt_id = trainee.start_ok(kit.exam_id)
    other = browser(trainee.user)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "q-single")
    layout = attempt.layout[str(question.id)]
    choice = {o: {"answer": [str(layout["options"].index(o))]} for o in layout["options"]}

    old_page = trainee.page(attempt_id, number)  # tab 1 opens the question...
    first = trainee.autosave(attempt_id, question.id, choice["okilo"], int(seq_of(old_page)), token_of(old_page))
    assert first["status"] == "saved"
    assert responses_in(db, attempt_id)[question.id].answer == {"choice": "okilo"}

    newer_page = other.page(attempt_id, number)  # ...tab 2 opens it after that save, and changes it
    assert int(seq_of(newer_page)) == first["seq"]
    second = other.save(attempt_id, number, choice["olima"], page=newer_page)
    assert second.status_code == 302
    assert responses_in(db, attempt_id)[question.id].answer == {"choice": "olima"}

    # Tab 1 (or the back button) still shows the page from before tab 2's write.
    stale = trainee.save(attempt_id, number, choice["omike"], page=old_page)
    assert stale.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/{number}")
    shown = trainee.follow(stale)
    assert any("changed in another window or tab" in f for f in flashes(shown))
    assert 'value="{}" checked'.format(layout["options"].index("olima")) in " ".join(shown.split())
    reply = trainee.autosave(attempt_id, question.id, choice["omike"], int(seq_of(old_page)), token_of(old_page))
    assert reply["status"] == "stale"
    assert responses_in(db, attempt_id)[question.id].answer == {"choice": "olima"}

    # Reloaded, tab 1 is up to date and may change the answer again.
    assert trainee.save(attempt_id, number, choice["omike"]).status_code == 302
    assert responses_in(db, attempt_id)[question.id].answer == {"choice": "omike"}


def test_racing_writes_to_the_same_question_one_wins_the_other_is_told(kit, trainee, browser, db):
    """Both tabs saw the same state and write at once: exactly one is saved, the other hears "stale"."""
    attempt_id = trainee.start_ok(kit.exam_id)
    other = browser(trainee.user)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "q-single")
    layout = attempt.layout[str(question.id)]
    tabs = {"okilo": trainee, "omike": other}
    for _round in range(5):
        page = trainee.page(attempt_id, number)
        seq, token = int(seq_of(page)), {t: token_of(t.page(attempt_id, number)) for t in tabs.values()}

        def write(option: str, tab: Any, seq: int = seq, token: dict[Any, str] = token) -> tuple[str, Any]:
            form = {"answer": [str(layout["options"].index(option))]}
            return option, tab.autosave(attempt_id, question.id, form, seq, token[tab])

        replies = in_parallel(*[lambda o=o, t=t: write(o, t) for o, t in tabs.items()])
        statuses = sorted(reply["status"] for _o, reply in replies)
        assert statuses == ["saved", "stale"], replies
        winner = next(o for o, reply in replies if reply["status"] == "saved")
        assert responses_in(db, attempt_id)[question.id].answer == {"choice": winner}
