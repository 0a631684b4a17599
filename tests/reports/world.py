"""A hand-computed reporting world: two courses, two countries, sites and agencies, five trainees, three cohorts.

Everything is written straight into the database with known dates and numbers, so the expected statistics
can be worked out by hand (see ``EXPECTED`` in the tests). The courses are imported for real (they need
lessons and quizzes); the learning records are not walked through the pages.

Cohorts (the cohort column names those covering the row's course, see cbt/reports/exports.py):
"Kordai spring" has u1, u2 and assigned the exam course; "Customs refresher" has u1, u5 and assigned nothing
(it covers every course of its members); "Ak-Zhol basics" has u3, u4 and assigned the tiny course only, so it
does not cover u3's exam course.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.pages import TINY_COURSE, import_course, write_course

EXAM_COURSE = {
    **TINY_COURSE,
    "course.yaml": TINY_COURSE["course.yaml"].replace(
        "completion: {lessons: all, quizzes: passed, exam: none}",
        "completion: {lessons: all, quizzes: passed, exam: passed}\n        exam: exam.yaml",
    ).replace("title: {en: Border basics, ru: Основы границы, kk: Шекара негіздері}",
              "title: {en: Exam course, ru: Курс с экзаменом, kk: Емтиханы бар курс}"),
    "exam.yaml": "kind: exam\nquestions: all\npass_mark: 60\ntime_limit_minutes: 30\nattempts: 0\n",
}


def at(day: str) -> datetime:
    """``"2026-02-03"`` or ``"2026-02-03 10:00"`` as an aware UTC datetime."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) if " " in day else datetime.fromisoformat(
        day + " 12:00").replace(tzinfo=UTC)


@dataclass
class ReportWorld:
    c1: int
    c2: int
    s1: int
    s2: int
    a1: int
    a2: int
    kz: int
    kg: int
    users: dict[str, int]
    cohorts: dict[str, int]


def build(app: Any, tmp_path: Path, create_user: Any) -> ReportWorld:
    from sqlalchemy import select

    from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
    from cbt.courses.models import CourseVersion, Lesson, Quiz
    from cbt.db import session, writing
    from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
    from cbt.org.models import Agency, Country, Site
    from cbt.quiz.models import Attempt

    v1 = import_course(app, write_course(tmp_path, EXAM_COURSE, "exam-course"))
    v2 = import_course(app, write_course(tmp_path, TINY_COURSE, "tiny-course"))
    with app.app_context(), writing():
        kz = Country(code="KZ", names={"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"})
        kg = Country(code="KG", names={"en": "Kyrgyzstan", "ru": "Кыргызстан", "kk": "Қырғызстан"})
        session.add_all([kz, kg])
        session.flush()
        a1 = Agency(code="kz-customs", kind="customs", country_id=kz.id,
                    names={"en": "KZ Customs", "ru": "Таможня РК", "kk": "ҚР кедені"})
        a2 = Agency(code="kg-border", kind="border", country_id=kg.id,
                    names={"en": "KG Border Service", "ru": "Погранслужба КР", "kk": "ҚР шекара қызметі"})
        s1 = Site(code="kordai", kind="bcp", country_id=kz.id, neighbour_country_id=kg.id,
                  names={"en": "Kordai BCP", "ru": "ПП «Кордай»", "kk": "«Қордай» ӨП"})
        s2 = Site(code="ak-zhol", kind="bcp", country_id=kg.id, neighbour_country_id=kz.id,
                  names={"en": "Ak-Zhol BCP", "ru": "ПП «Ак-Жол»", "kk": "«Ақ-Жол» ӨП"})
        session.add_all([a1, a2, s1, s2])
        session.commit()
        ids = {"s1": s1.id, "s2": s2.id, "a1": a1.id, "a2": a2.id, "kz": kz.id, "kg": kg.id}
    users = {}
    for name, site, agency, number in (("u1", "s1", "a1", "KZ-1"), ("u2", "s1", "a1", "KZ-2"),
                                       ("u3", "s2", "a2", "KG-3"), ("u4", "s2", "a2", "KG-4"),
                                       ("u5", "s2", "a1", "KZ-5")):
        users[name] = create_user("trainee", username=name, full_name=f"Trainee {name}", service_number=number,
                                  site_id=ids[site], agency_id=ids[agency]).id
    coach = create_user("trainer", username="coach", full_name="Coach").id
    with app.app_context(), writing():
        version1 = session.get(CourseVersion, v1)
        version2 = session.get(CourseVersion, v2)
        lesson1 = session.scalar(select(Lesson.id).where(Lesson.course_version_id == v1).order_by(Lesson.id))
        lesson2 = session.scalar(select(Lesson.id).where(Lesson.course_version_id == v2).order_by(Lesson.id))
        exam = session.scalar(select(Quiz.id).where(Quiz.course_version_id == v1, Quiz.module_id.is_(None)))
        practice = session.scalar(select(Quiz.id).where(Quiz.course_version_id == v1, Quiz.module_id.is_not(None)))

        def enrol(user: str, version: Any, day: str) -> None:
            session.add(Enrollment(user_id=users[user], course_id=version.course_id, course_version_id=version.id,
                                   started_at=at(day), last_activity_at=at(day)))

        def lesson(user: str, version_id: int, lesson_id: int, day: str, seconds: int) -> None:
            session.add(LessonProgress(user_id=users[user], lesson_id=lesson_id, course_version_id=version_id,
                                       first_viewed_at=at(day), last_viewed_at=at(day), seconds_spent=seconds))

        def attempt(user: str, quiz: int, number: int, day: str, percent: float, passed: bool, site: str) -> None:
            session.add(Attempt(user_id=users[user], quiz_id=quiz, course_version_id=v1, number=number,
                                status="submitted", started_at=at(day + " 09:00"), submitted_at=at(day + " 09:30"),
                                score=percent / 10, max_score=10.0, percent=percent, passed=passed,
                                site_id=ids[site]))

        def complete(user: str, version: Any, day: str, score: float | None, site: str) -> None:
            session.add(CourseCompletion(user_id=users[user], course_id=version.course_id,
                                         course_version_id=version.id, completed_at=at(day), score=score,
                                         site_id=ids[site]))

        enrol("u1", version1, "2026-01-10")
        lesson("u1", v1, lesson1, "2026-01-10", 600)
        attempt("u1", practice, 1, "2026-01-12", 100.0, True, "s1")
        attempt("u1", exam, 1, "2026-01-15", 40.0, False, "s1")
        attempt("u1", exam, 2, "2026-02-03", 80.0, True, "s1")
        complete("u1", version1, "2026-02-03", 80.0, "s1")

        enrol("u2", version1, "2026-02-05")
        lesson("u2", v1, lesson1, "2026-02-05", 1200)
        attempt("u2", exam, 1, "2026-02-20", 50.0, False, "s1")

        enrol("u3", version1, "2026-01-20")

        enrol("u4", version2, "2026-03-01")
        lesson("u4", v2, lesson2, "2026-03-01", 300)
        complete("u4", version2, "2026-03-02", None, "s2")

        # u5 now works at site 2, but completed the course while at site 1: the completion's site counts.
        enrol("u5", version1, "2026-01-05")
        lesson("u5", v1, lesson1, "2026-01-05", 900)
        attempt("u5", exam, 1, "2026-01-25", 90.0, True, "s1")
        complete("u5", version1, "2026-01-25", 90.0, "s1")
        cohorts = {}
        for name, members, courses in (("Kordai spring", ("u1", "u2"), (version1.course_id,)),
                                       ("Customs refresher", ("u1", "u5"), ()),
                                       ("Ak-Zhol basics", ("u3", "u4"), (version2.course_id,))):
            cohort = Cohort(name=name, trainer_id=coach)
            session.add(cohort)
            session.flush()
            session.add_all([CohortMember(cohort_id=cohort.id, user_id=users[m]) for m in members])
            session.add_all([CohortCourse(cohort_id=cohort.id, course_id=c) for c in courses])
            cohorts[name] = cohort.id
        session.commit()
        return ReportWorld(version1.course_id, version2.course_id, ids["s1"], ids["s2"], ids["a1"], ids["a2"],
                           ids["kz"], ids["kg"], users, cohorts)
