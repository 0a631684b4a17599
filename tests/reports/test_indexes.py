"""Every report filter can be served by an index, on SQLite and PostgreSQL (checked with EXPLAIN).

For each filter, the real statement the reports run is compiled with that filter alone and explained:
``EXPLAIN QUERY PLAN`` on SQLite (its plan names the index it searches with), ``EXPLAIN (FORMAT JSON)`` on
PostgreSQL with ``enable_seqscan`` off for the transaction, so that on tables this small the plan shows
whether an index *can* serve the filter rather than what is cheapest for a dozen rows. The expected indexes
are named, so the test fails when one is dropped or a filter is rewritten into a form no index can serve
(``test_the_check_fails_when_the_index_is_missing`` proves that it would).
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from cbt.reports import aggregate, queries, standings

PERIOD = aggregate.Period(date(2026, 1, 1), date(2026, 3, 31))

#: filter -> (Filters arguments, needs of the facts statement, needs of the attempts statement). A need is a
#: set of indexes of which the plan must use one; each need serves a different part of the filter.
CASES: dict[str, tuple[dict[str, Any], list[set[str]], list[set[str]]]] = {
    "period": ({"period": PERIOD},
               [{"ix_report_standings_enrolled_at"}, {"ix_report_standings_started_at"},
                {"ix_report_standings_completed_at"}, {"ix_report_standings_exam_passed_at"}],
               [{"ix_attempts_started_at"}]),
    "course": ({"course_id": 1}, [{"ix_report_standings_summary"}], [{"ix_attempts_course_version_id"}]),
    "site": ({"site_id": 1}, [{"ix_report_standings_site_id"}], [{"ix_users_site_id"}]),
    "agency": ({"agency_id": 1}, [{"ix_report_standings_agency_id"}], [{"ix_users_agency_id"}]),
    "country": ({"country_id": 1}, [{"ix_sites_country_id"}, {"ix_agencies_country_id"}],
                [{"ix_sites_country_id"}, {"ix_agencies_country_id"}]),
    "cohort": ({"cohort_id": 1},
               [{"uq_cohort_members_cohort_id_user_id"}, {"uq_cohort_courses_cohort_id_course_id"}],
               [{"uq_cohort_members_cohort_id_user_id"}, {"uq_cohort_courses_cohort_id_course_id"}]),
    "user": ({"user_id": 1}, [{"pk_report_standings"}],
             [{"ix_attempts_user_status", "uq_attempts_user_id_quiz_id_number"}]),
}

#: Makes each EXPLAIN's text unique: sqlite3 reuses a prepared statement for the same text, plan included.
_counter = itertools.count()


def _sql(statement: Any, connection: Any) -> str:
    return str(statement.compile(connection, compile_kwargs={"literal_binds": True}))


def _sqlite_names(connection: Any) -> dict[str, str]:
    """SQLite calls the indexes behind UNIQUE and composite PRIMARY KEY constraints ``sqlite_autoindex_*``:
    map them to the names the constraints have in the models (``uq_<table>_<columns>``, ``pk_<table>``)."""
    names = {}
    tables = [t for (t,) in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for _seq, name, _unique, origin, _partial in connection.exec_driver_sql(f'PRAGMA index_list("{table}")'):
            if name.startswith("sqlite_autoindex_"):
                columns = [c for _n, _cid, c in connection.exec_driver_sql(f'PRAGMA index_info("{name}")')]
                names[name] = f"pk_{table}" if origin == "pk" else f"uq_{table}_{'_'.join(columns)}"
    return names


def indexes_used(connection: Any, statement: Any) -> set[str]:
    """Names of the indexes the plan of ``statement`` searches or scans with."""
    sql = _sql(statement, connection)
    if connection.dialect.name == "sqlite":
        names, used = _sqlite_names(connection), set()
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN /* {next(_counter)} */ {sql}")
        for _id, _parent, _unused, detail in plan:
            words = detail.split()
            if "INDEX" in words and "AUTOMATIC" not in words:
                name = words[words.index("INDEX") + 1]
                used.add(names.get(name, name))
        return used
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    used = set()

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
            used.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return used


def unmet(needs: list[set[str]], used: set[str]) -> list[set[str]]:
    return [need for need in needs if not need & used]


def _statements(filters: queries.Filters) -> tuple[Any, Any]:
    return queries.summary_statement(filters), queries.attempts_statement(filters)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_report_filter_is_served_by_an_index(app, name):
    arguments, facts_needs, attempts_needs = CASES[name]
    from cbt.db import session

    with app.app_context():
        facts_statement, attempts_statement = _statements(queries.Filters(**arguments))
        connection = session.connection()
        try:
            assert unmet(facts_needs, indexes_used(connection, facts_statement)) == [], name
            assert unmet(attempts_needs, indexes_used(connection, attempts_statement)) == [], name
        finally:
            session.rollback()


def test_other_report_statements_use_indexes(app):
    """The trainee list, the month chart and the recomputation of stale trainees read through indexes too."""
    from sqlalchemy import select

    from cbt.db import session
    from cbt.reports.models import ReportStale

    with app.app_context():
        connection = session.connection()
        try:
            assert "ix_report_standings_summary" in indexes_used(
                connection, queries.facts_statement(queries.Filters(course_id=1)))
            assert "ix_report_standings_completed_at" in indexes_used(
                connection, queries.months_statement(queries.Filters(period=PERIOD)))
            used = indexes_used(connection, standings.standings_select(select(ReportStale.user_id)))
            assert unmet([{"ix_attempts_user_status", "uq_attempts_user_id_quiz_id_number"},
                          {"uq_lesson_progress_user_id_lesson_id"},
                          {"ix_enrollments_user_id", "uq_enrollments_user_id_course_id"}], used) == []
        finally:
            session.rollback()


def test_the_check_fails_when_the_index_is_missing(app):
    """Drop an index inside a transaction: the same check no longer finds it (then everything is rolled back)."""
    from cbt.db import session

    with app.app_context():
        connection = session.connection()
        try:
            facts_statement, attempts_statement = _statements(queries.Filters(agency_id=1))
            assert "ix_report_standings_agency_id" in indexes_used(connection, facts_statement)
            assert "ix_users_agency_id" in indexes_used(connection, attempts_statement)
            connection.execute(text("DROP INDEX ix_report_standings_agency_id"))
            connection.execute(text("DROP INDEX ix_users_agency_id"))
            assert "ix_report_standings_agency_id" not in indexes_used(connection, facts_statement)
            assert "ix_users_agency_id" not in indexes_used(connection, attempts_statement)
        finally:
            session.rollback()
