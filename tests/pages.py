"""A small trilingual world and the URL of every GET page, for sweeps over all pages (i18n, a11y, browser).

``page_urls(app, world, role)`` must know every GET endpoint a role may open: a new route that is missing
here fails the sweep, so the sweep cannot silently skip new pages.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cbt.security import ACCESS_ATTR

TINY_COURSE = {
    "course.yaml": """
        id: tiny-course
        version: 1
        source_locale: en
        title: {en: Border basics, ru: Основы границы, kk: Шекара негіздері}
        description: {en: A short course., ru: Короткий курс., kk: Қысқа курс.}
        estimated_minutes: 20
        completion: {lessons: all, quizzes: passed, exam: none}
        modules: [01-intro]
    """,
    "01-intro/module.yaml": """
        title: {en: Introduction, ru: Введение, kk: Кіріспе}
        lessons: [01-welcome, 02-only-russian]
        questions: questions.yaml
        quiz: quiz.yaml
    """,
    "01-intro/01-welcome.en.md": "---\ntitle: Welcome\nminutes: 5\n---\nThe border is a line.\n",
    "01-intro/01-welcome.ru.md": "---\ntitle: Добро пожаловать\nminutes: 5\n---\nГраница — это линия.\n",
    "01-intro/01-welcome.kk.md": "---\ntitle: Қош келдіңіз\nminutes: 5\n---\nШекара — бұл сызық.\n",
    "01-intro/02-only-russian.en.md": "---\ntitle: Second\nminutes: 5\n---\nSecond lesson.\n",
    "01-intro/02-only-russian.ru.md": "---\ntitle: Второй урок\nminutes: 5\n---\nВторой урок.\n",
    "01-intro/questions.yaml": """
        - id: t-q1
          type: single
          prompt: {en: "Which document?", ru: "Какой документ?", kk: "Қай құжат?"}
          options:
            - {id: a, text: {en: Passport, ru: Паспорт, kk: Төлқұжат}}
            - {id: b, text: {en: Ticket, ru: Билет, kk: Билет}}
          answer: a
          feedback: {en: The passport., ru: Паспорт., kk: Төлқұжат.}
    """,
    "01-intro/quiz.yaml": "kind: practice\nquestions: all\npass_mark: 50\nreview: immediately\n",
}


def write_course(root: Path, files: dict[str, str] = TINY_COURSE, course_id: str = "tiny-course") -> Path:
    folder = root / course_id
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text).lstrip("\n")
        if rel == "course.yaml":
            body = body.replace("id: tiny-course", f"id: {course_id}")
        target.write_text(body, encoding="utf-8")
    return folder


def import_course(app: Any, folder: Path) -> Any:
    from cbt.courses.importer import import_folder
    from cbt.db import session, writing

    with app.app_context(), writing():
        outcome = import_folder(folder)
        session.commit()
        return outcome.version.id


@dataclass
class World:
    slug: str
    lesson_id: int
    quiz_id: int
    attempt_id: int
    finished_attempt_id: int
    #: A cohort: run by the signed-in trainer or admin (with another trainee in it), or holding the trainee.
    cohort_id: int = 0
    member_id: int = 0
    member_attempt_id: int = 0
    #: A draft of the tiny course the signed-in trainer or admin may author (uuid; empty for a trainee).
    draft: str = ""


def build_world(app: Any, client: Any, auth: Any, tmp_path: Path, role: str = "trainee") -> World:
    """Import the tiny course, sign in as ``role``, leave one finished and one running attempt."""
    from sqlalchemy import select

    from cbt.courses.models import Lesson, Quiz
    from cbt.db import session
    from tests.conftest import csrf_token

    import_course(app, write_course(tmp_path))
    user = auth.login_as(role)
    with app.app_context():
        lesson_id = session.scalar(select(Lesson.id).order_by(Lesson.id))
        quiz_id = session.scalar(select(Quiz.id))
    token = csrf_token(client, f"/quiz/{quiz_id}")
    first = client.post(f"/quiz/{quiz_id}/start", data={"csrf_token": token}).headers["Location"]
    finished = int(first.split("/")[3])
    client.post(
        f"/quiz/attempts/{finished}/1", data={"csrf_token": token, "seq": "0", "answer": "0", "action": "finish"}
    )
    client.post(f"/quiz/attempts/{finished}/submit", data={"csrf_token": token})
    running = int(client.post(f"/quiz/{quiz_id}/start", data={"csrf_token": token}).headers["Location"].split("/")[3])
    world = World("tiny-course", lesson_id, quiz_id, running, finished)
    add_cohort(app, auth, world, user)
    if role in ("trainer", "admin"):
        world.draft = start_draft(app, user.id, world.slug)
    return world


def start_draft(app: Any, user_id: int, slug: str) -> str:
    """Let the user author ``slug`` and open a draft of its latest version (the trainer workspace pages)."""
    from sqlalchemy import select

    from cbt.auth.models import User
    from cbt.author import services as author
    from cbt.courses.models import Course, CourseVersion
    from cbt.db import session, writing

    with app.app_context(), writing():
        user = session.get(User, user_id)
        author.add_grant(slug, user_id, None)
        version = session.scalar(select(CourseVersion).join(Course).where(Course.slug == slug))
        draft = author.draft_from_version(user, version)
        session.commit()
        return str(draft.uuid)


def add_cohort(app: Any, auth: Any, world: World, user: Any) -> None:
    """A cohort with the tiny course assigned (due yesterday, so "overdue" shows).

    A trainee is put in a cohort of a new trainer; a trainer or admin runs a cohort holding a new trainee
    who has one finished attempt.
    """
    from datetime import date, timedelta

    from sqlalchemy import select

    from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
    from cbt.courses.models import Course
    from cbt.db import session, writing
    from tests.conftest import Auth, csrf_token

    if user.role == "trainee":
        trainer, member, attempt_id = auth.create_user("trainer"), user, 0
    else:
        trainer, member = user, auth.create_user("trainee", full_name="Айгерім Сапарова")
        other = app.test_client()
        Auth(other, auth.create_user).login(member.username)
        token = csrf_token(other, f"/quiz/{world.quiz_id}")
        started = other.post(f"/quiz/{world.quiz_id}/start", data={"csrf_token": token}).headers["Location"]
        attempt_id = int(started.split("/")[3])
        other.post(f"/quiz/attempts/{attempt_id}/1",
                   data={"csrf_token": token, "seq": "0", "answer": "1", "action": "finish"})
        other.post(f"/quiz/attempts/{attempt_id}/submit", data={"csrf_token": token})
    with app.app_context(), writing():
        cohort = Cohort(name="Қордай-1", trainer_id=trainer.id, start_date=date.today() - timedelta(days=30))
        session.add(cohort)
        session.flush()
        course_id = session.scalar(select(Course.id).where(Course.slug == world.slug))
        session.add_all([
            CohortMember(cohort_id=cohort.id, user_id=member.id),
            CohortCourse(cohort_id=cohort.id, course_id=course_id, due_date=date.today() - timedelta(days=1)),
        ])
        session.commit()
        world.cohort_id, world.member_id, world.member_attempt_id = cohort.id, member.id, attempt_id


def page_urls(app: Any, world: World, role: str) -> list[str]:
    """Every GET page ``role`` may open, with real ids from ``world``."""
    known = {
        "core.home": "/",
        "core.healthz": None,  # JSON, not a page
        "core.ping": None,  # 204, keeps a session alive
        "auth.login": None,  # signed-in users are redirected away
        "auth.change_password": "/account/password",
        "auth.login_code": None,  # only during a sign-in with two-step verification; signed-in users go home
        "auth.sessions": "/account/sessions",
        "auth.two_factor": "/account/two-factor",
        "learn.my_learning": "/learn/",
        "learn.transcript": "/learn/transcript",
        "learn.course": f"/learn/courses/{world.slug}",
        "learn.continue_course": None,  # a redirect
        "learn.lesson": f"/learn/courses/{world.slug}/lessons/{world.lesson_id}",
        "courses.media": None,  # files
        "quiz.overview": f"/quiz/{world.quiz_id}",
        "quiz.question": f"/quiz/attempts/{world.attempt_id}/1",
        "quiz.finish": f"/quiz/attempts/{world.attempt_id}/finish",
        "quiz.result": f"/quiz/attempts/{world.finished_attempt_id}/result",
        "cohorts.list_cohorts": "/cohorts/",
        "cohorts.create_cohort": "/cohorts/new",
        "cohorts.show_cohort": f"/cohorts/{world.cohort_id}",
        "cohorts.edit_cohort": f"/cohorts/{world.cohort_id}/edit",
        "cohorts.add_members_page": f"/cohorts/{world.cohort_id}/members/add",
        "cohorts.progress": f"/cohorts/{world.cohort_id}/progress",
        "cohorts.member_attempts": f"/cohorts/{world.cohort_id}/members/{world.member_id}",
        "cohorts.attempt_review": f"/cohorts/{world.cohort_id}/attempts/{world.member_attempt_id}",
        "cohorts.statistics_index": "/cohorts/statistics",
        "cohorts.quiz_statistics": f"/cohorts/statistics/quizzes/{world.quiz_id}?cohort={world.cohort_id}",
        "cohorts.quiz_statistics_csv": None,  # a CSV download
        "certificates.verify_form": "/verify",
        "certificates.verify": "/verify/0000-0000-0000",
        "certificates.download": None,  # a PDF
        **author_pages(world),
    }
    if role == "admin":
        known.update(admin_pages(app, world))
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        access = getattr(app.view_functions[rule.endpoint], ACCESS_ATTR, ())
        if "public" not in access and role not in access:
            continue
        assert rule.endpoint in known, f"add {rule.endpoint} to tests/pages.py"
        if known[rule.endpoint]:
            urls.append(known[rule.endpoint])
    return urls


def admin_pages(app: Any, world: World) -> dict[str, str | None]:
    """The administration and report pages, with an organisation, a certificate and a pending import."""
    from sqlalchemy import select

    from cbt.admin import services as admin_services
    from cbt.auth.models import User
    from cbt.certificates.services import ensure_certificate, format_code
    from cbt.courses.models import CourseVersion
    from cbt.db import session, utcnow, writing
    from cbt.learn.models import CourseCompletion, Enrollment
    from cbt.org.models import Agency, Country, Site

    with app.app_context(), writing():
        country = session.scalar(select(Country).where(Country.code == "KZ"))
        if country is None:
            country = Country(code="KZ", names={"kk": "Қазақстан", "ru": "Казахстан", "en": "Kazakhstan"})
            session.add(country)
            session.flush()
            session.add(Agency(code="kz-customs", kind="customs", country_id=country.id,
                               names={"kk": "Кеден қызметі", "ru": "Таможенная служба", "en": "Customs"}))
            session.add(Site(code="kordai", kind="bcp", country_id=country.id,
                             names={"kk": "«Қордай» ӨП", "ru": "ПП «Кордай»", "en": "Kordai BCP"}))
            session.flush()
        agency = session.scalar(select(Agency).where(Agency.code == "kz-customs"))
        site = session.scalar(select(Site).where(Site.code == "kordai"))
        admin = session.scalar(select(User).where(User.role == "admin").order_by(User.id))
        version = session.scalar(select(CourseVersion).order_by(CourseVersion.id))
        if session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == admin.id)) is None:
            if session.scalar(select(Enrollment).where(Enrollment.user_id == admin.id)) is None:
                session.add(Enrollment(user_id=admin.id, course_id=version.course_id, course_version_id=version.id))
            session.add(CourseCompletion(user_id=admin.id, course_id=version.course_id, course_version_id=version.id,
                                         completed_at=utcnow(), score=80.0, site_id=site.id))
            session.flush()
        certificate = ensure_certificate(admin.id, version.course_id)
        batch = admin_services.start_import(
            "users.csv", "username,full_name,role,site\nnew.one,Жаңа Қызметкер,trainee,kordai\n"
                         "bad one,,chief,nowhere\n".encode(), actor_id=admin.id)
        session.commit()
        ids = {"user": admin.id, "country": country.id, "agency": agency.id, "site": site.id,
               "certificate": certificate.id, "token": batch.token, "code": format_code(certificate.code)}
    return {
        "admin.users": "/admin/users?q=a&role=admin",
        "admin.user_new": "/admin/users/new",
        "admin.user_edit": f"/admin/users/{ids['user']}",
        "admin.user_import": "/admin/users/import",
        "admin.user_import_template": None,  # a CSV download
        "admin.user_import_preview": f"/admin/users/import/{ids['token']}",
        "admin.organisation": "/admin/organisation",
        "admin.country_new": "/admin/countries/new",
        "admin.country_edit": f"/admin/countries/{ids['country']}",
        "admin.agency_new": "/admin/agencies/new",
        "admin.agency_edit": f"/admin/agencies/{ids['agency']}",
        "admin.site_new": "/admin/sites/new",
        "admin.site_edit": f"/admin/sites/{ids['site']}",
        "admin.audit": "/admin/audit",
        "admin.audit_export": None,  # a CSV download
        "reports.dashboard": "/reports/?group=course&group=site&group=agency&group=country",
        "reports.course": f"/reports/courses/{world.slug}",
        "reports.site": "/reports/sites/kordai",
        "reports.trainee": f"/reports/trainees/{ids['user']}",
        "reports.export": None,  # CSV and XLSX downloads
        "certificates.index": "/certificates/",
        "certificates.detail": f"/certificates/{ids['certificate']}",
        "certificates.verify": f"/verify/{ids['code']}",
    }


def author_pages(world: World) -> dict[str, str | None]:
    """The trainer workspace (cbt/author), on the draft of the tiny course."""
    draft = f"/author/drafts/{world.draft}"
    module = f"{draft}/modules/01-intro"
    return {
        "author.course_list": "/author/",
        "author.new_course": "/author/new",
        "author.import_zip": "/author/import",
        "author.course": f"/author/courses/{world.slug}",
        "author.access": f"/author/courses/{world.slug}/access",
        "author.export_version": None,  # a zip
        "author.draft": draft,
        "author.settings": f"{draft}/settings",
        "author.module": module,
        "author.lesson": f"{module}/lessons/02-only-russian/kk",
        "author.new_question": f"{module}/questions/new?type=scenario",
        "author.question": f"{module}/questions/t-q1",
        "author.quiz": f"{module}/quiz",
        "author.exam": f"{draft}/exam",
        "author.translate": f"{draft}/translate/kk/modules/01-intro/questions/t-q1",
        "author.translation_gaps": f"{draft}/gaps/kk",
        "author.media": f"{draft}/media",
        "author.media_file": None,  # files
        "author.preview_lesson": f"{draft}/preview/01-intro/02-only-russian?locale=kk",
        "author.preview_question": f"{draft}/preview/01-intro/questions/t-q1",
        "author.export_draft": None,  # a zip
    }
