"""Course completion rules: pure decisions over counts, no Flask, no database.

A course file says what completion means (``completion: {lessons, quizzes, exam}``); this module decides
whether a trainee's progress meets it, how far along they are, and the state of each module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
DONE = "done"


@dataclass(frozen=True)
class QuizResult:
    attempted: bool = False
    passed: bool = False
    best_percent: float | None = None


@dataclass(frozen=True)
class Progress:
    lessons_total: int
    lessons_completed: int
    #: quiz id -> result, for every module quiz of the version.
    module_quizzes: Mapping[int, QuizResult] = field(default_factory=dict)
    #: The final exam's result; None when the course has no exam.
    exam: QuizResult | None = None


def _quiz_ok(requirement: str, result: QuizResult) -> bool:
    if requirement == "passed":
        return result.passed
    if requirement == "attempted":
        return result.attempted
    return True


def requirements(rule: Mapping[str, str], progress: Progress) -> list[bool]:
    """One flag per required item (each lesson, each module quiz, the exam): is it satisfied?"""
    items: list[bool] = []
    if rule.get("lessons", "all") == "all":
        items += [True] * progress.lessons_completed + [False] * (progress.lessons_total - progress.lessons_completed)
    quizzes = rule.get("quizzes", "passed")
    if quizzes != "none":
        items += [_quiz_ok(quizzes, r) for r in progress.module_quizzes.values()]
    if rule.get("exam", "passed") == "passed":
        items.append(progress.exam is not None and progress.exam.passed)
    return items


def is_complete(rule: Mapping[str, str], progress: Progress) -> bool:
    """True when every requirement of ``rule`` is met (a rule requiring an exam the course lacks never is)."""
    return all(requirements(rule, progress))


def percent_done(rule: Mapping[str, str], progress: Progress) -> int:
    items = requirements(rule, progress)
    if not items:
        return 100
    return int(100 * sum(items) / len(items))


def module_state(
    lessons_total: int,
    lessons_completed: int,
    lessons_viewed: int,
    quiz: QuizResult | None,
    quiz_requirement: str = "passed",
) -> str:
    """``done`` when every lesson is completed and the quiz (if any) meets the requirement."""
    quiz_ok = quiz is None or quiz_requirement == "none" or _quiz_ok(quiz_requirement, quiz)
    if lessons_completed >= lessons_total and quiz_ok:
        return DONE
    if lessons_viewed or lessons_completed or (quiz is not None and quiz.attempted):
        return IN_PROGRESS
    return NOT_STARTED
