"""Quiz pages: overview, the attempt (one question per page, autosave), summary, submit, result and review.

Every page works without JavaScript: each "Save", "Next" or "Previous" button saves the answer on the
server. The script in static/js/quiz.js only adds autosave on change, the countdown, clicking on hotspot
images and reordering by buttons.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.wrappers import Response as WerkzeugResponse

from cbt import page_shell
from cbt.courses import cache as content_cache
from cbt.courses.models import Quiz
from cbt.db import read_target, reading, relaxed_commits, session, utcnow, write_transaction
from cbt.driver_read import DriverRead, attach, columns
from cbt.quiz import grading, review, services
from cbt.quiz.models import Attempt
from cbt.security import roles_required

bp = Blueprint("quiz", __name__, url_prefix="/quiz", template_folder="templates")

LEARNERS = ("trainee", "trainer", "admin")


def _quiz(quiz_id: int) -> Quiz:
    """The quiz, if it belongs to the course version this trainee studies.

    A trainee keeps the version they started on; a newcomer gets the newest published one. A link to
    another version's quiz (an old bookmark, a guessed id) is not found, so it can never move a trainee
    onto that version.
    """
    return _quiz_and_enrollment(quiz_id)[0]


def _quiz_and_enrollment(quiz_id: int) -> tuple[Quiz, Any]:
    """:func:`_quiz`, with the trainee's enrolment in its course (None before their first visit)."""
    from cbt.learn.models import Enrollment
    from cbt.learn.services import latest_version_id

    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        abort(404)
    course_id = quiz_version(quiz).course_id
    enrollment = session.scalar(
        select(Enrollment).where(Enrollment.user_id == current_user.id, Enrollment.course_id == course_id)
    )
    studied = enrollment.course_version_id if enrollment else latest_version_id(course_id)
    if studied != quiz.course_version_id:
        abort(404)
    return quiz, enrollment


#: Every attempt page and every autosave runs this, through the driver; the quiz comes along, each page needs
#: its settings.
_OWN_ATTEMPT = DriverRead(
    select(*columns(Attempt, "attempt_"), *columns(Quiz, "quiz_"))
    .join(Quiz, Quiz.id == Attempt.quiz_id)
    .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user_id"))
)


def _own_attempt(attempt_id: int) -> Attempt:
    """The attempt, if it belongs to the signed-in user; another person's attempt is simply not found."""
    row = _OWN_ATTEMPT.first(read_target(), {"attempt_id": attempt_id, "user_id": current_user.id})
    if row is None:
        abort(404)
    values = row._asdict()
    attempt = attach(session, Attempt, values, "attempt_")
    set_committed_value(attempt, "quiz", attach(session, Quiz, values, "quiz_"))  # as joinedload would
    return attempt


@bp.get("/<int:quiz_id>")
@roles_required(*LEARNERS)
def overview(quiz_id: int) -> str:
    from cbt.learn.services import visit_needs_recording

    quiz, enrollment = _quiz_and_enrollment(quiz_id)
    # A reload (a whole class opening the exam page at once) writes nothing unless there is something to record.
    overdue = services.has_overdue_attempt(current_user.id)
    if overdue or visit_needs_recording(enrollment, "quiz", quiz.id):
        with write_transaction(durable=False):  # a location, and overdue attempts finished from saved answers
            if overdue:
                services.finish_expired(current_user.id)
            _remember_location(quiz, enrollment)
    attempts = services.attempts_of(current_user.id, quiz.id)
    running = next((a for a in attempts if a.status == "in_progress"), None)
    finished = [a for a in attempts if a.status != "in_progress"]
    refusal = None if running else services.start_refusal(quiz, attempts, utcnow())
    overall = grading.aggregate(quiz.grading_method, [a.percent or 0 for a in finished])
    question_count = sum(int(r["count"]) for r in quiz.draw) if quiz.draw else None
    context = {"quiz": quiz, "attempts": finished, "running": running, "refusal": refusal, "overall": overall,
               "question_count": question_count, "version": quiz_version(quiz)}
    if not attempts and refusal is None:
        # Before a trainee's first attempt the page is the same for everyone of the role in the language (a
        # published quiz never changes): rendered once, the name and token filled in. This is the page a
        # whole class opens at the same moment when an exam begins.
        return page_shell.render("quiz/overview.html", ("first attempt",), {}, **context)
    return render_template("quiz/overview.html", **context)


def quiz_version(quiz: Quiz) -> Any:
    """The outline of the quiz's course version (id, course id and slug, title), from the immutable-version
    cache: a version's course never changes, so this needs no query."""
    outline = content_cache.outline(quiz.course_version_id)
    if outline is None:
        abort(404)
    return outline


def _remember_location(quiz: Quiz, enrollment: Any) -> None:
    """Record the visit (inside a write transaction); ``enrollment`` as read before it, or None."""
    from cbt.learn import services as learn_services

    if enrollment is None:
        enrollment = learn_services.ensure_enrollment(current_user.id, quiz_version(quiz))
    else:
        session.refresh(enrollment)  # as it is now, under the write lock: another tab may have moved on
    learn_services.record_visit(current_user.id, enrollment, "quiz", quiz.id)


@bp.post("/<int:quiz_id>/start")
@roles_required(*LEARNERS)
def start(quiz_id: int) -> WerkzeugResponse:
    # An attempt with no answer yet: a power cut that loses it loses nothing; the first answer saved makes it
    # durable with itself. A class starting an exam together does not queue for the disk (see relaxed_commits).
    with relaxed_commits():
        quiz = _quiz(quiz_id)
        try:
            attempt = services.start_attempt(current_user, quiz, request.form.get("access_code"))
        except services.QuizRefusal as refusal:
            session.rollback()
            flash(str(refusal), "error")
            return redirect(url_for("quiz.overview", quiz_id=quiz.id))
        session.commit()
    return redirect(url_for("quiz.question", attempt_id=attempt.id, page=1))


def _page_context(attempt: Attempt, page: int) -> dict[str, Any]:
    questions = services.questions_of(attempt)
    if not 1 <= page <= len(questions):
        abort(404)
    question = questions[page - 1]
    responses = services.responses_of(attempt)
    response = responses.get(question.id)
    layout = attempt.layout[str(question.id)]
    qtype = grading.TYPES[question.type]
    rendered = question.rendered["spec"]
    if question.type == "scenario":
        path = (response.answer if response else {}).get("path", [])
        view = grading.scenario_view(question.spec, rendered, layout, path)
    else:
        view = qtype.trainee_view(question.spec, rendered, layout)
    checked = response is not None and response.score is not None and attempt.quiz.kind == "practice"
    return {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "question": question,
        "page": page,
        "total": len(questions),
        "view": view,
        "filled": review.filled(question, layout, response.answer if response else None),
        "answered": {q.id for q in questions if q.id in responses},
        "questions": questions,
        "checked": checked,
        "feedback": review.question_review(question, response, layout) if checked else None,
        "remaining": int((attempt.deadline_at - utcnow()).total_seconds()) if attempt.deadline_at else None,
        "no_idle_refresh": True,
    }


@bp.get("/attempts/<int:attempt_id>/<int:page>")
@roles_required(*LEARNERS)
def question(attempt_id: int, page: int) -> str | WerkzeugResponse:
    attempt = _own_attempt(attempt_id)
    if attempt.status == "in_progress" and services.is_late(attempt, utcnow()):
        with write_transaction():
            services.finish_expired(current_user.id)
    if attempt.status != "in_progress":
        return redirect(url_for("quiz.result", attempt_id=attempt.id))
    return render_template("quiz/question.html", **_page_context(attempt, page))


@bp.post("/attempts/<int:attempt_id>/<int:page>")
@roles_required(*LEARNERS)
def save(attempt_id: int, page: int) -> str | WerkzeugResponse:
    """Save the answer on this page, then go where the pressed button says."""
    attempt = _own_attempt(attempt_id)
    questions = services.questions_of(attempt)
    if not 1 <= page <= len(questions):
        abort(404)
    question = questions[page - 1]
    action = request.form.get("action", "next")
    try:
        base_seq = int(request.form.get("seq", "-1"))
    except ValueError:
        base_seq = -1
    try:
        result = services.save_answer(attempt, question, request.form.to_dict(flat=False), base_seq)
    except grading.AnswerError as error:
        session.rollback()
        flash(_(error.message, **error.params), "error")
        return redirect(url_for("quiz.question", attempt_id=attempt.id, page=page))
    if result.status == "saved" and action == "check":
        services.check_answer(attempt, question)
    session.commit()
    if result.status == "late":
        flash(_("The time for this attempt is over. Answers saved before the end were kept."), "warning")
        return redirect(url_for("quiz.finish", attempt_id=attempt.id))
    if result.status == "closed":
        return redirect(url_for("quiz.result", attempt_id=attempt.id))
    if result.status == "stale":
        flash(
            _(
                "This answer was changed in another window or tab after this page was opened. "
                "The newer answer is kept; check it and change it here if needed."
            ),
            "warning",
        )
        return redirect(url_for("quiz.question", attempt_id=attempt.id, page=page))
    if result.status == "locked" and _carries_answer(request.form):
        # A checked answer is shown with disabled inputs, which send nothing: only an attempt to change it
        # (another tab, a hand-made request) deserves the message, not every "Next" from the checked page.
        flash(_("You have already checked this answer; it can no longer be changed."), "info")
    if action == "check" or (question.type == "scenario" and action == "step"):
        return redirect(url_for("quiz.question", attempt_id=attempt.id, page=page))
    if action == "previous":
        return redirect(url_for("quiz.question", attempt_id=attempt.id, page=max(1, page - 1)))
    if action.startswith("goto-") and action[5:].isdigit():
        return redirect(url_for("quiz.question", attempt_id=attempt.id, page=int(action[5:])))
    if action == "finish" or page >= len(questions):
        return redirect(url_for("quiz.finish", attempt_id=attempt.id))
    return redirect(url_for("quiz.question", attempt_id=attempt.id, page=page + 1))


def _carries_answer(form: Any) -> bool:
    return any(
        value.strip() for key, value in form.items(multi=True) if key not in ("csrf_token", "seq", "question", "action")
    )


@bp.post("/attempts/<int:attempt_id>/autosave")
@roles_required(*LEARNERS)
def autosave(attempt_id: int) -> tuple[WerkzeugResponse, int]:
    """The script's save-as-you-go: JSON status and the new sequence number (CSRF token in the form)."""
    # Read without the write lock: only the two writes of save_answer hold it (SQLite has one writer).
    with reading():
        attempt = _own_attempt(attempt_id)
        question_id = request.form.get("question", type=int)
        if question_id not in attempt.question_ids:
            return jsonify(status="error"), 400
        question_row = content_cache.question(question_id)
    try:
        result = services.save_answer(
            attempt, question_row, request.form.to_dict(flat=False), request.form.get("seq", -1, type=int)
        )
    except grading.AnswerError as error:
        session.rollback()
        return jsonify(status="invalid", message=_(error.message, **error.params)), 200
    session.commit()
    return jsonify(status=result.status, seq=result.seq), 200


@bp.get("/attempts/<int:attempt_id>/finish")
@roles_required(*LEARNERS)
def finish(attempt_id: int) -> str | WerkzeugResponse:
    attempt = _own_attempt(attempt_id)
    if attempt.status != "in_progress":
        return redirect(url_for("quiz.result", attempt_id=attempt.id))
    questions = services.questions_of(attempt)
    responses = services.responses_of(attempt)
    return render_template(
        "quiz/finish.html",
        attempt=attempt,
        quiz=attempt.quiz,
        questions=questions,
        responses=responses,
        remaining=int((attempt.deadline_at - utcnow()).total_seconds()) if attempt.deadline_at else None,
        no_idle_refresh=True,
    )


@bp.post("/attempts/<int:attempt_id>/submit")
@roles_required(*LEARNERS)
def submit(attempt_id: int) -> WerkzeugResponse:
    attempt = _own_attempt(attempt_id)
    services.submit(attempt)
    session.commit()
    return redirect(url_for("quiz.result", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/result")
@roles_required(*LEARNERS)
def result(attempt_id: int) -> str | WerkzeugResponse:
    attempt = _own_attempt(attempt_id)
    if attempt.status == "in_progress":
        with write_transaction():
            services.finish_expired(current_user.id)
        if attempt.status == "in_progress":
            return redirect(url_for("quiz.finish", attempt_id=attempt.id))
    visible = services.review_visible(attempt)
    items = []
    if visible:
        responses = services.responses_of(attempt)
        for q in services.questions_of(attempt):
            items.append(review.question_review(q, responses.get(q.id), attempt.layout[str(q.id)]))
    seconds = int(((attempt.submitted_at or utcnow()) - attempt.started_at).total_seconds())
    return render_template(
        "quiz/result.html",
        attempt=attempt,
        quiz=attempt.quiz,
        items=items,
        visible=visible,
        minutes_taken=max(1, round(seconds / 60)),
        version=quiz_version(attempt.quiz),
    )
