"""Report pages and numbers against a hand-computed world (see tests/reports/world.py).

By hand, for the open period: the exam course has trainees u1, u2, u3, u5 enrolled; u1, u2, u5 started;
u1 and u5 completed and passed; best exam scores 80, 50, 90 (mean 73.3); lesson time 600+1200+0+900 s over
4 trainees = 11.25 min. The tiny course (no exam): u4 enrolled, started, completed, so passed; 5 min.
By site (the completion's site, else the trainee's): Kordai has u1, u2, u5; Ak-Zhol has u3, u4.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import csrf_token
from tests.reports.world import build


@pytest.fixture
def world(app, tmp_path, create_user):
    return build(app, tmp_path, create_user)


def summary(client, query: str) -> list[list[str]]:
    response = client.get(f"/reports/export/summary.csv?{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_summary_by_course_matches_the_hand_count(client, auth, world):
    auth.login_as("admin")
    rows = summary(client, "group=course")
    assert rows[0][:8] == ["Course", "Course code", "Enrolled", "Started", "Completed", "Passed",
                           "Average best score (%)", "Average time spent (minutes)"]
    assert rows[1] == ["Exam course", "exam-course", "4", "3", "2", "2", "73.3", "11.2"]
    assert rows[2] == ["Border basics", "tiny-course", "1", "1", "1", "1", "", "5.0"]
    assert rows[3] == ["Total", "", "5", "4", "3", "3", "73.3", "10.0"]


def test_summary_by_site_uses_the_site_of_completion(client, auth, world):
    auth.login_as("admin")
    rows = summary(client, "group=site")
    assert rows[1] == ["Ak-Zhol BCP", "ak-zhol", "2", "1", "1", "1", "", "2.5"]  # sorted by code
    assert rows[2] == ["Kordai BCP", "kordai", "3", "3", "2", "2", "73.3", "15.0"]


def test_summary_by_every_dimension(client, auth, world):
    auth.login_as("admin")
    rows = summary(client, "group=course&group=site&group=agency&group=country")
    keyed = {tuple(r[1:8:2]): r[8:12] for r in rows[1:-1]}
    assert keyed == {
        ("exam-course", "kordai", "kz-customs", "KZ"): ["3", "3", "2", "2"],
        ("exam-course", "ak-zhol", "kg-border", "KG"): ["1", "0", "0", "0"],
        ("tiny-course", "ak-zhol", "kg-border", "KG"): ["1", "1", "1", "1"],
    }


def test_period_counts_each_step_by_its_own_date(client, auth, world):
    auth.login_as("admin")
    rows = summary(client, "group=course&date_from=2026-02-01&date_to=2026-02-28")
    assert rows[1:] == [["Exam course", "exam-course", "1", "1", "1", "1", "65.0", "15.0"],
                        ["Total", "", "1", "1", "1", "1", "65.0", "15.0"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("course={c1}", "4"), ("site={s2}", "2"), ("agency={a2}", "2"), ("country={kz}", "3"), ("country={kg}", "2"),
    ("site={s1}&course={c2}", None),
])
def test_filters_narrow_the_population(client, auth, world, query, expected):
    auth.login_as("admin")
    rows = summary(client, "group=country&" + query.format(**world.__dict__))
    total = rows[-1]
    assert total[0] == "Total"
    assert total[2] == (expected or "0")


def test_dashboard_shows_tables_and_accessible_charts(client, auth, world):
    auth.login_as("admin")
    page = client.get("/reports/?group=course").get_data(as_text=True)
    assert re.search(r"Exam course</a>\s*</th>\s*<td class=\"num\">4</td><td class=\"num\">3</td>"
                     r"<td class=\"num\">2</td>\s*<td class=\"num\">2</td><td class=\"num\">73%</td>", page)
    svgs = re.findall(r"<svg class=\"chart\".*?</svg>", page, flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg and "aria-labelledby" in svg
    months = svgs[0]
    assert months.count('<rect class="bar"') == 3  # January, February, March 2026
    # The data table beside the chart has the same numbers.
    table = page.split('<table class="chart-data">', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<td class="num">(\d+)</td>', table) == ["1", "1", "1"]
    sites = page.split('<table class="chart-data">')[2].split("</table>", 1)[0]
    assert re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', sites) == [
        ("Kordai BCP", "2"), ("Ak-Zhol BCP", "1")]
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_dashboard_rejects_a_reversed_period(client, auth, world):
    auth.login_as("admin")
    page = client.get("/reports/?date_from=2026-03-01&date_to=2026-02-01").get_data(as_text=True)
    assert "The end of the period is before its start." in page


def test_course_and_site_pages_list_the_trainees(client, auth, world):
    auth.login_as("admin")
    page = client.get("/reports/courses/exam-course").get_data(as_text=True)
    for name in ("Trainee u1", "Trainee u2", "Trainee u3", "Trainee u5"):
        assert name in page
    assert "Trainee u4" not in page
    assert f'href="/reports/trainees/{world.users["u1"]}"' in page
    site = client.get("/reports/sites/ak-zhol").get_data(as_text=True)
    assert "Trainee u3" in site and "Trainee u4" in site and "Trainee u1" not in site
    assert client.get("/reports/courses/no-such-course").status_code == 404
    assert client.get("/reports/sites/nowhere").status_code == 404


def test_trainee_transcript_for_admins_reuses_the_transcript(client, auth, world):
    auth.login_as("admin")
    page = client.get(f"/reports/trainees/{world.users['u1']}").get_data(as_text=True)
    assert "Trainee u1" in page and "Exam course" in page and "KZ-1" in page
    assert f"/certificates/{world.users['u1']}/exam-course.pdf" in page
    assert client.get("/reports/trainees/999999").status_code == 404


def test_report_pages_run_a_constant_number_of_queries(app, client, auth, world, create_user, count_queries):
    """No N+1: ten more trainees with records do not add statements."""
    from cbt.db import session, writing
    from cbt.learn.models import Enrollment

    auth.login_as("admin")
    urls = ["/reports/?group=course&group=site&group=agency&group=country", "/reports/courses/exam-course",
            "/reports/sites/kordai", "/admin/users", "/admin/audit", "/certificates/",
            f"/reports/?date_from=2026-01-01&cohort={world.cohorts['Kordai spring']}"]

    def counts() -> dict[str, int]:
        result = {}
        for url in urls:
            client.get(url)
            count_queries().clear()
            assert client.get(url).status_code == 200
            result[url] = len(count_queries())
        return result

    before = counts()
    extra = [create_user("trainee", username=f"extra{n}", site_id=world.s1, agency_id=world.a1).id
             for n in range(10)]
    with app.app_context(), writing():
        from sqlalchemy import select

        from cbt.courses.models import CourseVersion

        version = session.scalar(select(CourseVersion).where(CourseVersion.course_id == world.c1))
        for user_id in extra:
            session.add(Enrollment(user_id=user_id, course_id=world.c1, course_version_id=version.id))
        session.commit()
    assert counts() == before
    assert max(before.values()) <= 12


def test_non_admins_cannot_open_reports_or_exports(client, auth, world):
    auth.login_as("trainer")
    for url in ("/reports/", "/reports/courses/exam-course", "/reports/sites/kordai",
                f"/reports/trainees/{world.users['u1']}", "/reports/export/attempts.csv",
                "/reports/export/completions.xlsx", "/admin/audit.csv", "/certificates/"):
        assert client.get(url).status_code == 403, url


def test_the_menu_and_home_page_lead_to_administration(client, auth):
    auth.login_as("admin")
    page = client.get("/").get_data(as_text=True)
    nav = page.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    labels = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    ours = ["Users", "Organisation", "Reports", "Audit log"]
    assert [label for _u, label in labels if label in ours] == ours
    main = page.split("<main", 1)[1]
    for url in ("/admin/users", "/admin/organisation", "/reports/", "/admin/audit"):
        assert f'href="{url}"' in main
    assert csrf_token(client, "/")


# --- cohorts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cohort", "expected"), [
    # Members in the courses the cohort assigned: u1 (completed, passed) and u2 (started) in the exam course.
    ("Kordai spring", [["Exam course", "exam-course", "2", "2", "1", "1", "65.0", "15.0"]]),
    # Assigned nothing: every course of its members u1 and u5 (both completed and passed the exam course).
    ("Customs refresher", [["Exam course", "exam-course", "2", "2", "2", "2", "85.0", "12.5"]]),
    # u3 is a member but enrolled in the exam course, which this cohort did not assign: only u4 counts.
    ("Ak-Zhol basics", [["Border basics", "tiny-course", "1", "1", "1", "1", "", "5.0"]]),
])
def test_cohort_filter_keeps_members_in_the_courses_it_assigned(client, auth, world, cohort, expected):
    auth.login_as("admin")
    rows = summary(client, f"group=course&cohort={world.cohorts[cohort]}")
    assert rows[1:-1] == expected
    assert rows[-1][2] == expected[0][2]


def test_cohort_column_names_the_cohorts_covering_each_row(client, auth, world):
    auth.login_as("admin")
    text = client.get("/reports/export/completions.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    cohort = rows[0].index("Cohort")
    assert {r[0]: r[cohort] for r in rows[1:]} == {
        "u1": "Customs refresher; Kordai spring", "u2": "Kordai spring", "u3": "", "u4": "Ak-Zhol basics",
        "u5": "Customs refresher"}
    text = client.get(f"/reports/export/attempts.csv?cohort={world.cohorts['Kordai spring']}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r[0], r[cohort]) for r in rows[1:]] == [("u1", "Customs refresher; Kordai spring")] * 3 + [
        ("u2", "Kordai spring")]


def test_dashboard_offers_and_applies_the_cohort_filter(client, auth, world):
    auth.login_as("admin")
    page = client.get(f"/reports/?group=course&cohort={world.cohorts['Ak-Zhol basics']}").get_data(as_text=True)
    select = page.split('name="cohort"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option[^>]*>([^<]+)</option>", select) == [
        "All", "Ak-Zhol basics", "Customs refresher", "Kordai spring"]
    assert re.search(rf'<option selected value="{world.cohorts["Ak-Zhol basics"]}"|'
                     rf'<option value="{world.cohorts["Ak-Zhol basics"]}" selected', select)
    assert "Border basics</a>" in page and "Exam course</a>" not in page


# --- SQL counting against the Python rules, and standings kept by triggers --------------------------------


@pytest.mark.parametrize("period", [(None, None), ("2026-02-01", "2026-02-28"), ("2026-01-20", None),
                                    (None, "2026-01-31"), ("2026-03-02", "2026-03-02")])
@pytest.mark.parametrize("narrow", [{}, {"site": "s1"}, {"country": "kg"}, {"agency": "a1"},
                                    {"cohort": "Customs refresher"}, {"course": "c1"}])
def test_sql_counts_agree_with_the_reference_rules(app, world, period, narrow):
    """The grouped SQL of every page equals aggregate.fold over the same facts, for periods and filters."""
    from datetime import date

    from cbt.reports import aggregate, queries

    bounds = aggregate.Period(*(date.fromisoformat(d) if d else None for d in period))
    ids = {k: (world.cohorts[v] if k == "cohort" else getattr(world, v)) for k, v in narrow.items()}
    base = queries.Filters(**{f"{k}_id": v for k, v in ids.items()})
    with app.test_request_context():
        queries.refresh()
        reference = aggregate.fold(list(queries.facts(base)), aggregate.DIMENSIONS, bounds)
        counted = queries.summary(queries.Filters(**{**base.__dict__, "period": bounds}), aggregate.DIMENSIONS,
                                  queries.lookups()).report
    assert counted.groups == reference.groups
    assert counted.total == reference.total
    assert counted.by_month == reference.by_month


def test_standings_follow_attempts_and_lessons_through_triggers(app, client, auth, world):
    """Changes made by any code path reach the next report: triggers mark the pair, the report recomputes it."""
    from sqlalchemy import select, update

    from cbt.courses.models import Lesson, Quiz
    from cbt.db import session, writing
    from cbt.learn.models import LessonProgress
    from cbt.quiz.models import Attempt
    from cbt.reports.models import ReportStale
    from tests.reports.world import at

    auth.login_as("admin")
    assert summary(client, "group=course")[1][2:6] == ["4", "3", "2", "2"]
    with app.app_context(), writing():
        assert session.scalar(select(ReportStale.user_id).limit(1)) is None  # the report consumed them
        exam = session.scalar(select(Quiz.id).where(Quiz.module_id.is_(None)))
        version = session.scalar(select(Quiz.course_version_id).where(Quiz.id == exam))
        lesson = session.scalar(select(Lesson.id).where(Lesson.course_version_id == version))
        # u2's exam is regraded to a pass; u3 begins the exam before opening a lesson.
        session.execute(update(Attempt).where(Attempt.user_id == world.users["u2"])
                        .values(percent=70.0, passed=True, submitted_at=at("2026-02-21")))
        session.add(Attempt(user_id=world.users["u3"], quiz_id=exam, course_version_id=version, number=1,
                            status="in_progress", started_at=at("2026-01-21 08:00")))
        session.add(LessonProgress(user_id=world.users["u3"], lesson_id=lesson, course_version_id=version,
                                   first_viewed_at=at("2026-01-25"), last_viewed_at=at("2026-01-25"),
                                   seconds_spent=120))
        session.commit()
        assert {u for (u,) in session.execute(select(ReportStale.user_id))} == {world.users["u2"],
                                                                                 world.users["u3"]}
    rows = summary(client, "group=course")
    assert rows[1] == ["Exam course", "exam-course", "4", "4", "2", "3", "80.0", "11.8"]
    text = client.get(f"/reports/export/completions.csv?user={world.users['u3']}").get_data(as_text=True)
    u3 = dict(zip(*list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[:2], strict=True))
    assert u3["Started (UTC)"] == "2026-01-21 08:00:00"  # the earlier of first attempt and first lesson
    assert u3["Time spent (minutes)"] == "2"


def test_standings_follow_enrolments_completions_and_moves(app, client, auth, world):
    """A new enrolment, a new completion and a trainee moved to another site all reach the next report."""
    from sqlalchemy import select, update

    from cbt.auth.models import User
    from cbt.courses.models import CourseVersion
    from cbt.db import session, writing
    from cbt.learn.models import CourseCompletion, Enrollment
    from tests.reports.world import at

    auth.login_as("admin")
    by_site = {r[1]: r[2:6] for r in summary(client, "group=site")[1:-1]}
    assert by_site == {"ak-zhol": ["2", "1", "1", "1"], "kordai": ["3", "3", "2", "2"]}
    with app.app_context(), writing():
        version = session.scalar(select(CourseVersion).where(CourseVersion.course_id == world.c1))
        session.execute(update(User).where(User.id == world.users["u3"]).values(site_id=world.s1))
        session.add(Enrollment(user_id=world.users["u4"], course_id=world.c1, course_version_id=version.id,
                               started_at=at("2026-03-05"), last_activity_at=at("2026-03-05")))
        session.add(CourseCompletion(user_id=world.users["u2"], course_id=world.c1, course_version_id=version.id,
                                     completed_at=at("2026-02-25"), score=50.0, site_id=world.s2))
        session.commit()
    by_site = {r[1]: r[2:6] for r in summary(client, "group=site")[1:-1]}
    # Ak-Zhol: u4 twice (tiny course done, exam course just enrolled) and u2's completion recorded there;
    # Kordai: u1, u5 and u3 (moved). u2 did not pass the exam, so completing does not count as passing.
    assert by_site == {"ak-zhol": ["3", "2", "2", "1"], "kordai": ["3", "2", "2", "2"]}


def test_missing_triggers_are_put_back_and_everything_recounted(app, client, auth, world):
    """A table rebuilt by a later SQLite batch migration loses its triggers: the first report reinstalls them
    and recounts every enrolment, so changes made meanwhile are not lost."""
    from sqlalchemy import select, text

    from cbt.courses.models import CourseVersion
    from cbt.db import session, writing
    from cbt.learn.models import Enrollment
    from cbt.reports import triggers
    from tests.reports.world import at

    with app.app_context(), writing():
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER report_stale_enrollments ON enrollments"))
        else:
            connection.execute(text("DROP TRIGGER report_stale_enrollments_insert"))
        version = session.scalar(select(CourseVersion).where(CourseVersion.course_id == world.c2))
        session.add(Enrollment(user_id=world.users["u1"], course_id=world.c2, course_version_id=version.id,
                               started_at=at("2026-03-10"), last_activity_at=at("2026-03-10")))
        session.commit()
        assert triggers.missing(session.connection())
    auth.login_as("admin")
    assert summary(client, "group=course")[2][:3] == ["Border basics", "tiny-course", "2"]
    with app.app_context():
        assert triggers.missing(session.connection()) == set()
