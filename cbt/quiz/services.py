"""Attempt lifecycle: start, autosave, check (practice), submit, grade, expire. Services flush; views commit.

Grading happens on the server only, from the question version stored with each response. Submitting is a
conditional update (``WHERE status = 'in_progress'``): of two racing submits exactly one grades.
"""

from __future__ import annotations

import hmac
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, TextClause, bindparam, exists, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from cbt.courses import cache as content_cache
from cbt.courses.cache import QuestionSnapshot
from cbt.courses.models import QuestionVersion, Quiz
from cbt.db import session, utcnow
from cbt.quiz import grading
from cbt.quiz.models import Attempt, Response


class QuizRefusal(Exception):
    """A translated reason the trainee cannot do this now."""


@dataclass(frozen=True)
class SaveResult:
    status: str  # saved | stale | late | closed | locked
    seq: int
    answer: dict[str, Any] | None = None


def attempts_of(user_id: int, quiz_id: int) -> list[Attempt]:
    return list(session.scalars(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id)
        .order_by(Attempt.number)))


def open_attempt(user_id: int, quiz_id: int) -> Attempt | None:
    return session.scalar(select(Attempt).where(
        Attempt.user_id == user_id, Attempt.quiz_id == quiz_id, Attempt.status == "in_progress"))


def start_refusal(quiz: Quiz, attempts: list[Attempt], now: datetime) -> str | None:
    """Why a new attempt cannot start now (translated), or None."""
    if quiz.opens_at and now < quiz.opens_at:
        return _("This quiz opens on %(when)s.", when=_format(quiz.opens_at))
    if quiz.closes_at and now >= quiz.closes_at:
        return _("This quiz closed on %(when)s.", when=_format(quiz.closes_at))
    if quiz.attempts and len(attempts) >= quiz.attempts:
        return ngettext("You have used your %(num)d attempt.", "You have used all %(num)d attempts.",
                        quiz.attempts)
    finished = [a for a in attempts if a.submitted_at]
    if quiz.attempt_delay_minutes and finished:
        ready = finished[-1].submitted_at + timedelta(minutes=quiz.attempt_delay_minutes)
        if now < ready:
            return _("You can start the next attempt at %(when)s.", when=_format(ready))
    return None


def _format(moment: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(moment, "short")


def start_attempt(user: Any, quiz: Quiz, access_code: str | None, now: datetime | None = None) -> Attempt:
    """Resume the open attempt, or start a new one (drawing and shuffling its questions)."""
    now = now or utcnow()
    finish_expired(user.id, now)
    # One read serves the open attempt, the attempt limits and the questions already seen.
    attempts = attempts_of(user.id, quiz.id)
    current = next((a for a in attempts if a.status == "in_progress"), None)
    if current is not None:
        return current
    refusal = start_refusal(quiz, attempts, now)
    if refusal:
        raise QuizRefusal(refusal)
    if quiz.access_code and not hmac.compare_digest(
        (access_code or "").strip().encode(), quiz.access_code.strip().encode()
    ):
        raise QuizRefusal(_("The access code is not correct. Ask your trainer for it."))
    attempt_uuid = uuid.uuid4()
    rng = random.Random(attempt_uuid.int)
    seen = _seen_question_slugs(attempts)
    questions = draw_questions(quiz, seen, rng)
    if not questions:
        raise QuizRefusal(_("This quiz has no questions yet."))
    layout = {
        str(q.id): grading.TYPES[q.type].layout(q.spec, rng, quiz.shuffle_options) for q in questions
    }
    deadline = None
    if quiz.time_limit_minutes:
        deadline = now + timedelta(minutes=quiz.time_limit_minutes)
    if quiz.closes_at:
        deadline = min(deadline, quiz.closes_at) if deadline else quiz.closes_at
    attempt = Attempt(
        uuid=attempt_uuid, user_id=user.id, quiz_id=quiz.id, course_version_id=quiz.course_version_id,
        number=(max((a.number for a in attempts), default=0) + 1), status="in_progress", started_at=now,
        deadline_at=deadline, question_ids=[q.id for q in questions], layout=layout, seq=0,
        site_id=user.site_id,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        # Another request (another tab or server) started this attempt a moment ago: resume that one.
        current = open_attempt(user.id, quiz.id)
        if current is None:
            raise QuizRefusal(_("The attempt could not be started. Please try again.")) from None
        return current
    return attempt


def _seen_question_slugs(attempts: list[Attempt]) -> set[str]:
    ids = {qid for attempt in attempts for qid in attempt.question_ids}
    if not ids:
        return set()
    return {q.slug for q in content_cache.questions(sorted(ids))}


def draw_questions(quiz: Quiz, seen: set[str], rng: random.Random) -> list[QuestionSnapshot]:
    """The attempt's questions: a fixed list, the module's bank, or draw rules (unseen questions first).

    The pool and the questions come from the immutable-version cache, so a classroom starting an exam together
    neither queries nor decodes the bank once per trainee.
    """
    order = content_cache.question_order(quiz.course_version_id)
    module_slugs = dict(order)
    rows = [(q, module_slugs[q.id]) for q in content_cache.questions([qid for qid, _slug in order])]
    if quiz.draw:
        chosen: list[QuestionSnapshot] = []
        taken: set[int] = set()
        for rule in quiz.draw:
            tags = set(rule.get("tags") or [])
            pool = [q for q, module_slug in rows if q.id not in taken
                    and (not rule.get("module") or module_slug == rule["module"])
                    and (not tags or tags & set(q.tags))]
            fresh = [q for q in pool if q.slug not in seen]
            old = [q for q in pool if q.slug in seen]
            rng.shuffle(fresh)
            rng.shuffle(old)
            for q in (fresh + old)[: int(rule["count"])]:
                chosen.append(q)
                taken.add(q.id)
        questions = chosen
    elif quiz.question_slugs is not None:
        by_slug = {q.slug: q for q, _m in rows}
        questions = [by_slug[s] for s in quiz.question_slugs if s in by_slug]
    elif quiz.module_id is not None:
        questions = [q for q, _m in rows if q.module_id == quiz.module_id]
    else:
        questions = [q for q, _m in rows]
    if quiz.shuffle_questions:
        rng.shuffle(questions)
    return questions


def questions_of(attempt: Attempt) -> list[QuestionSnapshot]:
    return content_cache.questions(list(attempt.question_ids))


def responses_of(attempt: Attempt) -> dict[int, Response]:
    return {r.question_version_id: r for r in session.scalars(
        select(Response).where(Response.attempt_id == attempt.id).execution_options(populate_existing=True))}


def is_late(attempt: Attempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at


def save_answer(attempt: Attempt, question: QuestionVersion | QuestionSnapshot, form: Mapping[str, Any], base_seq: int,
                now: datetime | None = None) -> SaveResult:
    """Store one answer (an idempotent upsert). Refuses late, closed, locked (checked) and stale writes.

    ``base_seq`` is the attempt sequence the trainee's page was rendered with (or the newest an autosaving
    script has seen). If this question was saved after that point, the page is stale (another tab, or the
    back button) and must not overwrite the newer answer.
    """
    now = now or utcnow()
    if attempt.status != "in_progress":
        return SaveResult("closed", attempt.seq)
    if is_late(attempt, now):
        return SaveResult("late", attempt.seq)
    practice = _practice(attempt)
    existing = None
    if question.type == "scenario":
        # A scenario's path builds on the saved one, so it is read first; other types go straight to the upsert,
        # whose condition alone refuses a stale page or a checked (locked) practice answer.
        existing = _saved_response(attempt.id, question.id)
        if existing is not None and existing.seq > base_seq:
            return SaveResult("stale", attempt.seq, existing.answer)
        if existing is not None and existing.score is not None and practice:
            return SaveResult("locked", attempt.seq, existing.answer)
    layout = attempt.layout[str(question.id)]
    previous = existing.answer if existing else None
    answer = grading.TYPES[question.type].parse(question.spec, layout, form, previous)
    if answer is None:
        return SaveResult("saved", attempt.seq, None)
    new_seq = session.execute(_NEXT_SEQ, {"attempt_id": attempt.id}).scalar()
    if new_seq is None:
        return SaveResult("closed", attempt.seq)
    # The database already holds it: no second UPDATE of the attempt when the session commits.
    set_committed_value(attempt, "seq", new_seq)
    written = session.execute(
        _SAVE_CHECKED_ONCE if practice else _SAVE,
        {"attempt_id": attempt.id, "question_version_id": question.id, "answer": answer, "saved_at": now,
         "seq": new_seq, "uuid": uuid.uuid4(), "base_seq": base_seq},
    ).first()
    if written is None:
        # The saved answer wins: another tab saved this question after the page was rendered (on PostgreSQL
        # possibly while this request ran), or it is a practice answer already checked.
        saved = _saved_response(attempt.id, question.id)
        if saved is not None and saved.seq <= base_seq and saved.score is not None:
            return SaveResult("locked", new_seq, saved.answer)
        return SaveResult("stale", new_seq, saved.answer if saved else None)
    return SaveResult("saved", new_seq, answer)


#: A save's two statements, built once (every autosave runs them).
#: On the table, not the entity: an ORM UPDATE first evaluates its WHERE against the session's objects in Python.
_ATTEMPTS = Attempt.__table__
_NEXT_SEQ = (
    update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("attempt_id"), _ATTEMPTS.c.status == "in_progress")
    .values(seq=_ATTEMPTS.c.seq + 1).returning(_ATTEMPTS.c.seq)
)


_UPSERT_RESPONSE = (
    "INSERT INTO responses (attempt_id, question_version_id, answer, saved_at, seq, uuid) "
    "VALUES (:attempt_id, :question_version_id, :answer, :saved_at, :seq, :uuid) "
    "ON CONFLICT (attempt_id, question_version_id) DO UPDATE "
    "SET answer = excluded.answer, saved_at = excluded.saved_at, seq = excluded.seq "
    "WHERE responses.seq <= :base_seq {checked} RETURNING id"
)


def _save_statement(*, keep_checked: bool) -> TextClause:
    """The answer upsert, the same SQL on SQLite and PostgreSQL, as text so that it is compiled once.

    SQLAlchemy never caches its dialect INSERT ... ON CONFLICT constructs: compiling one anew was the costliest
    step of an autosave. The update applies only when the page was not stale (``base_seq``) and, for practice
    (``keep_checked``), the answer was not checked yet.
    """
    table = Response.__table__
    sql = _UPSERT_RESPONSE.format(checked="AND responses.score IS NULL" if keep_checked else "")
    typed = ("attempt_id", "question_version_id", "answer", "saved_at", "seq", "uuid")
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in typed),
                                bindparam("base_seq", type_=Integer()))


_SAVE = _save_statement(keep_checked=False)
_SAVE_CHECKED_ONCE = _save_statement(keep_checked=True)


def _saved_response(attempt_id: int, question_id: int) -> Response | None:
    return session.scalar(select(Response).where(
        Response.attempt_id == attempt_id, Response.question_version_id == question_id
    ).execution_options(populate_existing=True))


def _practice(attempt: Attempt) -> bool:
    return attempt.quiz.kind == "practice"


def check_answer(attempt: Attempt, question: QuestionVersion | QuestionSnapshot) -> Response | None:
    """Practice mode: grade one saved answer now, so its feedback can be shown (the answer is then locked)."""
    if not _practice(attempt):
        return None  # an exam is graded at submission only, whatever a hand-made request asks
    response = session.scalar(select(Response).where(
        Response.attempt_id == attempt.id, Response.question_version_id == question.id))
    if response is None or response.score is not None:
        return response
    path = response.answer.get("path", [])
    if question.type == "scenario" and grading.scenario_position(question.spec, path):
        return response  # a case study is checked when it ends
    response.score, response.fraction = grading.grade(
        question.type, question.spec, response.answer, question.points)
    session.flush()
    return response


def submit(attempt: Attempt, now: datetime | None = None) -> bool:
    """Finish and grade the attempt; True if this call did it (a second submit changes nothing)."""
    now = now or utcnow()
    grace = timedelta(seconds=attempt.quiz.grace_seconds)
    late = attempt.deadline_at is not None and now > attempt.deadline_at + grace
    status = "expired" if late else "submitted"
    won = session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == "in_progress")
        .values(status=status,
                submitted_at=min(now, attempt.deadline_at + grace) if attempt.deadline_at else now)
    ).rowcount
    if won != 1:
        session.refresh(attempt)
        return False
    session.refresh(attempt)
    _grade(attempt)
    from cbt.learn.services import check_completion

    check_completion(attempt.user_id, attempt.quiz.module.course_version if attempt.quiz.module
                     else _version(attempt))
    return True


def _version(attempt: Attempt) -> Any:
    from cbt.courses.models import CourseVersion

    return session.get(CourseVersion, attempt.course_version_id)


def _grade(attempt: Attempt) -> None:
    questions = questions_of(attempt)
    responses = responses_of(attempt)
    total = maximum = 0.0
    for question in questions:
        maximum += question.points
        response = responses.get(question.id)
        if response is None:
            continue
        # Answers count only if saved before the deadline (saves after it are refused anyway).
        score, fraction = grading.grade(question.type, question.spec, response.answer, question.points)
        response.score, response.fraction = score, fraction
        total += score
    attempt.score = round(total, 4)
    attempt.max_score = maximum
    attempt.percent = round(100 * total / maximum, 2) if maximum else 0.0
    attempt.passed = attempt.percent >= attempt.quiz.pass_mark
    session.flush()


def has_overdue_attempt(user_id: int, now: datetime | None = None) -> bool:
    """Whether :func:`finish_expired` may have work for this user (a deadline has passed; grace aside)."""
    return session.scalar(select(exists().where(
        Attempt.user_id == user_id, Attempt.status == "in_progress", Attempt.deadline_at < (now or utcnow())))) or False


def finish_expired(user_id: int | None = None, now: datetime | None = None) -> int:
    """Grade abandoned attempts whose deadline (plus grace) has passed, with the answers they saved."""
    now = now or utcnow()
    stmt = select(Attempt).where(Attempt.status == "in_progress", Attempt.deadline_at.is_not(None))
    if user_id is not None:
        stmt = stmt.where(Attempt.user_id == user_id)
    count = 0
    for attempt in session.scalars(stmt).all():
        if now > attempt.deadline_at + timedelta(seconds=attempt.quiz.grace_seconds):
            count += submit(attempt, now)
    return count


def review_visible(attempt: Attempt, now: datetime | None = None) -> bool:
    """Whether answers, keys and feedback may be shown for a finished attempt, by the quiz's review policy."""
    if attempt.status == "in_progress":
        return False
    review = attempt.quiz.review
    if review in ("immediately", "after_submit"):
        return True
    if review == "after_close":
        closes = attempt.quiz.closes_at
        return closes is not None and (now or utcnow()) >= closes
    return False


def has_running_attempt(user: Any) -> bool:
    """Idle exemption: a trainee in the middle of an attempt is not signed out for thinking quietly.

    The exemption lasts until the deadline plus the quiz's grace seconds, when the final submit is still
    accepted (only asked about sessions already idle, so loading the few open attempts costs nothing).
    """
    now = utcnow()
    running = session.scalars(select(Attempt).where(
        Attempt.user_id == user.id, Attempt.status == "in_progress"))
    return any(a.deadline_at is None or now <= a.deadline_at + timedelta(seconds=a.quiz.grace_seconds)
               for a in running)


def init_app(app: Any) -> None:
    app.extensions.setdefault("cbt.idle_exemptions", []).append(has_running_attempt)
