"""Scale data for benchmarks and report tests: thousands of officers, hundreds of thousands of attempts.

Deterministic for a given seed. Distributions are meant to look like a real programme: sites of very
different sizes (a busy BCP trains many more officers than a small post), most officers start a course,
fewer finish, exam scores centred around the pass mark, activity spread over the last year. Rows are
written with bulk inserts in batches; everyone shares one password hash (hashing 10,000 passwords with a
memory-hard KDF would take longer than the benchmark).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from cbt.auth.models import User
from cbt.courses.models import Lesson, QuestionVersion, Quiz
from cbt.db import session
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.org.models import Agency, Country, Site
from cbt.quiz.models import Attempt, Response

BATCH = 5000
SEED_PASSWORD = "Scale-Seed-Password-1"  # noqa: S105 - benchmark accounts on a throwaway database


@dataclass(frozen=True)
class SeedCounts:
    users: int
    sites: int
    enrollments: int
    completions: int
    attempts: int
    responses: int


def _batched(rows: list[dict[str, Any]], model: Any) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def seed_scale(
    *, users: int, sites: int, courses: int, attempts: int, seed: int = 1, now: datetime | None = None
) -> SeedCounts:
    """Generate the data set; the shipped courses must already be imported (``cbt demo`` or ``courses import``)."""
    from cbt.auth.services import hash_policy
    from cbt.learn.services import published_versions

    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    versions = published_versions()[:courses]
    if not versions:
        raise ValueError("import at least one course first")

    kz = session.scalar(select(Country).where(Country.code == "KZ"))
    if kz is None:
        kz = Country(code="KZ", names={"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"})
        session.add(kz)
        session.flush()
    agencies = []
    for kind in ("border", "customs", "drug_control"):
        code = f"scale-{kind}"
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            agency = Agency(
                code=code,
                kind=kind,
                names={"en": f"Agency {kind}", "ru": f"Ведомство {kind}", "kk": f"Ведомство {kind}"},
                country_id=kz.id,
            )
            session.add(agency)
        agencies.append(agency)
    site_rows = []
    for index in range(sites):
        code = f"scale-site-{index + 1:02d}"
        site = session.scalar(select(Site).where(Site.code == code))
        if site is None:
            site = Site(
                code=code,
                kind="bcp",
                country_id=kz.id,
                names={"en": f"BCP {index + 1}", "ru": f"ПП {index + 1}", "kk": f"ӨП {index + 1}"},
            )
            session.add(site)
        site_rows.append(site)
    session.flush()

    # Site sizes follow a long tail: weight 1/(rank+1).
    site_weights = [1 / (rank + 1) for rank in range(len(site_rows))]
    password_hash = hash_policy().hash(SEED_PASSWORD)
    start_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    user_rows = []
    for n in range(users):
        site = rng.choices(site_rows, weights=site_weights)[0]
        user_rows.append(
            {
                "id": start_id + n,
                "uuid": uuid.UUID(int=rng.getrandbits(128)),
                "username": f"officer{start_id + n:06d}",
                "full_name": f"Officer {start_id + n}",
                "service_number": f"SN-{rng.randrange(10**6):06d}",
                "role": "trainee",
                "agency_id": rng.choice(agencies).id,
                "site_id": site.id,
                "locale": rng.choice(["kk", "ru", "ru", "en"]),
                "is_active": True,
                "password_hash": password_hash,
                "created_at": now - timedelta(days=rng.randrange(365)),
            }
        )
    _batched(user_rows, User)

    lessons = {v.id: session.scalars(select(Lesson.id).where(Lesson.course_version_id == v.id)).all() for v in versions}
    quizzes = {v.id: session.scalars(select(Quiz).where(Quiz.course_version_id == v.id)).all() for v in versions}
    questions = {
        v.id: session.scalars(select(QuestionVersion).where(QuestionVersion.course_version_id == v.id)).all()
        for v in versions
    }

    enrollment_rows, progress_rows, completion_rows = [], [], []
    for user in user_rows:
        for version in versions:
            if rng.random() > 0.8:
                continue  # not everyone starts every course
            started = now - timedelta(days=rng.randrange(1, 360), minutes=rng.randrange(1440))
            enrollment_rows.append(
                {
                    "uuid": uuid.UUID(int=rng.getrandbits(128)),
                    "user_id": user["id"],
                    "course_id": version.course_id,
                    "course_version_id": version.id,
                    "started_at": started,
                    "last_activity_at": started,
                    "last_location": None,
                }
            )
            done_share = rng.random()
            for lesson_id in lessons[version.id]:
                if rng.random() > done_share:
                    break
                progress_rows.append(
                    {
                        "uuid": uuid.UUID(int=rng.getrandbits(128)),
                        "user_id": user["id"],
                        "lesson_id": lesson_id,
                        "course_version_id": version.id,
                        "first_viewed_at": started,
                        "last_viewed_at": started,
                        "completed_at": started + timedelta(minutes=20),
                        "seconds_spent": rng.randrange(300, 1500),
                    }
                )
            if done_share > 0.55:
                completion_rows.append(
                    {
                        "uuid": uuid.UUID(int=rng.getrandbits(128)),
                        "user_id": user["id"],
                        "course_id": version.course_id,
                        "course_version_id": version.id,
                        "completed_at": started + timedelta(days=rng.randrange(1, 30)),
                        "score": round(rng.uniform(70, 100), 1),
                        "site_id": user["site_id"],
                        "locale": user["locale"],
                    }
                )
    _batched(enrollment_rows, Enrollment)
    _batched(progress_rows, LessonProgress)
    _batched(completion_rows, CourseCompletion)

    attempt_rows, response_rows = [], []
    numbers: dict[tuple[int, int], int] = {}
    start_attempt_id = (session.scalar(select(func.max(Attempt.id))) or 0) + 1
    for n in range(attempts):
        enrollment = rng.choice(enrollment_rows)
        quiz = rng.choice(quizzes[enrollment["course_version_id"]])
        key = (enrollment["user_id"], quiz.id)
        numbers[key] = numbers.get(key, 0) + 1
        percent = max(0.0, min(100.0, rng.gauss(72, 15)))
        started = enrollment["started_at"] + timedelta(days=rng.randrange(0, 30), minutes=rng.randrange(600))
        attempt_id = start_attempt_id + n
        user_site = next(u["site_id"] for u in (user_rows[enrollment["user_id"] - start_id],))
        attempt_rows.append(
            {
                "id": attempt_id,
                "uuid": uuid.UUID(int=rng.getrandbits(128)),
                "user_id": enrollment["user_id"],
                "quiz_id": quiz.id,
                "course_version_id": enrollment["course_version_id"],
                "number": numbers[key],
                "status": "submitted",
                "started_at": started,
                "deadline_at": None,
                "submitted_at": started + timedelta(minutes=rng.randrange(5, 45)),
                "question_ids": [],
                "layout": {},
                "seq": 10,
                "score": round(percent / 10, 2),
                "max_score": 10.0,
                "percent": round(percent, 2),
                "passed": percent >= quiz.pass_mark,
                "site_id": user_site,
            }
        )
        # Responses for one attempt in twenty: enough for question statistics without millions of rows.
        if n % 20 == 0:
            for question in questions[enrollment["course_version_id"]][:10]:
                fraction = 1.0 if rng.random() < percent / 100 else 0.0
                response_rows.append(
                    {
                        "uuid": uuid.UUID(int=rng.getrandbits(128)),
                        "attempt_id": attempt_id,
                        "question_version_id": question.id,
                        "answer": {"seeded": True},
                        "saved_at": started,
                        "seq": 1,
                        "score": fraction * question.points,
                        "fraction": fraction,
                    }
                )
    _batched(attempt_rows, Attempt)
    _batched(response_rows, Response)
    _seed_cohorts(random.Random(seed + 1), user_rows, site_rows, versions, password_hash, now)
    session.flush()
    _advance_sequences("users", "attempts", "cohorts")
    # The triggers marked every (officer, course) stale; compute the report standings once, in bulk.
    from cbt.reports.standings import rebuild

    rebuild()
    return SeedCounts(
        len(user_rows),
        len(site_rows),
        len(enrollment_rows),
        len(completion_rows),
        len(attempt_rows),
        len(response_rows),
    )


def _seed_cohorts(rng: random.Random, user_rows: list[dict[str, Any]], sites: list[Site], versions: list[Any],
                  password_hash: str, now: datetime) -> None:
    """A class per site (its officers, assigned the first two courses) and three refresher groups across sites
    that assign nothing (5 % of officers each), run by one trainer: cohort filters and columns at scale.
    """
    from cbt.cohorts.models import Cohort, CohortCourse, CohortMember

    trainer_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    session.execute(insert(User), [{
        "id": trainer_id, "uuid": uuid.UUID(int=rng.getrandbits(128)), "username": f"scale-trainer-{trainer_id}",
        "full_name": "Scale Trainer", "role": "trainer", "is_active": True, "password_hash": password_hash,
        "created_at": now,
    }])
    start = (session.scalar(select(func.max(Cohort.id))) or 0) + 1
    cohorts, members, courses = [], [], []
    by_site: dict[int, list[int]] = {}
    for user in user_rows:
        by_site.setdefault(user["site_id"], []).append(user["id"])
    for offset, site in enumerate(sites):
        cohort_id = start + offset
        cohorts.append({"id": cohort_id, "uuid": uuid.UUID(int=rng.getrandbits(128)), "name": f"{site.code} class",
                        "site_id": site.id, "trainer_id": trainer_id, "created_at": now, "is_archived": False})
        members += [{"cohort_id": cohort_id, "user_id": u, "added_at": now} for u in by_site.get(site.id, [])]
        courses += [{"cohort_id": cohort_id, "course_id": v.course_id, "assigned_at": now} for v in versions[:2]]
    for n in range(3):
        cohort_id = start + len(sites) + n
        cohorts.append({"id": cohort_id, "uuid": uuid.UUID(int=rng.getrandbits(128)), "name": f"Refresher {n + 1}",
                        "site_id": None, "trainer_id": trainer_id, "created_at": now, "is_archived": False})
        chosen = rng.sample(user_rows, k=max(1, len(user_rows) // 20))
        members += [{"cohort_id": cohort_id, "user_id": u["id"], "added_at": now} for u in chosen]
    _batched(cohorts, Cohort)
    _batched(members, CohortMember)
    _batched(courses, CohortCourse)


def _advance_sequences(*tables: str) -> None:
    """PostgreSQL: rows inserted with explicit ids leave the id sequence behind; move it past them.

    Without this, the next account created normally (``cbt users create``) collides with a seeded id.
    SQLite takes the next rowid from the table itself.
    """
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                             f"(SELECT coalesce(max(id), 1) FROM {table}))"))
