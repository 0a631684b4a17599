"""Trainee pages: my learning, course, lesson, continue, transcript."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select
from werkzeug.wrappers import Response

from cbt import page_shell
from cbt.courses import cache
from cbt.courses.models import CourseVersion, Lesson, Quiz
from cbt.db import read_target, session, write_transaction
from cbt.driver_read import DriverRead
from cbt.i18n import current_locale, format_day, localized_with_locale
from cbt.learn import completion, services
from cbt.learn.models import Enrollment, LessonProgress
from cbt.security import roles_required

bp = Blueprint("learn", __name__, url_prefix="/learn", template_folder="templates")

LEARNERS = ("trainee", "trainer", "admin")


@bp.get("/")
@roles_required(*LEARNERS)
def my_learning() -> str:
    versions = services.published_versions()
    enrollments = services.enrollments_for(current_user.id)
    # A trainee keeps the version they started on.
    enrolled_versions = {e.course_version_id for e in enrollments.values()}
    missing = enrolled_versions - {v.id for v in versions}
    if missing:
        extra = session.scalars(select(CourseVersion).where(CourseVersion.id.in_(missing))).all()
        replaced = {v.course_id for v in extra}
        versions = [v for v in versions if v.course_id not in replaced] + list(extra)
        versions.sort(key=lambda v: v.course.slug)
    counts = services.lesson_counts([v.id for v in versions], current_user.id)
    completions = services.completions_for(current_user.id)
    quizzes = session.execute(
        select(Quiz.id, Quiz.course_version_id, Quiz.module_id).where(
            Quiz.course_version_id.in_([v.id for v in versions])
        )
    ).all()
    standings = services.quiz_standings(current_user.id, [q for q, _v, _m in quizzes])
    cards, done = [], []
    for version in versions:
        total, completed = counts.get(version.id, (0, 0))
        version_quizzes = [(q, m) for q, v, m in quizzes if v == version.id]

        def result(quiz_id: int) -> completion.QuizResult:
            s = standings.get(quiz_id)
            return completion.QuizResult(s.attempted, s.passed, s.best_percent) if s else completion.QuizResult()

        exam = [q for q, m in version_quizzes if m is None]
        progress = completion.Progress(
            total,
            completed,
            {q: result(q) for q, m in version_quizzes if m is not None},
            result(exam[0]) if exam else None,
        )
        card = {
            "version": version,
            "enrollment": enrollments.get(version.course_id),
            "percent": completion.percent_done(version.completion, progress),
            "completion": completions.get(version.course_id),
            "lessons": (completed, total),
        }
        (done if card["completion"] else cards).append(card)
    cards.sort(
        key=lambda c: (
            c["enrollment"] is None,
            -(c["enrollment"].last_activity_at.timestamp() if c["enrollment"] else 0),
        )
    )
    assigned, cards = _assigned_first(cards)
    return render_template("learn/my_learning.html", cards=cards, done=done, assigned=assigned)


def _assigned_first(cards: list[dict]) -> tuple[list[dict] | None, list[dict]]:
    """Split off the courses assigned through the trainee's cohorts (one query), soonest due first.

    Returns ``(None, cards)`` when nothing is assigned: the page then looks as it always did. Courses stay
    open to everybody; an assignment only orders the page and adds a due date.
    """
    from cbt.cohorts.services import assignments_for, is_overdue, local_today

    due_dates = assignments_for(current_user.id)
    if not due_dates:
        return None, cards
    today = local_today()
    assigned = []
    for card in cards:
        course_id = card["version"].course_id
        if course_id in due_dates:
            card["due"] = due_dates[course_id]
            card["overdue"] = is_overdue(card["due"], today, completed=False)
            assigned.append(card)
    assigned.sort(key=lambda c: (c["due"] is None, c["due"] or date.max, c["version"].course.slug))
    return assigned, [c for c in cards if "due" not in c]


def _load(slug: str) -> tuple[CourseVersion, object]:
    found = services.version_for(current_user.id, slug)
    if found is None:
        abort(404)
    return found


@bp.get("/courses/<slug>")
@roles_required(*LEARNERS)
def course(slug: str) -> str:
    version, enrollment = _load(slug)
    outline = services.outline(version.id)
    titles = {lid: localized_with_locale(texts)[0] for lid, texts in cache.outline(version.id).lesson_titles.items()}
    progress_rows = {
        p.lesson_id: p
        for p in session.scalars(
            select(LessonProgress).where(
                LessonProgress.user_id == current_user.id, LessonProgress.course_version_id == version.id
            )
        )
    }
    quizzes = session.scalars(select(Quiz).where(Quiz.course_version_id == version.id)).all()
    standings = services.quiz_standings(current_user.id, [q.id for q in quizzes])
    module_quiz = {q.module_id: q for q in quizzes if q.module_id is not None}
    exam = next((q for q in quizzes if q.module_id is None), None)
    rule = version.completion
    modules = []
    for module, lessons in outline:
        quiz = module_quiz.get(module.id)
        standing = standings.get(quiz.id) if quiz else None
        quiz_result = (
            completion.QuizResult(standing.attempted, standing.passed, standing.best_percent)
            if standing
            else (completion.QuizResult() if quiz else None)
        )
        completed = sum(1 for lesson in lessons if lesson.id in progress_rows and progress_rows[lesson.id].completed_at)
        viewed = sum(1 for lesson in lessons if lesson.id in progress_rows)
        modules.append(
            {
                "module": module,
                "lessons": lessons,
                "quiz": quiz,
                "standing": standing,
                "completed": completed,
                "state": completion.module_state(
                    len(lessons), completed, viewed, quiz_result, rule.get("quizzes", "passed")
                ),
            }
        )
    progress, _ = services.progress_for(current_user.id, version)
    return render_template(
        "learn/course.html",
        version=version,
        enrollment=enrollment,
        modules=modules,
        titles=titles,
        progress_rows=progress_rows,
        exam=exam,
        exam_standing=standings.get(exam.id) if exam else None,
        percent=completion.percent_done(rule, progress),
        completion_record=services.completions_for(current_user.id).get(version.course_id),
    )


@bp.get("/courses/<slug>/continue")
@roles_required(*LEARNERS)
def continue_course(slug: str) -> Response:
    """Open exactly the lesson or quiz the trainee left, else the first lesson."""
    version, enrollment = _load(slug)
    location = enrollment.last_location if enrollment else None
    if location and location.get("kind") == "quiz":
        return redirect(url_for("quiz.overview", quiz_id=location["id"]))
    if location and location.get("kind") == "lesson":
        return redirect(url_for("learn.lesson", slug=slug, lesson_id=location["id"]))
    first = next((item_id for kind, item_id, _m in cache.outline(version.id).sequence if kind == "lesson"), None)
    if first is None:
        return redirect(url_for("learn.course", slug=slug))
    return redirect(url_for("learn.lesson", slug=slug, lesson_id=first))


def _item_url(slug: str, item: tuple[str, int, int] | None) -> str | None:
    if item is None:
        return None
    kind, item_id, _module = item
    if kind == "lesson":
        return url_for("learn.lesson", slug=slug, lesson_id=item_id)
    return url_for("quiz.overview", quiz_id=item_id)


#: The lesson page's one statement (built once, run through the driver): the enrolment and when this lesson
#: was done, if it was (no enrolment: nothing is done yet).
_ENROLLMENT_AND_DONE = DriverRead(select(
    Enrollment.course_version_id,
    Enrollment.last_location,
    Enrollment.last_activity_at,
    select(LessonProgress.completed_at)
    .where(LessonProgress.user_id == bindparam("user_id"), LessonProgress.lesson_id == bindparam("lesson_id"))
    .scalar_subquery()
    .label("done"),
).where(Enrollment.user_id == bindparam("user_id"), Enrollment.course_id == bindparam("course_id")))


@bp.get("/courses/<slug>/lessons/<int:lesson_id>")
@roles_required(*LEARNERS)
def lesson(slug: str, lesson_id: int) -> str:
    """The lesson page: content from the immutable-version cache, progress in two small queries.

    A reload of the lesson the trainee is already on writes nothing; moving to a lesson records the visit.
    """
    course_id = cache.course_id(slug)
    if course_id is None:
        abort(404)
    user_id = current_user.id
    enrollment = _ENROLLMENT_AND_DONE.first(
        read_target(), {"user_id": user_id, "course_id": course_id, "lesson_id": lesson_id})
    done = enrollment.done if enrollment else None
    version_id = enrollment.course_version_id if enrollment else services.latest_version_id(course_id)
    content = cache.lesson_content(lesson_id)
    if version_id is None or content is None or content.version_id != version_id:
        abort(404)
    outline = cache.outline(version_id)
    if services.visit_needs_recording(enrollment, "lesson", lesson_id):
        with write_transaction(durable=False):  # where the trainee is, and their time: see relaxed_commits
            enrollment = services.ensure_enrollment(user_id, outline)
            services.record_visit(user_id, enrollment, "lesson", lesson_id, content)

    def page() -> dict[str, object]:
        _title, used = localized_with_locale({loc: t[0] for loc, t in content.texts.items()})
        title, minutes, html = content.texts[used]
        sequence = outline.sequence
        index = sequence.index(("lesson", lesson_id, content.module_id))
        previous_item = sequence[index - 1] if index > 0 else None
        next_item = sequence[index + 1] if index + 1 < len(sequence) else None
        module = outline.module(content.module_id)
        return {
            "outline": outline,
            "module": module,
            "lesson_id": lesson_id,
            "course_slug": slug,
            "text": {"locale": used, "title": title, "minutes": minutes, "html": html},
            "fallback_locale": used if used != current_locale() else None,
            "previous_url": _item_url(slug, previous_item),
            "next_url": _item_url(slug, next_item),
            "next_is_quiz": bool(next_item and next_item[0] == "quiz"),
            "position": (module.lesson_ids.index(lesson_id) + 1, len(module.lesson_ids)),
        }

    # Everything but the name, the token and the day it was finished is the same for every reader of this
    # lesson in this language: rendered once, filled in per request (``page`` runs only to render it).
    return page_shell.render(
        "learn/lesson.html", (done is not None,), {"done_on": format_day(done)}, page, done=done is not None)


@bp.post("/courses/<slug>/lessons/<int:lesson_id>/complete")
@roles_required(*LEARNERS)
def complete_lesson(slug: str, lesson_id: int) -> Response:
    version, _enrollment = _load(slug)
    lesson_row = session.get(Lesson, lesson_id)
    if lesson_row is None or lesson_row.course_version_id != version.id:
        abort(404)
    enrollment = services.ensure_enrollment(current_user.id, version)
    finished = services.complete_lesson(current_user.id, enrollment, lesson_row)
    session.commit()
    if finished:
        flash(_("Congratulations! You have completed this course."), "success")
        return redirect(url_for("learn.course", slug=slug))
    flash(_("Lesson marked as completed."), "success")
    sequence = cache.outline(version.id).sequence
    index = sequence.index(("lesson", lesson_id, lesson_row.module_id))
    next_url = _item_url(slug, sequence[index + 1] if index + 1 < len(sequence) else None)
    return redirect(next_url or url_for("learn.course", slug=slug))


@bp.get("/transcript")
@roles_required(*LEARNERS)
def transcript() -> str:
    from cbt.learn.transcript import transcript_rows

    return render_template(
        "learn/transcript.html",
        rows=transcript_rows(current_user.id),
        person=current_user,
        generated=None,
        fallback_order=current_app.config["CONTENT_FALLBACK"],
    )
