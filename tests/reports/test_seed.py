"""``cbt dev seed-scale`` leaves report standings complete and cohorts to filter by (small scale, real database)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.pages import TINY_COURSE, import_course, write_course
from tests.reports.world import EXAM_COURSE


def test_scale_seed_fills_standings_and_cohorts(app, tmp_path):
    from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
    from cbt.db import session, writing
    from cbt.dev.seed import seed_scale
    from cbt.learn.models import Enrollment
    from cbt.reports import aggregate, exports, queries
    from cbt.reports.models import ReportStale, ReportStanding

    import_course(app, write_course(tmp_path, EXAM_COURSE, "exam-course"))
    import_course(app, write_course(tmp_path, TINY_COURSE, "tiny-course"))
    with app.app_context(), writing():
        counts = seed_scale(users=60, sites=3, courses=2, attempts=400, seed=7)
        session.commit()
        assert counts.users == 60 and counts.attempts == 400
        enrolments = session.scalar(select(func.count()).select_from(Enrollment))
        assert session.scalar(select(func.count()).select_from(ReportStanding)) == enrolments == counts.enrollments
        assert session.scalar(select(func.count()).select_from(ReportStale)) == 0
        cohorts = dict(session.execute(select(Cohort.name, Cohort.id)).all())
        assert sorted(cohorts) == ["Refresher 1", "Refresher 2", "Refresher 3", "scale-site-01 class",
                                   "scale-site-02 class", "scale-site-03 class"]
        assert session.scalar(select(func.count()).select_from(CohortCourse)) == 3 * 2
        members = session.scalar(select(func.count()).select_from(CohortMember)
                                 .where(CohortMember.cohort_id == cohorts["Refresher 1"]))
        assert members == 3  # 5 % of 60

    with app.test_request_context():
        # The standings the seed computed in bulk count what the reference rules count from the same facts.
        names = queries.lookups()
        reference = aggregate.fold(list(queries.facts(queries.Filters())), aggregate.DIMENSIONS)
        counted = queries.summary(queries.Filters(), aggregate.DIMENSIONS, names).report
        assert counted.groups.keys() == reference.groups.keys() and counted.total.enrolled == enrolments
        for key, stats in counted.groups.items():  # sums of floats may differ in the last digit
            assert stats.score_sum == pytest.approx(reference.groups[key].score_sum)
            stats.score_sum = reference.groups[key].score_sum
            assert stats == reference.groups[key]
        # A site class covers its members' rows in the courses it assigned.
        site_class = cohorts["scale-site-01 class"]
        table = exports.build("completions", queries.Filters(cohort_id=site_class))
        cohort_column = table.header.index("Cohort")
        cells = {row[cohort_column] for row in table.rows}
        assert cells and all("scale-site-01 class" in cell for cell in cells)
