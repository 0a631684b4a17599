"""Trainer pages: cohorts, their members and assigned courses, progress, attempts and question statistics.

Every view loads the cohort through :func:`_cohort`, which answers 404 for a cohort the signed-in trainer
does not run, and every member-specific view checks membership: object-level access, not just the role.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from cbt.auth.models import User
from cbt.cohorts import services, stats
from cbt.cohorts.forms import ActionForm, AssignCourseForm, CohortForm, PasteMembersForm
from cbt.cohorts.models import Cohort
from cbt.courses.models import CourseVersion, Quiz
from cbt.db import session
from cbt.i18n import current_locale, localized
from cbt.org.models import Agency, Site
from cbt.quiz import review
from cbt.quiz import services as quiz_services
from cbt.quiz.models import Attempt
from cbt.security import roles_required
from cbt.web import add_nav

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts", template_folder="templates")

STAFF = ("trainer", "admin")


@bp.record_once
def _menu(state: Any) -> None:
    add_nav(state.app, "cohorts.list_cohorts", _l("Cohorts"), STAFF)


today = services.local_today


def _cohort(cohort_id: int) -> Cohort:
    cohort = services.cohort_for(current_user, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def _member(cohort: Cohort, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not services.is_member(cohort, user_id):
        abort(404)
    return user


# --- cohorts -------------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*STAFF)
def list_cohorts() -> str:
    archived = request.args.get("archived") == "1"
    cohorts = services.cohorts_of(current_user, archived=archived)
    members, courses = services.counts_for([c.id for c in cohorts])
    return render_template("cohorts/list.html", cohorts=cohorts, members=members, courses=courses,
                           archived=archived)


def _sorted_by_name(rows: list[Any]) -> list[Any]:
    locale = current_locale()
    return sorted(rows, key=lambda r: r.name(locale).casefold())


def _fill_choices(form: CohortForm) -> None:
    locale = current_locale()
    form.site.choices = [(0, _("No particular site"))] + [
        (s.id, s.name(locale)) for s in _sorted_by_name(list(session.scalars(select(Site))))]
    if current_user.role == "admin":
        trainers = session.scalars(select(User).where(User.role.in_(("trainer", "admin")), User.is_active.is_(True))
                                   .order_by(User.full_name, User.username)).all()
        form.trainer.choices = [(u.id, f"{u.full_name} ({u.username})") for u in trainers]
    else:
        del form.trainer


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def create_cohort() -> str | WerkzeugResponse:
    form = CohortForm()
    del form.is_archived
    _fill_choices(form)
    if request.method == "GET" and "trainer" in form:
        form.trainer.data = current_user.id
    if form.validate_on_submit():
        trainer_id = form.trainer.data if "trainer" in form else current_user.id
        cohort = services.create_cohort(
            current_user, name=form.name.data, trainer_id=trainer_id, site_id=form.site.data or None,
            start_date=form.start_date.data, end_date=form.end_date.data)
        session.commit()
        flash(_("The cohort %(name)s was created. Now add trainees and assign courses.", name=cohort.name),
              "success")
        return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=None)


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_cohort(cohort_id: int) -> str | WerkzeugResponse:
    cohort = _cohort(cohort_id)
    form = CohortForm(obj=cohort)
    _fill_choices(form)
    if request.method == "GET":
        form.site.data = cohort.site_id or 0
        if "trainer" in form:
            form.trainer.data = cohort.trainer_id
    if form.validate_on_submit():
        fields: dict[str, Any] = {
            "name": form.name.data, "site_id": form.site.data or None, "start_date": form.start_date.data,
            "end_date": form.end_date.data, "is_archived": form.is_archived.data,
        }
        if "trainer" in form:
            fields["trainer_id"] = form.trainer.data
        services.update_cohort(current_user, cohort, **fields)
        session.commit()
        flash(_("The cohort was saved."), "success")
        return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=cohort)


def _assign_form(formdata: Any = None) -> tuple[AssignCourseForm, list[Any]]:
    versions = services.assignable_courses()
    form = AssignCourseForm(formdata=formdata, today=today(), course_ids={v.course_id for v in versions})
    form.course.choices = [(0, _("Choose a course"))] + [(v.course_id, localized(v.title)) for v in versions]
    return form, versions


def _show(cohort: Cohort, assign_form: AssignCourseForm | None = None) -> str:
    if assign_form is None:
        assign_form, _versions = _assign_form()
    return render_template(
        "cohorts/show.html", cohort=cohort, members=services.members_of(cohort),
        courses=services.assigned_courses(cohort), assign_form=assign_form, action_form=ActionForm(),
        today=today(),
    )


@bp.get("/<int:cohort_id>")
@roles_required(*STAFF)
def show_cohort(cohort_id: int) -> str:
    return _show(_cohort(cohort_id))


# --- members -------------------------------------------------------------------------------------------

def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _add_page(cohort: Cohort, paste_form: PasteMembersForm | None = None,
              problems: services.Resolution | None = None) -> str:
    site_id, agency_id = _int_arg("site"), _int_arg("agency")
    text = request.args.get("q", "")[:100]
    found, truncated = services.candidates(cohort, site_id=site_id, agency_id=agency_id, text=text)
    return render_template(
        "cohorts/add_members.html", cohort=cohort, found=found, truncated=truncated,
        sites=_sorted_by_name(list(session.scalars(select(Site)))),
        agencies=_sorted_by_name(list(session.scalars(select(Agency)))),
        site_id=site_id, agency_id=agency_id, text=text, limit=services.MAX_CANDIDATES,
        paste_form=paste_form or PasteMembersForm(), action_form=ActionForm(), problems=problems,
    )


@bp.get("/<int:cohort_id>/members/add")
@roles_required(*STAFF)
def add_members_page(cohort_id: int) -> str:
    return _add_page(_cohort(cohort_id))


@bp.post("/<int:cohort_id>/members/add")
@roles_required(*STAFF)
def add_picked(cohort_id: int) -> WerkzeugResponse:
    cohort = _cohort(cohort_id)
    picked = [int(v) for v in request.form.getlist("user") if v.isdigit()]
    ids = services.trainee_ids_among(picked)
    if not ids:
        flash(_("Select at least one trainee to add."), "error")
        return redirect(url_for("cohorts.add_members_page", cohort_id=cohort.id))
    added = services.add_members(current_user, cohort, ids)
    session.commit()
    flash(ngettext("%(num)d trainee was added.", "%(num)d trainees were added.", added), "success")
    return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))


@bp.post("/<int:cohort_id>/members/paste")
@roles_required(*STAFF)
def paste_members(cohort_id: int) -> str | WerkzeugResponse:
    """Add the trainees named in a pasted list; unknown entries are listed and left in the box to fix."""
    cohort = _cohort(cohort_id)
    form = PasteMembersForm()
    if not form.validate_on_submit():
        return _add_page(cohort, paste_form=form)
    tokens = services.parse_identifiers(form.identifiers.data)
    if len(tokens) > services.MAX_PASTED:
        form.identifiers.errors = [ngettext("At most %(num)d entry can be added at once.",
                                            "At most %(num)d entries can be added at once.", services.MAX_PASTED)]
        return _add_page(cohort, paste_form=form)
    if not tokens:
        form.identifiers.errors = [_("Paste at least one username or service number.")]
        return _add_page(cohort, paste_form=form)
    result = services.resolve_identifiers(tokens)
    added = services.add_members(current_user, cohort, [u.id for u in result.users])
    session.commit()
    already = len(result.users) - added
    if added:
        flash(ngettext("%(num)d trainee was added.", "%(num)d trainees were added.", added), "success")
    if already:
        flash(ngettext("%(num)d trainee was already in the cohort.", "%(num)d trainees were already in the cohort.",
                       already), "info")
    leftovers = result.unknown + result.ambiguous + result.not_trainees
    if not leftovers:
        return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))
    retry = PasteMembersForm(formdata=None)
    retry.identifiers.data = "\n".join(leftovers)
    return _add_page(cohort, paste_form=retry, problems=result)


@bp.post("/<int:cohort_id>/members/<int:user_id>/remove")
@roles_required(*STAFF)
def remove_member(cohort_id: int, user_id: int) -> WerkzeugResponse:
    cohort = _cohort(cohort_id)
    user = _member(cohort, user_id)
    services.remove_member(current_user, cohort, user.id)
    session.commit()
    flash(_("%(name)s was removed from the cohort. Their own progress is kept.", name=user.full_name), "success")
    return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))


# --- courses -------------------------------------------------------------------------------------------

@bp.post("/<int:cohort_id>/courses")
@roles_required(*STAFF)
def assign_course(cohort_id: int) -> str | WerkzeugResponse:
    cohort = _cohort(cohort_id)
    form, versions = _assign_form(request.form)
    if not form.validate_on_submit():
        return _show(cohort, form)
    created = services.assign_course(current_user, cohort, form.course.data, form.due_date.data)
    session.commit()
    title = next(localized(v.title) for v in versions if v.course_id == form.course.data)
    if created:
        flash(_("%(course)s was assigned to the cohort.", course=title), "success")
    else:
        flash(_("The due date of %(course)s was changed.", course=title), "success")
    return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))


@bp.post("/<int:cohort_id>/courses/<int:course_id>/remove")
@roles_required(*STAFF)
def unassign_course(cohort_id: int, course_id: int) -> WerkzeugResponse:
    cohort = _cohort(cohort_id)
    if not services.unassign_course(current_user, cohort, course_id):
        abort(404)
    session.commit()
    flash(_("The course is no longer assigned to this cohort. Progress already made is kept."), "success")
    return redirect(url_for("cohorts.show_cohort", cohort_id=cohort.id))


# --- progress and attempts -----------------------------------------------------------------------------

@bp.get("/<int:cohort_id>/progress")
@roles_required(*STAFF)
def progress(cohort_id: int) -> str:
    cohort = _cohort(cohort_id)
    grid = services.progress_grid(cohort, today())
    return render_template("cohorts/progress.html", cohort=cohort, grid=grid)


@bp.get("/<int:cohort_id>/members/<int:user_id>")
@roles_required(*STAFF)
def member_attempts(cohort_id: int, user_id: int) -> str:
    cohort = _cohort(cohort_id)
    member = _member(cohort, user_id)
    return render_template("cohorts/member.html", cohort=cohort, member=member,
                           attempts=services.attempts_of_member(member.id))


@bp.get("/<int:cohort_id>/attempts/<int:attempt_id>")
@roles_required(*STAFF)
def attempt_review(cohort_id: int, attempt_id: int) -> str:
    """A member's attempt with every answer, the key and the feedback (whatever the quiz's review policy:
    the trainer needs it to help the trainee)."""
    cohort = _cohort(cohort_id)
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        abort(404)
    member = _member(cohort, attempt.user_id)
    items = []
    if attempt.status != "in_progress":
        responses = quiz_services.responses_of(attempt)
        items = [review.question_review(q, responses.get(q.id), attempt.layout[str(q.id)])
                 for q in quiz_services.questions_of(attempt)]
    version = session.get(CourseVersion, attempt.course_version_id)
    return render_template("cohorts/attempt.html", cohort=cohort, member=member, attempt=attempt,
                           quiz=attempt.quiz, version=version, items=items)


# --- question statistics -------------------------------------------------------------------------------

def _stats_filters() -> tuple[Cohort | None, bool]:
    cohort_id = _int_arg("cohort")
    cohort = _cohort(cohort_id) if cohort_id else None
    return cohort, request.args.get("first") == "1"


@bp.get("/statistics")
@roles_required(*STAFF)
def statistics_index() -> str:
    cohort, first_only = _stats_filters()
    entries = services.quizzes_with_attempts(services.statistics_scope(current_user, cohort), first_only)
    return render_template("cohorts/stats_index.html", entries=entries, cohort=cohort, first_only=first_only,
                           cohorts=services.cohorts_of(current_user, archived=True))


def _quiz(quiz_id: int) -> Quiz:
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        abort(404)
    return quiz


FLAG_LABELS = {
    stats.TOO_HARD: _l("Very hard"),
    stats.TOO_EASY: _l("Very easy"),
    stats.LOW_DISCRIMINATION: _l("Does not discriminate"),
}


@bp.get("/statistics/quizzes/<int:quiz_id>")
@roles_required(*STAFF)
def quiz_statistics(quiz_id: int) -> str:
    quiz = _quiz(quiz_id)
    cohort, first_only = _stats_filters()
    result = services.quiz_statistics(quiz, services.statistics_scope(current_user, cohort), first_only)
    return render_template(
        "cohorts/stats.html", quiz=quiz, version=session.get(CourseVersion, quiz.course_version_id),
        result=result, cohort=cohort, first_only=first_only, flag_labels=FLAG_LABELS,
        cohorts=services.cohorts_of(current_user, archived=True), thresholds={
            "facility_low": stats.FACILITY_LOW, "facility_high": stats.FACILITY_HIGH,
            "discrimination_low": stats.DISCRIMINATION_LOW},
        group_share=format_percent(stats.GROUP_SHARE), fmt_index=lambda value: format_decimal(value, "0.00"),
        option_texts=_option_html,
    )


def _option_html(question: Any) -> dict[str, str]:
    """Option id -> the option's sanitized HTML (rendered at import) in the reader's language."""
    texts = {str(o["id"]): localized(o.get("text")) for o in (question.rendered.get("spec") or {}).get("options") or []}
    if question.type == "true_false":
        texts = {"true": str(escape(_("True"))), "false": str(escape(_("False")))}
    return texts


@bp.get("/statistics/quizzes/<int:quiz_id>/export.csv")
@roles_required(*STAFF)
def quiz_statistics_csv(quiz_id: int) -> Response:
    quiz = _quiz(quiz_id)
    cohort, first_only = _stats_filters()
    result = services.quiz_statistics(quiz, services.statistics_scope(current_user, cohort), first_only)
    header = [_("Question"), _("Type"), _("Prompt"), _("Attempts"), _("Answered"), _("Facility index"),
              _("Discrimination index"), _("Flags"), _("No answer"), _("Options")]
    rows: list[list[Any]] = [header]
    for question, item in result.rows:
        texts = {str(o["id"]): localized(o.get("text")) for o in (question.spec or {}).get("options") or []}
        if question.type == "true_false":
            texts = {"true": _("True"), "false": _("False")}
        options = " | ".join(
            "{mark}{text}: {share:.0%}".format(mark="✓ " if o.correct else "", text=texts.get(o.option, o.option),
                                               share=o.share) for o in item.options)
        rows.append([
            question.slug, question.type, localized(question.prompt).strip(), item.attempts, item.answered,
            _round(item.facility), _round(item.discrimination),
            "; ".join(str(FLAG_LABELS[f]) for f in item.flags), _round(item.unanswered_share), options,
        ])
    name = f"question-statistics-quiz-{quiz.id}" + (f"-cohort-{cohort.id}" if cohort else "") + ".csv"
    return Response(stats.to_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
